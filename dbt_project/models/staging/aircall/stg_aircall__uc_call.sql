{#-
  Aircall calls in the unified `uc_call` shape (one row per call): the one table Aircall staging
  stores. After the contract's columns it keeps what the other Aircall models read (the nested user,
  contact, transfer parties and comments, the voicemail flag and asset page, the landing day), so the
  recordings and comments are views over it and nothing re-reads the landing.

  Enums come from seeds/aircall/aircall_enums.csv (macros/uc_enums.sql): a value not in it is UNKNOWN
  and listed in `_unknown_enums`. Outcome: Aircall's `status` is a lifecycle (initial/answered/done),
  not an outcome; a call that is not `done` yet is UNKNOWN. A done call with `answered_at` is
  ANSWERED; one with a voicemail is VOICEMAIL; otherwise the seed's meaning of `missed_call_reason`
  decides (ABANDONED or MISSED; UNKNOWN for a reason the seed does not know), and an unanswered
  outbound call (no reason given) is MISSED. `missed_reason_group` is the seed's group of the reason.
  Transfers: the call object keeps only the last transfer and does not say whether it succeeded (a
  failed transfer returns the call to the transferring agent, and `transferred_to` stays set, as the
  vendor's `call.unsuccessful_transfer` sample shows), so `transfer_count` counts the transfer
  attempt: 1 when `transferred_to` is set.
  Times: talk = answered -> end (Aircall records no hold, so nothing is subtracted); wait = start ->
  answer, or start -> end for an unanswered inbound call. Queue = the Aircall number (line) an inbound
  call came in on; an outbound call's number is the line it was made from, not a queue.
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
{{ staging_require_columns(['comments', 'contact', 'landed_date']) }}
with calls as (
    select
        c.*,
        st.meaning as status_meaning,
        dr.meaning as direction_meaning,
        mr.meaning as reason_meaning,
        case when c.missed_call_reason is not null then coalesce(mr.missed_reason_group, 'UNKNOWN') end
            as reason_group,
        {{ uc_unknown_enums([
            ('status', 'c.status', 'st.meaning is not null'),
            ('direction', 'c.direction', 'dr.meaning is not null'),
            ('missed_call_reason', 'c.missed_call_reason', 'mr.meaning is not null'),
        ]) }} as _unknown_enums
    from {{ ref('stg_aircall__calls') }} as c
    left join {{ uc_enum('aircall', 'status') }} as st on st.value = c.status
    left join {{ uc_enum('aircall', 'direction') }} as dr on dr.value = c.direction
    left join {{ uc_enum('aircall', 'missed_call_reason') }} as mr on mr.value = c.missed_call_reason
),

mapped as (
    select
        *,
        case
            when status_meaning is distinct from 'FINISHED' then 'UNKNOWN'
            when answered_at is not null then 'ANSWERED'
            when has_voicemail then 'VOICEMAIL'
            when missed_call_reason is not null then coalesce(reason_meaning, 'UNKNOWN')
            when direction_meaning = 'OUTBOUND' then 'MISSED'
            else 'UNKNOWN'
        end as outcome,
        coalesce(direction_meaning, 'UNKNOWN') as call_type
    from calls
),

rebuilt as (
    select
        {{ staging_uc_id('aircall', 'connection_id', 'call_id') }} as id,
        'aircall' as provider,
        connection_id,
        call_id as source_id,
        started_at as created_at,
        greatest(
            started_at, answered_at, ended_at,
            {{ staging_epoch("list_max(list_transform(comments, lambda c: cast(c.posted_at as double)))") }},
            last_tagged_at
        ) as updated_at,
        started_at as start_at,
        answered_at,
        ended_at as end_at,
        cast(started_at as date) as call_date,
        call_type as type,
        raw_digits as telephone,
        {{ staging_uc_id('aircall', 'connection_id', '"user".id') }} as user_id,
        "user".name as user_name,
        cast(null as varchar) as user_phone,
        {{ staging_uc_id('aircall', 'connection_id', 'contact.id') }} as contact_id,
        cast(null as boolean) as is_private,
        outcome,
        missed_call_reason as missed_reason,
        {{ uc_missed_reason_group('outcome', 'reason_group') }} as missed_reason_group,
        case when call_type = 'INBOUND' then {{ staging_uc_id('aircall', 'connection_id', 'number_id') }} end as queue_id,
        case when call_type = 'INBOUND' then number_name end as queue_name,
        case
            when answered_at is not null then {{ staging_seconds('answered_at', 'started_at') }}
            when call_type = 'INBOUND' and ended_at is not null then {{ staging_seconds('ended_at', 'started_at') }}
        end as wait_s,
        case
            when answered_at is not null and ended_at is not null then {{ staging_seconds('ended_at', 'answered_at') }}
            when outcome <> 'UNKNOWN' then 0
        end as talk_s,
        cast(null as integer) as hold_s,
        cast(null as integer) as wrap_up_s,
        case when ended_at is not null then coalesce(duration, {{ staging_seconds('ended_at', 'started_at') }}) end
            as duration_s,
        has_recording,
        cast(case when transferred_to.id is not null then 1 else 0 end as integer) as transfer_count,
        'call_log' as record_source,
        _extracted_at,
        _unknown_enums,
        -- what the other Aircall models read (not part of the unified model)
        has_voicemail,
        asset,
        "user",
        assigned_to,
        transferred_by,
        transferred_to,
        contact,
        comments,
        landed_date
    from mapped
),

written as (
    {{ staging_newer_than_stored('rebuilt', '_extracted_at', key='id') }}
)

{{ staging_previous_call_dates('written', can_move=false) }}
