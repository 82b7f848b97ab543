{#-
  Dialpad calls (`GET /api/v2/call`) landed in the run's window, parsed into typed fields (the ones the
  unified models read; every other field stays in `raw.dialpad_calls`), one version per (connection,
  call id). Dialpad's spec types ids and millisecond timestamps as int64 but its example sends them as
  strings: both are read as text first, so either encoding gives the same values; times become UTC
  timestamptz exactly (milliseconds added to the epoch), durations stay milliseconds (a double in the
  spec). The call id is the landing's `_record_id` (the id in decimal, whatever the encoding). Dialpad
  reports no update time, so the latest extraction of a call wins. Ephemeral: stg_dialpad__uc_call
  stores these calls once, in the unified shape.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}

{%- set party = '{"id": "VARCHAR", "name": "VARCHAR", "email": "VARCHAR", "phone": "VARCHAR", "type": "VARCHAR"}' %}
{%- set ms = "(to_timestamp(0) + to_milliseconds(cast(cast(nullif({0}, '') as double) as bigint)))" %}

{%- set landed_records = landing_source('dialpad', 'calls') %}

with landed as (
    -- each record is parsed once, into typed fields and nested structs
    select *, json_transform(_record, '{"direction": "VARCHAR", "state": "VARCHAR", "date_started": "VARCHAR", "date_rang": "VARCHAR", "date_connected": "VARCHAR", "date_ended": "VARCHAR", "event_timestamp": "VARCHAR", "duration": "VARCHAR", "total_duration": "VARCHAR", "external_number": "VARCHAR", "is_transferred": "BOOLEAN", "was_recorded": "BOOLEAN", "voicemail_share_link": "VARCHAR", "target": {{ party }}, "entry_point_target": {{ party }}, "contact": {{ party }}, "recording_details": [{"id": "VARCHAR", "recording_type": "VARCHAR", "duration": "VARCHAR", "start_time": "VARCHAR"}]}') as r
    from {{ landed_records }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        _record_id as call_id,
        lower(nullif(r.direction, '')) as direction,
        lower(nullif(r.state, '')) as state,
        {{ ms.format('r.date_started') }} as started_at,
        {{ ms.format('r.date_rang') }} as rang_at,
        {{ ms.format('r.date_connected') }} as connected_at,
        {{ ms.format('r.date_ended') }} as ended_at,
        {{ ms.format('r.event_timestamp') }} as event_at,
        cast(nullif(r.duration, '') as double) as duration_ms,
        cast(nullif(r.total_duration, '') as double) as total_duration_ms,
        nullif(r.external_number, '') as external_number,
        r.is_transferred as is_transferred,
        r.was_recorded as was_recorded,
        nullif(r.voicemail_share_link, '') as voicemail_share_link,
        r.target as target,
        r.entry_point_target as entry_point_target,
        r.contact as contact,
        list_transform(
            coalesce(r.recording_details, []),
            lambda d: {
                'id': d.id,
                'recording_type': lower(d.recording_type),
                'start_at': {{ ms.format('d.start_time') }},
                'duration_ms': cast(nullif(d.duration, '') as double)
            }
        ) as recording_details,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_latest_landed('parsed', '_extracted_at', landed_records) }}
