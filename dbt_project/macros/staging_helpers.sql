{#-
  Helpers of the provider staging models (models/staging/<provider>/).

  staging_keep_latest(relation, updated_column): the rows of `relation` (a CTE of one provider
  stream, keyed by `record_key`) keeping one version per key: the latest provider update time, then
  the latest `_extracted_at`, then the latest landing day. In an incremental run the rows already in
  the model for the same keys compete too, so re-running an old day never replaces a newer version
  that a later day brought (delete+insert then writes the winner back).

  staging_uc_id(provider, connection_column, source_id): the global id
  `<provider>:<connection_id>:<source id>`; NULL when the source id is NULL (no dangling references).

  staging_epoch(expr) / staging_iso(expr): provider times as UTC timestamptz (UNIX seconds / ISO-8601
  with `Z` or an offset). Empty strings, as XML/CSV renders missing values, become NULL; any other
  unparseable value fails the build (a changed provider format must be seen, not silently nulled).

  staging_seconds(later, earlier): whole seconds (floored) between two timestamptz values (NULL if either is).
-#}

{% macro staging_keep_latest(relation, updated_column) -%}
select * from (
    select * from {{ relation }}
    {%- if is_incremental() %}
    union all by name
    select existing.* from {{ this }} as existing
    where existing.record_key in (select record_key from {{ relation }})
    {%- endif %}
)
qualify row_number() over (
    partition by record_key
    order by {{ updated_column }} desc nulls last, _extracted_at desc nulls last, landed_date desc nulls last
) = 1
{%- endmacro %}

{% macro staging_uc_id(provider, connection_column, source_id) -%}
('{{ provider }}:' || {{ connection_column }} || ':' || cast({{ source_id }} as varchar))
{%- endmacro %}

{% macro staging_epoch(expr) -%}
to_timestamp(cast(nullif(cast({{ expr }} as varchar), '') as double))
{%- endmacro %}

{% macro staging_iso(expr) -%}
cast(nullif(trim(cast({{ expr }} as varchar)), '') as timestamptz)
{%- endmacro %}

{% macro staging_seconds(later, earlier) -%}
cast(floor(epoch({{ later }}) - epoch({{ earlier }})) as integer)
{%- endmacro %}


{#- 8x8 VCC call type from a recording's channel (vendor table): `#virtual_outbound#` is an outbound
    call; `#virtual_daa#` (direct agent access) and every dialled channel are inbound. -#}
{% macro staging_eightbyeight_call_type(channel) -%}
case when {{ channel }} = '#virtual_outbound#' then 'OUTBOUND' else 'INBOUND' end
{%- endmacro %}

{#- staging_landed_in_window(model_name): the rows of a provider staging model landed in the run's
    partition window (all of them without a window). The ephemeral stg_<provider>__uc_user /
    __uc_contact models read through it, so the uc_user and uc_contact tables merge in only what a
    partitioned run landed. -#}
{% macro staging_landed_in_window(model_name) -%}
(select * from {{ ref(model_name) }} where {{ landing_window_filter('landed_date') }})
{%- endmacro %}
