{#-
  queue_daily: contact-center KPIs per reporting-zone day x provider x connection x queue (uc_call.
  queue_id, the inbound calls that came through a queue, team, group, department or line), with the
  queue's name and kind from uc_queue: offered, answered, abandoned, service level, ASA and AHT, each
  NULL where its fidelity (from the coverage of the uc_call columns it needs) is unavailable, as in
  kpi_daily. Calls without a queue are not in it. Names are uc_queue's current ones when the day was
  built. Incremental by `day`.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ reporting_replace_touched_days() }}",
    on_schema_change='fail',
    tags=['partitioned'],
) }}

{%- set touched = reporting_touched_days() %}
{%- set sl = var('service_level_threshold_s') | int %}

with calls as (
    {{ reporting_calls(touched) }}
),

fidelity as (
    {{ reporting_fidelity([
        ('offered', ['type', 'outcome', 'queue_id']),
        ('asa', ['type', 'outcome', 'queue_id', 'wait_s']),
        ('service_level', ['type', 'outcome', 'queue_id', 'wait_s']),
        ('aht', ['type', 'outcome', 'queue_id', 'talk_s', 'hold_s', 'wrap_up_s']),
    ]) }}
),

totals as (
    select
        day,
        provider,
        connection_id,
        queue_id,
        max(queue_name) as call_queue_name,
        count(*) filter (where is_offered) as offered_calls,
        count(*) filter (where is_handled) as answered_calls,
        count(*) filter (where is_offered and outcome = 'ABANDONED') as abandoned_calls,
        count(*) filter (where is_handled and wait_s <= {{ sl }}) as answered_within_threshold_calls,
        avg(wait_s) filter (where is_handled) as asa_raw,
        avg(talk_s + hold_s + wrap_up_s) filter (where is_handled) as aht_raw,
        bool_or(is_from_recordings) as is_from_recordings
    from calls
    where queue_id is not null and type = 'INBOUND'
    group by day, provider, connection_id, queue_id
),

flagged as (
    select
        t.*,
        {%- for kpi in ['offered', 'asa', 'service_level'] %}
        case when t.is_from_recordings then 'unavailable' else coalesce(f.{{ kpi }}_fidelity, 'unavailable') end
            as {{ kpi }}_fidelity,
        {%- endfor %}
        coalesce(f.aht_fidelity, 'unavailable') as aht_fidelity
    from totals as t
    left join fidelity as f using (provider)
)

select
    t.day,
    t.provider,
    t.connection_id,
    t.queue_id,
    coalesce(q.name, t.call_queue_name) as queue_name,
    q.kind as queue_kind,
    case when offered_fidelity <> 'unavailable' then offered_calls end as offered_calls,
    answered_calls,
    case when offered_fidelity <> 'unavailable' then abandoned_calls end as abandoned_calls,
    offered_fidelity,
    case when service_level_fidelity <> 'unavailable' then answered_within_threshold_calls end
        as answered_within_threshold_calls,
    case when service_level_fidelity <> 'unavailable'
        then answered_within_threshold_calls / nullif(offered_calls, 0) end as service_level,
    service_level_fidelity,
    case when asa_fidelity <> 'unavailable' then asa_raw end as asa_s,
    asa_fidelity,
    case when aht_fidelity <> 'unavailable' then aht_raw end as aht_s,
    aht_fidelity,
    {{ sl }} as service_level_threshold_s,
    '{{ reporting_tz() }}' as reporting_timezone,
    {{ reporting_watermark() }} as _uc_loaded_at
from flagged as t
left join {{ ref('uc_queue') }} as q on q.id = t.queue_id
