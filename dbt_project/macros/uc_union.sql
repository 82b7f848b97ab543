{#-
  The unified `uc_*` models as the union of every provider's staging model.

  uc_columns(model_name)  the contract's columns (dbt_project/README.md) with their types, in order.
                          Every provider `<id>` in uc_providers() has one staging model per entry:
                          stg_<id>__uc_call, __uc_recording, __uc_contact, __uc_comment, __uc_user (users
                          seen in calls and in the directory, current name), __uc_user_snapshot (one row per
                          user per directory snapshot: the history uc_user_history is built from) and
                          __uc_queue (queues, teams, groups, departments and lines the calls' `queue_id`
                          points at; `kind` one of queue | team | group | department | line; first/last
                          seen over the directory snapshots, `is_current` = in the connection's latest
                          one). A provider without a directory yields no rows (`uc_no_rows`) or derives
                          them from its calls, and says so in its coverage seed.
  uc_providers()          the providers this deployment builds: var('providers') (the registry), or those of
                          them that UC_PROVIDERS lists (comma-separated ids). dbt_project.yml leaves the
                          other providers' staging folders out with the same expression.
  uc_union(model_name, tracking=[])
                          `union all` of stg_<provider>__<model_name> over uc_providers(), every
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
            ('emails', 'struct(email varchar, "type" varchar)[]'),
            ('telephones', 'struct(telephone varchar, "type" varchar)[]'),
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
            ('role', 'varchar'), ('_extracted_at', 'timestamptz'),
        ],
        'uc_user_snapshot': [
            ('id', 'varchar'), ('provider', 'varchar'), ('connection_id', 'varchar'), ('source_id', 'varchar'),
            ('name', 'varchar'), ('email', 'varchar'), ('phone', 'varchar'), ('extension', 'varchar'),
            ('role', 'varchar'), ('snapshot_at', 'timestamptz'),
        ],
        'uc_queue': [
            ('id', 'varchar'), ('provider', 'varchar'), ('connection_id', 'varchar'), ('source_id', 'varchar'),
            ('name', 'varchar'), ('kind', 'varchar'), ('number', 'varchar'), ('extension', 'varchar'),
            ('first_seen_at', 'timestamptz'), ('last_seen_at', 'timestamptz'), ('is_current', 'boolean'),
            ('_extracted_at', 'timestamptz'),
        ],
    } -%}
    {%- if model_name not in columns -%}
        {{ exceptions.raise_compiler_error(
            "uc_columns: unknown unified model '" ~ model_name ~ "'; expected one of " ~ (columns.keys() | list)) }}
    {%- endif -%}
    {{ return(columns[model_name]) }}
{%- endmacro %}

{% macro uc_providers() -%}
    {%- set listed = env_var('UC_PROVIDERS', '') | replace(' ', '') -%}
    {%- if not listed -%}
        {{ return(var('providers')) }}
    {%- endif -%}
    {%- set wanted = listed.split(',') | reject('equalto', '') | list -%}
    {%- set unknown = wanted | reject('in', var('providers')) | list -%}
    {%- if unknown or not wanted -%}
        {{ exceptions.raise_compiler_error(
            "UC_PROVIDERS=" ~ listed ~ " names " ~ (("unknown provider(s) " ~ unknown | join(', ')) if unknown else "no provider")
            ~ ": list ids among " ~ var('providers') | join(', ') ~ ", comma-separated, or unset it to build all") }}
    {%- endif -%}
    {{ return(var('providers') | select('in', wanted) | list) }}
{%- endmacro %}

{% macro uc_union(model_name, tracking=[]) -%}
    {%- set providers = uc_providers() -%}
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

{#- uc_directory_merge(model_name, directory, seen): the rows of `directory` (entries of the provider's
    directory snapshots: the latest version of each) and `seen` (entries the landed calls name), two CTEs
    with the contract's columns, merged on `id`: the directory's value of every column where it has one,
    else what the calls say (an entry the directory never listed keeps its id and whatever name the calls
    carry); `_extracted_at` is the later of the two, so that the incremental dimension keeps the merged
    row over a stored one that only the calls had named. -#}
{% macro uc_directory_merge(model_name, directory, seen) -%}
select
    {%- for name, type in uc_columns(model_name) %}
    {%- if name == '_extracted_at' %}
    greatest(d._extracted_at, s._extracted_at) as _extracted_at{{ ',' if not loop.last }}
    {%- else %}
    coalesce(cast(d.{{ adapter.quote(name) }} as {{ type }}), cast(s.{{ adapter.quote(name) }} as {{ type }}))
        as {{ adapter.quote(name) }}{{ ',' if not loop.last }}
    {%- endif %}
    {%- endfor %}
from {{ directory }} as d
full outer join {{ seen }} as s on s.id = d.id
{%- endmacro %}

{#- uc_directory_latest(snapshots): one row per entry of a directory, from `snapshots` (a CTE with the
    contract columns of uc_queue, where `first_seen_at`/`last_seen_at` hold each row's own `snapshot_at`
    and `stream_latest_at` the connection's latest snapshot of the stream): the entry's latest version,
    first and last seen over every snapshot, and `is_current` when the latest snapshot still lists it. -#}
{% macro uc_directory_latest(snapshots) -%}
select
    * exclude (first_seen_at, last_seen_at, is_current, stream_latest_at),
    min(first_seen_at) over (partition by id) as first_seen_at,
    max(last_seen_at) over (partition by id) as last_seen_at,
    max(last_seen_at) over (partition by id) >= stream_latest_at as is_current,
    last_seen_at as _extracted_at
from {{ snapshots }}
qualify row_number() over (partition by id order by last_seen_at desc) = 1
{%- endmacro %}
