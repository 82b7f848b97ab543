{#-
  RingCentral calls in the unified `uc_call` shape: one row per session (stg_ringcentral__sessions).

  Outcome from the call-log `result`: Accepted / Call connected -> ANSWERED (for the session when
  any of its records was answered); Voicemail -> VOICEMAIL; Missed / No Answer / Rejected ->
  MISSED; Hang Up / Abandoned -> ABANDONED; Busy -> BUSY; Blocked -> BLOCKED; Call Failed and the
  other failure results -> FAILED; anything else (In Progress, Unknown, ...) -> UNKNOWN.
  `missed_reason` = the record's `reason` (e.g. `Hang Up`, `No Answer`) when not answered.
  Direction: INTERNAL when both parties are extensions. Times: wait = start -> answer (inbound),
  or the whole call when an inbound call was not answered; talk = answer -> end, which includes hold
  (RingCentral reports no hold time). The queue is the extension an inbound call was dialled to
  when another extension (the agent) took it.
-#}
{{ config(
    materialized='incremental',
    unique_key='id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
with rebuilt as (
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
        case when outcome not in ('ANSWERED', 'UNKNOWN') then coalesce(reason, result) end as missed_reason,
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
        {{ staging_loaded_at() }} as _loaded_at
    from {{ ref('stg_ringcentral__sessions') }}
    where {{ staging_changed() }}
)

{{ staging_previous_call_dates('rebuilt') }}
