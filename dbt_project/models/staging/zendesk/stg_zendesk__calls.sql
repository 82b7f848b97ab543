{#-
  Zendesk Talk calls (incremental calls export), one row per (connection, call id), typed. The export
  pages by `updated_at`, so a call that changes after its day is landed again on a later day: the
  version with the latest `updated_at` (then the latest extraction) wins.
-#}
{{ config(
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

with landed as (
    select * from {{ landing_source('zendesk', 'calls') }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        (_record->>'$.id') as call_id,
        {{ staging_iso("(_record->>'$.created_at')") }} as created_at,
        {{ staging_iso("(_record->>'$.updated_at')") }} as updated_at,
        lower(_record->>'$.direction') as direction,
        lower(_record->>'$.completion_status') as completion_status,
        nullif(_record->>'$.agent_id', '0') as agent_id,
        (_record->>'$.customer_id') as customer_id,
        (_record->>'$.ticket_id') as ticket_id,
        (_record->>'$.call_group_id') as call_group_id,
        (_record->>'$.phone_number_id') as phone_number_id,
        (_record->>'$.phone_number') as phone_number,
        cast(_record->>'$.duration' as integer) as duration,
        cast(_record->>'$.talk_time' as integer) as talk_time,
        cast(_record->>'$.hold_time' as integer) as hold_time,
        cast(_record->>'$.wait_time' as integer) as wait_time,
        cast(_record->>'$.wrap_up_time' as integer) as wrap_up_time,
        cast(_record->>'$.time_to_answer' as integer) as time_to_answer,
        cast(_record->>'$.ivr_time_spent' as integer) as ivr_time_spent,
        cast(_record->>'$.consultation_time' as integer) as consultation_time,
        cast(_record->>'$.recording_time' as integer) as recording_time,
        cast(_record->>'$.voicemail' as boolean) as voicemail,
        cast(_record->>'$.outside_business_hours' as boolean) as outside_business_hours,
        cast(_record->>'$.exceeded_queue_wait_time' as boolean) as exceeded_queue_wait_time,
        (_record->>'$.call_charge') as call_charge,
        _record,
        _record_id,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_keep_latest('parsed', 'updated_at') }}
