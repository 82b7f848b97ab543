{#-
  8x8 VCC calls in the unified `uc_call` shape, known only from recording metadata
  (`record_source = 'recording_metadata'`): one row per `transactionID` (the VCC call), grouping its
  recordings. Only recorded calls exist in this API and a recording starts when an agent is on the
  call, so every call here is ANSWERED, `answered_at` is its first recording's start and `end_at`
  its last recording's end. The queue wait before the answer is not in this API: `start_at` (and so
  `call_date`) is the answer time, and wait and total duration are unknown (NULL).
  Type: the first recording's (from its channel, stg_eightbyeight__uc_recording). Offered calls,
  abandonment, service level and ASA cannot be measured from recordings: the marts give them as NULL
  with fidelity `unavailable`. The queue is the inbound queue; the constants QUEUE_OUTBOUND and
  QUEUE_DIRECT_AGENT_ACCESS mean "no queue".
-#}
{{ config(
    tags=['partitioned'],
    materialized='incremental',
    unique_key='id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
with recordings as (
    select * from {{ ref('stg_eightbyeight__uc_recording') }}
    {%- if is_incremental() %}
    -- every recording of a call that has a recording staged since the last run
    where {{ staging_rows_of_changed_keys(ref('stg_eightbyeight__uc_recording'), 'connection_id, call_key') }}
    {%- endif %}
),

calls as (
    select
        connection_id,
        call_key,
        min(start_at) as answered_at,
        max(end_at) as end_at,
        arg_min(type, start_at) as call_type,
        arg_min(phone_number, start_at) as phone_number,
        arg_min(agent_id, start_at) as agent_id,
        arg_min(queue_id, start_at) as queue_id,
        arg_min(queue_name, start_at) as queue_name,
        max(_extracted_at) as _extracted_at,
        nullif(list_distinct(flatten(list(_unknown_enums))), []) as _unknown_enums
    from recordings
    group by connection_id, call_key
),

rebuilt as (
    select
        {{ staging_uc_id('eightbyeight', 'connection_id', 'call_key') }} as id,
        'eightbyeight' as provider,
        connection_id,
        call_key as source_id,
        cast(null as timestamptz) as created_at,
        cast(null as timestamptz) as updated_at,
        answered_at as start_at,
        answered_at,
        end_at,
        cast(answered_at as date) as call_date,
        call_type as type,
        phone_number as telephone,
        {{ staging_uc_id('eightbyeight', 'connection_id', 'agent_id') }} as user_id,
        cast(null as varchar) as user_name,
        cast(null as varchar) as user_phone,
        cast(null as varchar) as contact_id,
        cast(null as boolean) as is_private,
        'ANSWERED' as outcome,
        cast(null as varchar) as missed_reason,
        cast(null as varchar) as missed_reason_group,
        case when queue_id not in ('QUEUE_OUTBOUND', 'QUEUE_DIRECT_AGENT_ACCESS')
            then {{ staging_uc_id('eightbyeight', 'connection_id', 'queue_id') }} end as queue_id,
        case when queue_id not in ('QUEUE_OUTBOUND', 'QUEUE_DIRECT_AGENT_ACCESS') then queue_name end as queue_name,
        cast(null as integer) as wait_s,
        {{ staging_seconds('end_at', 'answered_at') }} as talk_s,
        cast(null as integer) as hold_s,
        cast(null as integer) as wrap_up_s,
        cast(null as integer) as duration_s,
        true as has_recording,
        cast(null as integer) as transfer_count,
        'recording_metadata' as record_source,
        _extracted_at,
        _unknown_enums,
        {{ staging_loaded_at() }} as _loaded_at
    from calls
)

{{ staging_previous_call_dates('rebuilt') }}
