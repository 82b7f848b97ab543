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

{%- set landed_records = landing_source('zendesk', 'calls') %}

with landed as (
    -- each record is parsed once; every field below is read from this struct
    select *, json_transform(_record, '{"id": "VARCHAR", "created_at": "VARCHAR", "updated_at": "VARCHAR", "direction": "VARCHAR", "completion_status": "VARCHAR", "agent_id": "VARCHAR", "customer_id": "VARCHAR", "ticket_id": "VARCHAR", "call_group_id": "VARCHAR", "phone_number_id": "VARCHAR", "phone_number": "VARCHAR", "duration": "VARCHAR", "talk_time": "VARCHAR", "hold_time": "VARCHAR", "wait_time": "VARCHAR", "wrap_up_time": "VARCHAR", "time_to_answer": "VARCHAR", "ivr_time_spent": "VARCHAR", "consultation_time": "VARCHAR", "recording_time": "VARCHAR", "voicemail": "VARCHAR", "outside_business_hours": "VARCHAR", "exceeded_queue_wait_time": "VARCHAR", "call_charge": "VARCHAR"}') as r
    from {{ landed_records }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        r.id as call_id,
        {{ staging_iso("r.created_at") }} as created_at,
        {{ staging_iso("r.updated_at") }} as updated_at,
        lower(r.direction) as direction,
        lower(r.completion_status) as completion_status,
        nullif(r.agent_id, '0') as agent_id,
        r.customer_id as customer_id,
        r.ticket_id as ticket_id,
        r.call_group_id as call_group_id,
        r.phone_number_id as phone_number_id,
        r.phone_number as phone_number,
        cast(r.duration as integer) as duration,
        cast(r.talk_time as integer) as talk_time,
        cast(r.hold_time as integer) as hold_time,
        cast(r.wait_time as integer) as wait_time,
        cast(r.wrap_up_time as integer) as wrap_up_time,
        cast(r.time_to_answer as integer) as time_to_answer,
        cast(r.ivr_time_spent as integer) as ivr_time_spent,
        cast(r.consultation_time as integer) as consultation_time,
        cast(r.recording_time as integer) as recording_time,
        cast(r.voicemail as boolean) as voicemail,
        cast(r.outside_business_hours as boolean) as outside_business_hours,
        cast(r.exceeded_queue_wait_time as boolean) as exceeded_queue_wait_time,
        r.call_charge as call_charge,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_keep_latest('parsed', 'updated_at', landed_records) }}
