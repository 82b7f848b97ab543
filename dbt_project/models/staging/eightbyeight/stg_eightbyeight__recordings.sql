{#-
  8x8 VCC recordings (`GET /api/recordings/files`) landed in the run's window, parsed into typed fields
  (the ones the unified models read; every other field stays in `raw.eightbyeight_recordings`), one
  version per (connection, recording filename). Every value arrives as text (XML/CSV); empty elements
  are "" and become NULL. `startDate` carries the tenant's UTC offset (`2007-12-19T19:16:36-08:00`) and
  becomes UTC. The API reports no update time, so the latest extraction wins. Ephemeral:
  stg_eightbyeight__uc_recording stores these recordings once, in the unified shape.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}

{%- set landed_records = landing_source('eightbyeight', 'recordings') %}

with landed as (
    -- each record is parsed once; every field below is read from this struct
    select *, json_transform(_record, '{"transactionID": "VARCHAR", "startDate": "VARCHAR", "duration": "VARCHAR", "agentID": "VARCHAR", "phoneNumber": "VARCHAR", "channel": "VARCHAR", "queueID": "VARCHAR", "queueName": "VARCHAR"}') as r
    from {{ landed_records }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        _record_id as recording_id,
        nullif(r.transactionID, '') as transaction_id,
        {{ staging_iso("r.startDate") }} as start_date,
        cast(nullif(r.duration, '') as integer) as duration,
        nullif(r.agentID, '') as agent_id,
        nullif(r.phoneNumber, '') as phone_number,
        nullif(r.channel, '') as channel,
        nullif(r.queueID, '') as queue_id,
        nullif(r.queueName, '') as queue_name,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_latest_landed('parsed', '_extracted_at', landed_records) }}
