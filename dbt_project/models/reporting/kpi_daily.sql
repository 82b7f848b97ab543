{#-
  kpi_daily: contact-center KPIs per reporting-zone day x provider x connection, each with its
  fidelity (native | derived | unavailable, from the coverage of the uc_call columns it needs); a KPI
  is NULL where its fidelity is unavailable. Calls known only from their recordings (8x8) say nothing
  of the calls nobody answered: for them offered, abandoned and missed counts, abandonment, service
  level, ASA and the missed breakdown are unavailable. Missed calls are broken down by
  `missed_reason_group`, one vocabulary for every provider. Definitions are in _reporting.yml.
  Incremental by `day`.
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
{%- set short = var('short_abandon_threshold_s') | int %}

with calls as (
    {{ reporting_calls(touched) }}
),

fidelity as (
    {{ reporting_fidelity([
        ('asa', ['type', 'outcome', 'wait_s']),
        ('abandonment_rate', ['type', 'outcome']),
        ('adjusted_abandonment_rate', ['type', 'outcome', 'wait_s']),
        ('service_level', ['type', 'outcome', 'wait_s']),
        ('aht', ['type', 'outcome', 'talk_s', 'hold_s', 'wrap_up_s']),
        ('offered', ['type', 'outcome']),
        ('missed_by_reason', ['type', 'outcome', 'missed_reason_group']),
    ]) }}
),

totals as (
    select
        day,
        provider,
        connection_id,
        count(*) filter (where is_offered) as offered_calls,
        count(*) filter (where is_handled) as answered_calls,
        count(*) filter (where is_offered and outcome = 'ABANDONED') as abandoned_calls,
        count(*) filter (where is_offered and outcome = 'ABANDONED' and wait_s < {{ short }}) as short_abandoned_calls,
        count(*) filter (where is_handled and wait_s <= {{ sl }}) as answered_within_threshold_calls,
        count(*) filter (where is_offered and outcome <> 'ANSWERED') as missed_calls,
        avg(wait_s) filter (where is_handled) as asa_raw,
        avg(talk_s + hold_s + wrap_up_s) filter (where is_handled) as aht_raw,
        bool_or(is_from_recordings) as is_from_recordings
    from calls
    group by day, provider, connection_id
),

missed as (
    -- keys ordered (most missed first) so that a rebuild gives the same text
    select
        day, provider, connection_id,
        to_json(map(list(reason order by calls desc, reason), list(calls order by calls desc, reason)))
            as missed_by_reason
    from (
        select day, provider, connection_id, coalesce(missed_reason_group, 'OTHER') as reason, count(*) as calls
        from calls
        where is_offered and outcome <> 'ANSWERED'
        group by all
    )
    group by day, provider, connection_id
),

flagged as (
    select
        t.*,
        m.missed_by_reason,
        {%- for kpi in ['asa', 'abandonment_rate', 'adjusted_abandonment_rate', 'service_level', 'offered', 'missed_by_reason'] %}
        case when t.is_from_recordings then 'unavailable' else coalesce(f.{{ kpi }}_fidelity, 'unavailable') end
            as {{ kpi }}_fidelity,
        {%- endfor %}
        coalesce(f.aht_fidelity, 'unavailable') as aht_fidelity
    from totals as t
    left join missed as m using (day, provider, connection_id)
    left join fidelity as f using (provider)
)

select
    day,
    provider,
    connection_id,
    case when offered_fidelity <> 'unavailable' then offered_calls end as offered_calls,
    answered_calls,
    case when offered_fidelity <> 'unavailable' then abandoned_calls end as abandoned_calls,
    offered_fidelity,
    case when adjusted_abandonment_rate_fidelity <> 'unavailable' then short_abandoned_calls end
        as short_abandoned_calls,
    case when service_level_fidelity <> 'unavailable' then answered_within_threshold_calls end
        as answered_within_threshold_calls,
    case when asa_fidelity <> 'unavailable' then asa_raw end as asa_s,
    asa_fidelity,
    case when abandonment_rate_fidelity <> 'unavailable' then abandoned_calls / nullif(offered_calls, 0) end
        as abandonment_rate,
    abandonment_rate_fidelity,
    case when adjusted_abandonment_rate_fidelity <> 'unavailable'
        then (abandoned_calls - short_abandoned_calls) / nullif(offered_calls - short_abandoned_calls, 0) end
        as adjusted_abandonment_rate,
    adjusted_abandonment_rate_fidelity,
    case when service_level_fidelity <> 'unavailable'
        then answered_within_threshold_calls / nullif(offered_calls, 0) end as service_level,
    service_level_fidelity,
    case when aht_fidelity <> 'unavailable' then aht_raw end as aht_s,
    aht_fidelity,
    case when offered_fidelity <> 'unavailable' then missed_calls end as missed_calls,
    case when missed_by_reason_fidelity <> 'unavailable' then coalesce(missed_by_reason, '{}'::json) end
        as missed_by_reason,
    missed_by_reason_fidelity,
    {{ sl }} as service_level_threshold_s,
    {{ short }} as short_abandon_threshold_s,
    '{{ reporting_tz() }}' as reporting_timezone,
    {{ reporting_watermark() }} as _uc_loaded_at
from flagged
