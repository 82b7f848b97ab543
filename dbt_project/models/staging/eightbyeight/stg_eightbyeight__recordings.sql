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

with landed as (
    select * from {{ landing_source('eightbyeight', 'recordings') }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        _record_id as recording_id,
        nullif(_record->>'$.filename', '') as filename,
        nullif(_record->>'$.transactionID', '') as transaction_id,
        {{ staging_iso("(_record->>'$.startDate')") }} as start_date,
        cast(nullif(_record->>'$.duration', '') as integer) as duration,
        nullif(_record->>'$.agentID', '') as agent_id,
        nullif(_record->>'$.phoneNumber', '') as phone_number,
        nullif(_record->>'$.channel', '') as channel,
        nullif(_record->>'$.queueID', '') as queue_id,
        nullif(_record->>'$.queueName', '') as queue_name,
        nullif(_record->>'$.caseID', '') as case_id,
        nullif(_record->>'$.accountNumber', '') as account_number,
        nullif(_record->>'$.extVar1', '') as ext_var1,
        nullif(_record->>'$.extVar2', '') as ext_var2,
        nullif(_record->>'$.outDialCode', '') as out_dial_code,
        nullif(_record->>'$.wrapUpCode', '') as wrap_up_code,
        _record,
        _record_id,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_keep_latest('parsed', '_extracted_at') }}
