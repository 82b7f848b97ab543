{#-
  Zendesk Talk calls (incremental calls export) landed in the run's window, parsed into typed fields
  (the ones the unified models read; every other field stays in `raw.zendesk_calls`), one version per
  (connection, call id). The export pages by `updated_at`, so a call that changes after its day is
  landed again on a later day: the version with the latest `updated_at` (then the latest extraction)
  wins. Ephemeral: stg_zendesk__uc_call stores these calls once, in the unified shape.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}

{%- set landed_records = landing_source('zendesk', 'calls') %}

with landed as (
    -- each record is parsed once; every field below is read from this struct
    select *, json_transform(_record, '{"id": "VARCHAR", "created_at": "VARCHAR", "updated_at": "VARCHAR", "direction": "VARCHAR", "completion_status": "VARCHAR", "agent_id": "VARCHAR", "customer_id": "VARCHAR", "call_group_id": "VARCHAR", "duration": "VARCHAR", "talk_time": "VARCHAR", "hold_time": "VARCHAR", "wait_time": "VARCHAR", "wrap_up_time": "VARCHAR", "time_to_answer": "VARCHAR", "ivr_time_spent": "VARCHAR", "recording_time": "VARCHAR", "voicemail": "VARCHAR"}') as r
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
        -- empty while the call is in progress
        nullif(lower(r.completion_status), '') as completion_status,
        nullif(r.agent_id, '0') as agent_id,
        r.customer_id as customer_id,
        r.call_group_id as call_group_id,
        cast(r.duration as integer) as duration,
        cast(r.talk_time as integer) as talk_time,
        cast(r.hold_time as integer) as hold_time,
        cast(r.wait_time as integer) as wait_time,
        cast(r.wrap_up_time as integer) as wrap_up_time,
        cast(r.time_to_answer as integer) as time_to_answer,
        cast(r.ivr_time_spent as integer) as ivr_time_spent,
        cast(r.recording_time as integer) as recording_time,
        cast(r.voicemail as boolean) as voicemail,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_latest_landed('parsed', 'updated_at', landed_records) }}
