{#-
  calls_hour_of_week: the weekly heatmap (ISO day of week x local clock hour) per provider x
  connection x direction, over all history. A view over calls_hourly: at most 168 cells per group, so
  it is always current without a rebuild.
-#}
{{ config(materialized='view', tags=['unpartitioned']) }}

with hourly as (
    select * from {{ ref('calls_hourly') }}
),

weekdays as (
    -- how many of each weekday the history covers, so that busy and quiet weeks average out
    select provider, connection_id, direction, day_of_week, count(distinct day) as days_observed
    from hourly
    group by all
)

select
    h.provider,
    h.connection_id,
    h.direction,
    h.day_of_week,
    h.hour,
    sum(h.calls) as calls,
    sum(h.answered_calls) as answered_calls,
    sum(h.offered_calls) as offered_calls,
    sum(h.abandoned_calls) as abandoned_calls,
    any_value(w.days_observed) as days_observed,
    sum(h.calls) / any_value(w.days_observed) as calls_per_day_avg
from hourly as h
inner join weekdays as w using (provider, connection_id, direction, day_of_week)
group by h.provider, h.connection_id, h.direction, h.day_of_week, h.hour
