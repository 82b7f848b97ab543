{#-
  agent_daily: per reporting-zone day x provider x connection x agent: inbound calls handled, talk,
  hold and after-call work, AHT (NULL where the provider does not supply the times), outbound calls.
  The agent's name is uc_user's (the directory's current name when the day was built), else the
  calls'. Incremental by `day`.
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
),

fidelity as (
    {{ reporting_fidelity([
        ('talk', ['type', 'outcome', 'user_id', 'talk_s']),
        ('hold', ['type', 'outcome', 'user_id', 'hold_s']),
        ('wrap_up', ['type', 'outcome', 'user_id', 'wrap_up_s']),
        ('aht', ['type', 'outcome', 'user_id', 'talk_s', 'hold_s', 'wrap_up_s']),
    ]) }}
),

agents as (
    select
        day,
        provider,
        connection_id,
        user_id,
        max(user_name) as user_name,
        count(*) filter (where is_handled) as handled_calls,
        sum(talk_s) filter (where is_handled) as talk_s_sum,
        sum(hold_s) filter (where is_handled) as hold_s_sum,
        sum(wrap_up_s) filter (where is_handled) as wrap_up_s_sum,
        avg(talk_s + hold_s + wrap_up_s) filter (where is_handled) as aht_raw,
        count(*) filter (where type = 'OUTBOUND') as outbound_calls,
        count(*) filter (where type = 'OUTBOUND' and outcome = 'ANSWERED') as outbound_answered_calls,
        sum(talk_s) filter (where type = 'OUTBOUND' and outcome = 'ANSWERED') as outbound_talk_s_sum
    from calls
    where user_id is not null
    group by day, provider, connection_id, user_id
)

select
    a.day,
    a.provider,
    a.connection_id,
    a.user_id,
    coalesce(u.name, a.user_name) as user_name,
    a.handled_calls,
    case when coalesce(f.talk_fidelity, 'unavailable') <> 'unavailable' then a.talk_s_sum end as talk_s_sum,
    coalesce(f.talk_fidelity, 'unavailable') as talk_fidelity,
    case when coalesce(f.hold_fidelity, 'unavailable') <> 'unavailable' then a.hold_s_sum end as hold_s_sum,
    coalesce(f.hold_fidelity, 'unavailable') as hold_fidelity,
    case when coalesce(f.wrap_up_fidelity, 'unavailable') <> 'unavailable' then a.wrap_up_s_sum end as wrap_up_s_sum,
    coalesce(f.wrap_up_fidelity, 'unavailable') as wrap_up_fidelity,
    case when coalesce(f.aht_fidelity, 'unavailable') <> 'unavailable' then a.aht_raw end as aht_s,
    coalesce(f.aht_fidelity, 'unavailable') as aht_fidelity,
    a.outbound_calls,
    a.outbound_answered_calls,
    case when coalesce(f.talk_fidelity, 'unavailable') <> 'unavailable' then a.outbound_talk_s_sum end
        as outbound_talk_s_sum,
    '{{ reporting_tz() }}' as reporting_timezone,
    {{ reporting_watermark() }} as _uc_loaded_at
from agents as a
left join fidelity as f using (provider)
left join {{ ref('uc_user') }} as u on u.id = a.user_id
