{#-
  Zendesk Talk calls in the unified `uc_call` shape (one row per call; legs add transfers): the table
  that stores Zendesk calls. After the contract's columns it keeps what stg_zendesk__uc_contact and
  __uc_user read (the agent and customer ids as the export gives them, the landing day).

  Outcome from `completion_status`: completed -> ANSWERED, or VOICEMAIL when `voicemail` is true;
  pending_voicemail -> VOICEMAIL; abandoned_in_queue / abandoned_in_ivr / abandoned_on_hold ->
  ABANDONED; abandoned_in_voicemail (nobody answered, the caller reached voicemail and left nothing)
  and not_answered -> MISSED; failed -> FAILED; empty (in progress) or unknown values -> UNKNOWN.
  `missed_reason` is the `completion_status` itself for every call that was not answered.
  Times: start = `created_at`; answered = start + `time_to_answer`; end = start + `duration`.
  Wait: `time_to_answer`, else (not answered) `wait_time` plus the IVR time. The export names
  no external number (`phone_number` is the Talk line) and no agent or group names.

  Incremental by call: a run writes the calls its window landed (except those whose stored version
  is the same or newer: the latest `updated_at` wins), and the stored calls that a leg staged since
  the table last ran belongs to, with their transfers counted again.
-#}
{{ config(
    materialized='incremental',
    unique_key='id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
{{ staging_require_columns(['agent_id', 'customer_id', 'landed_date']) }}
with landed as (
    select
        *,
        case
            when completion_status = 'completed' and voicemail then 'VOICEMAIL'
            when completion_status = 'completed' then 'ANSWERED'
            when completion_status = 'pending_voicemail' then 'VOICEMAIL'
            when completion_status in ('abandoned_in_queue', 'abandoned_in_ivr', 'abandoned_on_hold') then 'ABANDONED'
            when completion_status in ('abandoned_in_voicemail', 'not_answered') then 'MISSED'
            when completion_status = 'failed' then 'FAILED'
            else 'UNKNOWN'
        end as outcome
    from {{ ref('stg_zendesk__calls') }}
),

mapped as (
    select
        {{ staging_uc_id('zendesk', 'connection_id', 'call_id') }} as id,
        'zendesk' as provider,
        connection_id,
        call_id as source_id,
        created_at,
        updated_at,
        created_at as start_at,
        created_at + to_seconds(time_to_answer) as answered_at,
        created_at + to_seconds(duration) as end_at,
        cast(created_at as date) as call_date,
        case direction when 'inbound' then 'INBOUND' when 'outbound' then 'OUTBOUND' end as type,
        cast(null as varchar) as telephone,
        {{ staging_uc_id('zendesk', 'connection_id', 'agent_id') }} as user_id,
        cast(null as varchar) as user_name,
        cast(null as varchar) as user_phone,
        {{ staging_uc_id('zendesk', 'connection_id', 'customer_id') }} as contact_id,
        cast(null as boolean) as is_private,
        outcome,
        case when outcome not in ('ANSWERED', 'UNKNOWN') and completion_status <> 'completed' then completion_status end
            as missed_reason,
        {{ staging_uc_id('zendesk', 'connection_id', 'call_group_id') }} as queue_id,
        cast(null as varchar) as queue_name,
        coalesce(time_to_answer, wait_time + coalesce(ivr_time_spent, 0)) as wait_s,
        talk_time as talk_s,
        hold_time as hold_s,
        wrap_up_time as wrap_up_s,
        duration as duration_s,
        coalesce(recording_time, 0) > 0 as has_recording,
        cast(null as integer) as transfer_count,  -- counted from the legs below
        'call_log' as record_source,
        _extracted_at,
        -- what the other Zendesk models read (not part of the unified model)
        agent_id,
        customer_id,
        landed_date
    from landed
),

newer as (
    {{ staging_newer_than_stored('mapped', 'updated_at', key='id') }}
),

calls as (
    select * from newer
    {%- if is_incremental() %}
    union all by name
    -- a leg staged since the last run changes its call's transfers: the stored call is written again
    -- (unless a newer version of it landed in this run)
    select stored.* exclude (_loaded_at, _previous_call_dates), {{ staging_loaded_at() }} as _loaded_at
    from {{ this }} as stored
    where (stored.connection_id, stored.source_id) in (
        select connection_id, call_id from {{ ref('stg_zendesk__legs') }} where {{ staging_changed() }}
    )
      and not exists (select 1 from newer where newer.id = stored.id)
    {%- endif %}
),

transfers as (
    select connection_id, call_id, count(*) filter (where transferred_from is not null) as transfer_count
    from {{ ref('stg_zendesk__legs') }}
    where leg_type = 'agent'
    {%- if is_incremental() %}
      and (connection_id, call_id) in (select connection_id, source_id from calls)
    {%- endif %}
    group by all
),

rebuilt as (
    select calls.* replace (cast(transfers.transfer_count as integer) as transfer_count)
    from calls
    left join transfers on transfers.connection_id = calls.connection_id and transfers.call_id = calls.source_id
)

{{ staging_previous_call_dates('rebuilt', can_move=false) }}
