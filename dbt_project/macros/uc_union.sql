{#-
  The unified `uc_*` models as the union of every provider's staging model.

  uc_columns(model_name)  the contract's columns (dbt_project/README.md) with their types, in order.
  uc_union(model_name, tracking=[])
                          `union all` of stg_<provider>__<model_name> over var('providers'), every
                          column cast to the contract type so that providers cannot drift apart, then
                          the `tracking` columns, (name, type) pairs that are not in the contract
                          (`_loaded_at`: the uc_call, uc_recording and uc_comment views are this union
                          over the per-provider incremental tables).
-#}

{% macro uc_columns(model_name) -%}
    {%- set columns = {
        'uc_call': [
            ('id', 'varchar'), ('provider', 'varchar'), ('connection_id', 'varchar'), ('source_id', 'varchar'),
            ('created_at', 'timestamptz'), ('updated_at', 'timestamptz'), ('start_at', 'timestamptz'),
            ('answered_at', 'timestamptz'), ('end_at', 'timestamptz'), ('call_date', 'date'),
            ('type', 'varchar'), ('telephone', 'varchar'), ('user_id', 'varchar'), ('user_name', 'varchar'),
            ('user_phone', 'varchar'), ('contact_id', 'varchar'), ('is_private', 'boolean'),
            ('outcome', 'varchar'), ('missed_reason', 'varchar'), ('missed_reason_group', 'varchar'),
            ('queue_id', 'varchar'),
            ('queue_name', 'varchar'), ('wait_s', 'integer'), ('talk_s', 'integer'), ('hold_s', 'integer'),
            ('wrap_up_s', 'integer'), ('duration_s', 'integer'), ('has_recording', 'boolean'),
            ('transfer_count', 'integer'), ('record_source', 'varchar'), ('_extracted_at', 'timestamptz'),
        ],
        'uc_recording': [
            ('id', 'varchar'), ('provider', 'varchar'), ('connection_id', 'varchar'), ('source_id', 'varchar'),
            ('call_id', 'varchar'), ('contact_id', 'varchar'), ('user_id', 'varchar'), ('user_name', 'varchar'),
            ('start_at', 'timestamptz'), ('end_at', 'timestamptz'), ('duration_s', 'integer'),
            ('type', 'varchar'), ('kind', 'varchar'), ('web_url', 'varchar'), ('created_at', 'timestamptz'),
            ('updated_at', 'timestamptz'), ('_extracted_at', 'timestamptz'),
        ],
        'uc_contact': [
            ('id', 'varchar'), ('provider', 'varchar'), ('connection_id', 'varchar'), ('source_id', 'varchar'),
            ('name', 'varchar'), ('first_name', 'varchar'), ('last_name', 'varchar'), ('title', 'varchar'),
            ('company', 'varchar'), ('email', 'varchar'), ('telephone', 'varchar'),
            ('created_at', 'timestamptz'), ('updated_at', 'timestamptz'), ('_extracted_at', 'timestamptz'),
        ],
        'uc_comment': [
            ('id', 'varchar'), ('provider', 'varchar'), ('connection_id', 'varchar'), ('source_id', 'varchar'),
            ('call_id', 'varchar'), ('content', 'varchar'), ('user_id', 'varchar'),
            ('created_at', 'timestamptz'), ('updated_at', 'timestamptz'), ('_extracted_at', 'timestamptz'),
        ],
        'uc_user': [
            ('id', 'varchar'), ('provider', 'varchar'), ('connection_id', 'varchar'), ('source_id', 'varchar'),
            ('name', 'varchar'), ('email', 'varchar'), ('phone', 'varchar'), ('extension', 'varchar'),
            ('_extracted_at', 'timestamptz'),
        ],
    } -%}
    {%- if model_name not in columns -%}
        {{ exceptions.raise_compiler_error(
            "uc_columns: unknown unified model '" ~ model_name ~ "'; expected one of " ~ (columns.keys() | list)) }}
    {%- endif -%}
    {{ return(columns[model_name]) }}
{%- endmacro %}

{% macro uc_union(model_name, tracking=[]) -%}
    {%- set providers = var('providers') -%}
    {%- if providers | length == 0 -%}
        {{ exceptions.raise_compiler_error("var('providers') is empty: list the provider ids to unify in dbt_project.yml") }}
    {%- endif -%}
    {%- for provider in providers %}
    select
        {%- for name, type in uc_columns(model_name) + tracking %}
        cast({{ adapter.quote(name) }} as {{ type }}) as {{ adapter.quote(name) }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('stg_' ~ provider ~ '__' ~ model_name) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- A provider's staging model for data the provider does not have: the contract's columns, no rows. -#}
{% macro uc_no_rows(model_name, provider) -%}
select
    {%- for name, type in uc_columns(model_name) %}
    {% if name == 'provider' %}'{{ provider }}'{% else %}cast(null as {{ type }}){% endif %} as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %},
    cast(null as timestamptz) as _loaded_at
where false
{%- endmacro %}

{#- uc_incremental_dimension(model_name): an incremental `uc_*` dimension (uc_user, uc_contact), one row
    per id. The provider models yield what the run's window landed; a row already stored for the same
    id competes with it, and the latest `_extracted_at` wins (the new row on a tie), so re-running an
    old day never replaces a newer version. `_loaded_at` is the run's start. -#}
{% macro uc_incremental_dimension(model_name) -%}
with staged as (
    {{ uc_union(model_name) }}
),

candidates as (
    select *, 1 as _priority from staged
    {%- if is_incremental() %}
    union all by name
    select existing.* exclude (_loaded_at), 0 as _priority
    from {{ this }} as existing
    where existing.id in (select id from staged)
    {%- endif %}
)

select
    * exclude (_priority),
    {{ staging_loaded_at() }} as _loaded_at
from candidates
qualify row_number() over (partition by id order by _extracted_at desc nulls last, _priority desc) = 1
{%- endmacro %}
