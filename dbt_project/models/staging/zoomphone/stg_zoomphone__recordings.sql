{#-
  Zoom Phone recordings (`GET /v2/phone/recordings`), one row per (connection, recording `id`), typed: the
  fields the unified models read (every other field stays in `raw.zoomphone_recordings`). `call_id` is the
  native call id the recording belongs to (the call history item's `call_id`); `owner` names the user,
  call queue or common area that owns it. The latest extraction wins.
-#}
{{ config(
    tags=['partitioned'],
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

{%- set landed_records = landing_source('zoomphone', 'recordings') %}

with landed as (
    select *, json_transform(_record, '{"id": "VARCHAR", "call_id": "VARCHAR", "direction": "VARCHAR", "date_time": "VARCHAR", "end_time": "VARCHAR", "duration": "VARCHAR", "recording_type": "VARCHAR", "owner": {"type": "VARCHAR", "id": "VARCHAR", "name": "VARCHAR"}}') as r
    from {{ landed_records }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        r.id as recording_id,
        r.call_id as call_id,
        lower(r.direction) as direction,
        {{ staging_iso("r.date_time") }} as date_time,
        {{ staging_iso("r.end_time") }} as end_time,
        cast(r.duration as integer) as duration,
        r.recording_type as recording_type,
        r.owner."type" as owner_type,
        r.owner.id as owner_id,
        r.owner.name as owner_name,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_keep_latest('parsed', '_extracted_at', landed_records) }}
