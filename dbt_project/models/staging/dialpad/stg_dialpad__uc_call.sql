{#-
  Dialpad calls in the unified `uc_call` shape (one row per call): the one table Dialpad staging stores.
  After the contract's columns it keeps what the other Dialpad models read (the target, the queue party,
  the contact, the recording details, the voicemail flag, the landing day), so recordings are read from it and nothing
  re-reads the landing.

  Enums come from seeds/dialpad/dialpad_enums.csv (macros/uc_enums.sql): a value not in it is UNKNOWN
  and listed in `_unknown_enums` (direction, state, the target types, recording types).
  Outcome (Dialpad Analytics Glossary, ../shared/providers.md section 6): a call with `date_connected`
  was ANSWERED; one with a voicemail recording (or a voicemail share link) is VOICEMAIL; a `blocked`
  call is BLOCKED; a call that has not ended (no `date_ended`, or a live state) is UNKNOWN; otherwise
  nobody answered: MISSED. Dialpad gives no reason, so `missed_reason` and its group are NULL.
  Parties: the queue is the `target`, else the `entry_point_target`, whose type is a call center or a
  department; the agent is the `target` when it is a user.
  Times: wait = date_connected - date_rang (date_started when Dialpad gives no ring time), or date_ended
  - date_rang for an unanswered inbound call; talk = `duration` (milliseconds from connect to hang-up,
  hold included: Dialpad reports no hold, so nothing is subtracted); duration = `total_duration`
  (milliseconds, ring time included), else date_ended - date_started.
  Transfers: `is_transferred` is a flag, so `transfer_count` is 1 when set.
  Incremental by call: a run writes the calls its window landed, except those whose stored version is
  the same or newer (the latest extraction wins).
-#}
{{ config(
    tags=['partitioned'],
    materialized='incremental',
    unique_key='id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
{{ staging_require_columns(['recording_details', 'contact', 'target', 'queue', 'landed_date']) }}
{%- set unknown_recording_type -%}
list_filter(c.recording_details, lambda d: d.recording_type is not null
    and d.recording_type not in {{ uc_enum_values('dialpad', 'recording_type') }})[1].recording_type
{%- endset %}
with calls as (
    select
        c.*,
        dr.meaning as direction_meaning,
        st.meaning as state_meaning,
        tt.meaning as target_meaning,
        et.meaning as entry_point_meaning,
        len(list_filter(c.recording_details, lambda d: d.recording_type in
            {{ uc_enum_values('dialpad', 'recording_type', 'RECORDING') }})) > 0 as has_call_recording,
        len(list_filter(c.recording_details, lambda d: d.recording_type in
            {{ uc_enum_values('dialpad', 'recording_type', 'VOICEMAIL') }})) > 0
            or c.voicemail_share_link is not null as has_voicemail,
        {{ uc_unknown_enums([
            ('direction', 'c.direction', 'dr.meaning is not null'),
            ('state', 'c.state', 'st.meaning is not null'),
            ('target.type', "nullif(c.target.type, '')", 'tt.meaning is not null'),
            ('entry_point_target.type', "nullif(c.entry_point_target.type, '')", 'et.meaning is not null'),
            ('recording_type', unknown_recording_type, 'false'),
        ]) }} as _unknown_enums
    from {{ ref('stg_dialpad__calls') }} as c
    left join {{ uc_enum('dialpad', 'direction') }} as dr on dr.value = c.direction
    left join {{ uc_enum('dialpad', 'state') }} as st on st.value = c.state
    left join {{ uc_enum('dialpad', 'target_type') }} as tt on tt.value = lower(c.target.type)
    left join {{ uc_enum('dialpad', 'target_type') }} as et on et.value = lower(c.entry_point_target.type)
),

mapped as (
    select
        *,
        case
            when connected_at is not null then 'ANSWERED'
            when has_voicemail then 'VOICEMAIL'
            when state_meaning = 'BLOCKED' then 'BLOCKED'
            when ended_at is null or state_meaning = 'IN_PROGRESS' then 'UNKNOWN'
            else 'MISSED'
        end as outcome,
        coalesce(direction_meaning, 'UNKNOWN') as call_type,
        case when target_meaning = 'AGENT' then target end as agent,
        case
            when target_meaning = 'QUEUE' then target
            when entry_point_meaning = 'QUEUE' then entry_point_target
        end as queue,
        coalesce(rang_at, started_at) as rang_or_started_at
    from calls
),

rebuilt as (
    select
        {{ staging_uc_id('dialpad', 'connection_id', 'call_id') }} as id,
        'dialpad' as provider,
        connection_id,
        call_id as source_id,
        started_at as created_at,
        greatest(started_at, rang_at, connected_at, ended_at, event_at) as updated_at,
        started_at as start_at,
        connected_at as answered_at,
        ended_at as end_at,
        cast(started_at as date) as call_date,
        call_type as type,
        external_number as telephone,
        {{ staging_uc_id('dialpad', 'connection_id', "nullif(agent.id, '')") }} as user_id,
        agent.name as user_name,
        nullif(agent.phone, '') as user_phone,
        {{ staging_uc_id('dialpad', 'connection_id', "nullif(contact.id, '')") }} as contact_id,
        cast(null as boolean) as is_private,
        outcome,
        cast(null as varchar) as missed_reason,
        cast(null as varchar) as missed_reason_group,
        {{ staging_uc_id('dialpad', 'connection_id', "nullif(queue.id, '')") }} as queue_id,
        queue.name as queue_name,
        case
            when connected_at is not null then {{ staging_seconds('connected_at', 'rang_or_started_at') }}
            when call_type = 'INBOUND' and ended_at is not null
                then {{ staging_seconds('ended_at', 'rang_or_started_at') }}
        end as wait_s,
        case
            when connected_at is not null and duration_ms is not null then cast(floor(duration_ms / 1000) as integer)
            when connected_at is not null and ended_at is not null then {{ staging_seconds('ended_at', 'connected_at') }}
            when outcome not in ('UNKNOWN', 'ANSWERED') then 0
        end as talk_s,
        cast(null as integer) as hold_s,
        cast(null as integer) as wrap_up_s,
        case
            when ended_at is not null then coalesce(
                cast(floor(total_duration_ms / 1000) as integer), {{ staging_seconds('ended_at', 'started_at') }})
        end as duration_s,
        coalesce(was_recorded, false) or has_call_recording as has_recording,
        cast(case when is_transferred then 1 else 0 end as integer) as transfer_count,
        'call_log' as record_source,
        _extracted_at,
        _unknown_enums,
        -- what the other Dialpad models read (not part of the unified model)
        has_voicemail,
        target,
        queue,
        contact,
        recording_details,
        landed_date
    from mapped
),

written as (
    {{ staging_newer_than_stored('rebuilt', '_extracted_at', key='id') }}
)

{{ staging_previous_call_dates('written', can_move=false) }}
