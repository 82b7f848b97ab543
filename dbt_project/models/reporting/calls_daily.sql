{#-
  calls_daily: call volumes and durations per reporting-zone day x provider x connection x direction
  x outcome x missed-reason group x queue. Incremental by `day`: a windowed run recomputes exactly the touched days.
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
    provider,
    connection_id,
    type as direction,
    outcome,
    missed_reason_group,
    queue_id,
    max(queue_name) as queue_name,
    count(*) as calls,
    count(*) filter (where outcome = 'ANSWERED') as answered_calls,
    sum(duration_s) as duration_s_sum,
    avg(duration_s) as duration_s_avg,
    sum(wait_s) as wait_s_sum,
    sum(talk_s) as talk_s_sum,
    sum(hold_s) as hold_s_sum,
    sum(wrap_up_s) as wrap_up_s_sum,
    '{{ reporting_tz() }}' as reporting_timezone,
    {{ reporting_watermark() }} as _uc_loaded_at
from calls
group by day, provider, connection_id, type, outcome, missed_reason_group, queue_id
