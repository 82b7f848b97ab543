{#-
  RingCentral calls in the unified `uc_call` shape: one row per telephony session (`sessionId`) — a
  call can span several call-log records and, in the Detailed view, several legs (the caller's master
  leg, the leg that rang the agent, transfers). Fax records are not calls and are left out, as are
  deleted records.

  From the legs: the agent is the extension of the first non-master `Accept` leg (the leg that rang
  the agent; its start is the answer time when its result is Accepted); transfers are the
  `TransferCall` legs. Without legs (Simple view) answer time, agent of an inbound call and
  transfers are unknown.

  Enums come from seeds/ringcentral/ringcentral_enums.csv (macros/uc_enums.sql): a value not in it is
  UNKNOWN and listed in `_unknown_enums` (with the session's unknown leg types). Outcome from the
  seed's meaning of the call-log `result` (Accepted / Call connected -> ANSWERED, for the session when
  any of its records was answered; Voicemail -> VOICEMAIL; Missed / No Answer / Rejected / Answered
  Not Accepted -> MISSED; Hang Up / Abandoned / Stopped -> ABANDONED; Busy -> BUSY; Blocked ->
  BLOCKED; the failures -> FAILED; In Progress, Unknown, fax results and values the seed does not
  know -> UNKNOWN). Records whose `type` the seed calls NOT_A_CALL (Fax) are left out, as are
  deleted records. `missed_reason` = the record's `reason` (e.g. `Hang Up`, `No Answer`), else its
  `result`, when not answered; `missed_reason_group` the seed's group of that reason (of the result
  when there is no reason). Direction: INTERNAL when both parties are extensions.
  Times: wait = start -> answer (inbound), or the whole call when an inbound call was not answered;
  talk = answer -> end, which includes hold (RingCentral reports no hold time). The queue is the
  extension an inbound call was dialled to when another extension (the agent) took it.
  `user_phone` is the agent's extension number only: the `to.phoneNumber` of the agent's leg is the
  number the caller dialled (the company's main or toll-free line), and an outbound call's
  `from.phoneNumber` is the caller id shown, not a number of the agent.

  Incremental by session: a run recomputes the sessions that have a record staged since it last ran,
  from all of their records (whatever day those landed); a session whose start moves to another day
  keeps the days it left in `_previous_call_dates`.
-#}
{{ config(
    tags=['partitioned'],
    materialized='incremental',
    unique_key='id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

{#- the fields a session takes from its first record -#}
{%- set session_first_record = [
    'record_outcome', 'record_missed_group', 'reason', 'result', 'direction', 'direction_meaning', 'from_extension_number', 'to_extension_number',
    'from_phone_number', 'to_phone_number', 'from_extension_id', 'to_extension_id', 'extension_id',
    'from_name', 'to_name',
] %}

with records as (
    select
        cl.*,
        coalesce(cl.session_id, cl.record_id) as call_key,
        cl.start_time + to_milliseconds(coalesce(cl.duration_ms, cast(cl.duration as bigint) * 1000)) as end_time,
        case when cl.result is null then 'UNKNOWN' else coalesce(res.meaning, 'UNKNOWN') end as record_outcome,
        case
            when cl.reason is not null and rs.meaning is null then 'UNKNOWN'
            when cl.result is not null and res.meaning is null then 'UNKNOWN'
            else coalesce(rs.missed_reason_group, res.missed_reason_group)
        end as record_missed_group,
        dr.meaning as direction_meaning,
        nullif(list_concat(
            coalesce({{ uc_unknown_enums([
                ('result', 'cl.result', 'res.meaning is not null'),
                ('reason', 'cl.reason', 'rs.meaning is not null'),
                ('direction', 'cl.direction', 'dr.meaning is not null'),
                ('type', 'cl.record_type', 'ty.meaning is not null'),
            ]) }}, []),
            coalesce(list_transform(cl.unknown_leg_types, lambda t: {'field': 'leg_type', 'value': t}), [])
        ), []) as record_unknown_enums
    from {{ ref('stg_ringcentral__call_log') }} as cl
    left join {{ uc_enum('ringcentral', 'result') }} as res on res.value = cl.result
    left join {{ uc_enum('ringcentral', 'reason') }} as rs on rs.value = cl.reason
    left join {{ uc_enum('ringcentral', 'direction') }} as dr on dr.value = cl.direction
    left join {{ uc_enum('ringcentral', 'type') }} as ty on ty.value = cl.record_type
    where ty.meaning is distinct from 'NOT_A_CALL' and not coalesce(cl.deleted, false)
    {%- if is_incremental() %}
      -- every record of a session that has a record staged since the last run
      {%- set session_key = 'connection_id, coalesce(session_id, record_id)' %}
      and {{ staging_rows_of_changed_keys(ref('stg_ringcentral__call_log'), session_key) }}
    {%- endif %}
),

legs as (
    select connection_id, call_key, unnest(agent_legs) as leg
    from records
    where agent_legs is not null
),

-- The first accepting leg and the first record of each session are picked by arg_min aggregates: a
-- window sort carried every column of every record (legs included) through the sort.
agent_leg as (
    select connection_id, call_key, agent.*
    from (
        select
            connection_id,
            call_key,
            arg_min(
                {
                    'ext_id': leg.extension_id,
                    'ext_name': leg.to_name,
                    'ext_phone': leg.to_extension_number,
                    'answered_at': case when leg.result in (select value from {{ uc_enum('ringcentral', 'result') }} where meaning = 'ANSWERED')
                        then leg.start_time end
                },
                (leg.start_time, leg.leg_index)
            ) as agent
        from legs
        where leg.leg_type in (select value from {{ uc_enum('ringcentral', 'leg_type') }} where meaning = 'AGENT')
        group by all
    )
),

-- Most sessions are one record, which is then the session as it is: only the sessions of several
-- records go through the aggregate, whose per-session states cost ten times finding those sessions.
-- The keys match with `is not distinct from`, so records with neither id stay one session, as the
-- aggregate groups them.
several_records as (
    select connection_id, call_key from records group by all having count(*) > 1
),

sessions as (
    select
        r.connection_id,
        r.call_key,
        r.start_time as start_at,
        r.end_time as end_at,
        r.last_modified_time as updated_at,
        r.record_outcome = 'ANSWERED' as any_answered,
        r.recording_id is not null as has_recording,
        cast(r.transfer_legs as bigint) as transfer_legs,
        r.record_unknown_enums as _unknown_enums,
        r._extracted_at,
        {%- for column in session_first_record %}
        r.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from records as r
    anti join several_records as several
        on several.connection_id = r.connection_id and several.call_key is not distinct from r.call_key
    union all by name
    select * exclude (first_record), first_record.*
    from (
        select
            r.connection_id,
            r.call_key,
            min(r.start_time) as start_at,
            max(r.end_time) as end_at,
            max(r.last_modified_time) as updated_at,
            bool_or(r.record_outcome = 'ANSWERED') as any_answered,
            bool_or(r.recording_id is not null) as has_recording,
            -- NULL when no record of the session has legs (Simple view): transfers unknown
            cast(sum(r.transfer_legs) as bigint) as transfer_legs,
            max(r._extracted_at) as _extracted_at,
            nullif(list_distinct(flatten(list(r.record_unknown_enums))), []) as _unknown_enums,
            arg_min(
                {
                    {%- for column in session_first_record %}
                    '{{ column }}': r.{{ column }}{{ ',' if not loop.last }}
                    {%- endfor %}
                },
                (r.start_time, r.record_id)
            ) as first_record
        from records as r
        semi join several_records as several
            on several.connection_id = r.connection_id and several.call_key is not distinct from r.call_key
        group by r.connection_id, r.call_key
    )
),

session_calls as (
    select
        s.connection_id,
        s.call_key,
        s.start_at,
        s.end_at,
        s.updated_at,
        s.has_recording,
        s._extracted_at,
        s._unknown_enums,
        s.record_missed_group,
        case when s.any_answered then 'ANSWERED' else s.record_outcome end as outcome,
        s.reason,
        s.result,
        case
            when s.from_extension_number is not null and s.to_extension_number is not null then 'INTERNAL'
            else coalesce(s.direction_meaning, 'UNKNOWN')
        end as type,
        case when s.direction = 'Inbound' then s.from_phone_number else s.to_phone_number end as telephone,
        case
            when s.direction = 'Outbound' then coalesce(s.from_extension_id, s.extension_id)
            else a.ext_id
        end as user_ext_id,
        case when s.direction = 'Outbound' then s.from_name else a.ext_name end as user_name,
        case when s.direction = 'Outbound' then s.from_extension_number else a.ext_phone end as user_phone,
        case when s.direction = 'Inbound' and s.to_extension_id is distinct from a.ext_id then s.to_extension_id end
            as queue_ext_id,
        case
            when s.direction = 'Inbound' and s.to_extension_id is not null and s.to_extension_id is distinct from a.ext_id
                then s.to_name
        end as queue_name,
        case when s.any_answered then a.answered_at end as answered_at,
        s.direction,
        cast(s.transfer_legs as integer) as transfer_count
    from sessions as s
    left join agent_leg as a using (connection_id, call_key)
),

rebuilt as (
    select
        {{ staging_uc_id('ringcentral', 'connection_id', 'call_key') }} as id,
        'ringcentral' as provider,
        connection_id,
        call_key as source_id,
        cast(null as timestamptz) as created_at,
        updated_at,
        start_at,
        answered_at,
        end_at,
        cast(start_at as date) as call_date,
        type,
        telephone,
        {{ staging_uc_id('ringcentral', 'connection_id', 'user_ext_id') }} as user_id,
        user_name,
        user_phone,
        cast(null as varchar) as contact_id,
        cast(null as boolean) as is_private,
        outcome,
        case when outcome <> 'ANSWERED' and (outcome <> 'UNKNOWN' or record_missed_group = 'UNKNOWN')
            then coalesce(reason, result) end as missed_reason,
        {{ uc_missed_reason_group('outcome', 'record_missed_group') }} as missed_reason_group,
        {{ staging_uc_id('ringcentral', 'connection_id', 'queue_ext_id') }} as queue_id,
        queue_name,
        case
            when answered_at is not null and direction = 'Inbound' then {{ staging_seconds('answered_at', 'start_at') }}
            when outcome <> 'ANSWERED' and direction = 'Inbound' then {{ staging_seconds('end_at', 'start_at') }}
        end as wait_s,
        case
            when answered_at is not null then {{ staging_seconds('end_at', 'answered_at') }}
            when outcome not in ('ANSWERED', 'UNKNOWN') then 0
        end as talk_s,
        cast(null as integer) as hold_s,
        cast(null as integer) as wrap_up_s,
        {{ staging_seconds('end_at', 'start_at') }} as duration_s,
        has_recording,
        cast(transfer_count as integer) as transfer_count,
        'call_log' as record_source,
        _extracted_at,
        _unknown_enums,
        {{ staging_loaded_at() }} as _loaded_at
    from session_calls
)

{{ staging_previous_call_dates('rebuilt') }}
