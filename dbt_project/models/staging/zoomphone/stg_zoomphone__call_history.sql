{#-
  Zoom Phone call history items (`GET /v2/phone/call_history`), one row per (connection,
  `call_history_uuid`), typed: the fields the unified models read (every other field stays in
  `raw.zoomphone_call_history`). Times are ISO-8601 with `Z`; `duration` is in seconds. A value the call
  does not have is absent from the item (`answer_time` of an unanswered call), hence NULL here. The item
  names no update time: the latest extraction wins.
-#}
{{ config(
    tags=['partitioned'],
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

{%- set landed_records = landing_source('zoomphone', 'call_history') %}
{%- set party = '"ext_id": "VARCHAR", "ext_number": "VARCHAR", "name": "VARCHAR", "email": "VARCHAR", "ext_type": "VARCHAR", "did_number": "VARCHAR"' %}

with landed as (
    select *, json_transform(_record, '{"call_history_uuid": "VARCHAR", "call_id": "VARCHAR", "direction": "VARCHAR", "connect_type": "VARCHAR", "start_time": "VARCHAR", "answer_time": "VARCHAR", "end_time": "VARCHAR", "duration": "VARCHAR", "call_result": "VARCHAR", "recording_status": "VARCHAR", "caller_ext_id": "VARCHAR", "caller_ext_number": "VARCHAR", "caller_name": "VARCHAR", "caller_email": "VARCHAR", "caller_ext_type": "VARCHAR", "caller_did_number": "VARCHAR", "callee_ext_id": "VARCHAR", "callee_ext_number": "VARCHAR", "callee_name": "VARCHAR", "callee_email": "VARCHAR", "callee_ext_type": "VARCHAR", "callee_did_number": "VARCHAR"}') as r
    from {{ landed_records }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        r.call_history_uuid as call_history_uuid,
        r.call_id as call_id,
        lower(r.direction) as direction,
        lower(r.connect_type) as connect_type,
        {{ staging_iso("r.start_time") }} as start_time,
        {{ staging_iso("r.answer_time") }} as answer_time,
        {{ staging_iso("r.end_time") }} as end_time,
        cast(r.duration as integer) as duration,
        lower(trim(r.call_result)) as call_result,
        lower(r.recording_status) as recording_status,
        r.caller_ext_id, r.caller_ext_number, r.caller_name, r.caller_email, lower(r.caller_ext_type) as caller_ext_type,
        r.caller_did_number,
        r.callee_ext_id, r.callee_ext_number, r.callee_name, r.callee_email, lower(r.callee_ext_type) as callee_ext_type,
        r.callee_did_number,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_keep_latest('parsed', '_extracted_at', landed_records) }}
