{#-
  8x8 VCC recordings (`GET /api/recordings/files`), one row per (connection, recording filename),
  typed. Every value arrives as text (XML/CSV); empty elements are "" and become NULL. `startDate`
  carries the tenant's UTC offset (`2007-12-19T19:16:36-08:00`) and becomes UTC. The API reports no
  update time, so the latest extraction wins.
-#}
{{ config(
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

{%- set landed_records = landing_source('eightbyeight', 'recordings') %}

with landed as (
    -- each record is parsed once; every field below is read from this struct
    select *, json_transform(_record, '{"filename": "VARCHAR", "transactionID": "VARCHAR", "startDate": "VARCHAR", "duration": "VARCHAR", "agentID": "VARCHAR", "phoneNumber": "VARCHAR", "channel": "VARCHAR", "queueID": "VARCHAR", "queueName": "VARCHAR", "caseID": "VARCHAR", "accountNumber": "VARCHAR", "extVar1": "VARCHAR", "extVar2": "VARCHAR", "outDialCode": "VARCHAR", "wrapUpCode": "VARCHAR"}') as r
    from {{ landed_records }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        _record_id as recording_id,
        nullif(r.filename, '') as filename,
        nullif(r.transactionID, '') as transaction_id,
        {{ staging_iso("r.startDate") }} as start_date,
        cast(nullif(r.duration, '') as integer) as duration,
        nullif(r.agentID, '') as agent_id,
        nullif(r.phoneNumber, '') as phone_number,
        nullif(r.channel, '') as channel,
        nullif(r.queueID, '') as queue_id,
        nullif(r.queueName, '') as queue_name,
        nullif(r.caseID, '') as case_id,
        nullif(r.accountNumber, '') as account_number,
        nullif(r.extVar1, '') as ext_var1,
        nullif(r.extVar2, '') as ext_var2,
        nullif(r.outDialCode, '') as out_dial_code,
        nullif(r.wrapUpCode, '') as wrap_up_code,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_keep_latest('parsed', '_extracted_at', landed_records) }}
