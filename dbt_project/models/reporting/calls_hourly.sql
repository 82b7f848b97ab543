{#-
  calls_hourly: call volumes per reporting-zone day x local clock hour x provider x connection x
  direction; the base of the calls_hour_of_week heatmap. Answered, offered and abandoned follow
  kpi_daily's definitions (inbound calls only); offered and abandoned are NULL for calls known only
  from recordings (8x8), which cannot tell them. Incremental by `day`.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ reporting_replace_touched_days() }}",
    on_schema_change='fail',
    tags=['partitioned'],
) }}

{%- set touched = reporting_touched_days() %}

with calls as (
    {{ reporting_calls(touched) }}
)

select
    day,
    hour,
    cast(isodow(day) as integer) as day_of_week,
    provider,
    connection_id,
    type as direction,
    count(*) as calls,
    count(*) filter (where is_handled) as answered_calls,
    case when not bool_or(is_from_recordings) then count(*) filter (where is_offered) end as offered_calls,
    case when not bool_or(is_from_recordings) then count(*) filter (where is_offered and outcome = 'ABANDONED') end
        as abandoned_calls,
    '{{ reporting_tz() }}' as reporting_timezone,
    {{ reporting_watermark() }} as _uc_loaded_at
from calls
group by day, hour, provider, connection_id, type
