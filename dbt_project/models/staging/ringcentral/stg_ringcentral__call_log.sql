{#-
  RingCentral call-log records (company call log, Detailed view), one row per (connection, record
  id), typed; `legs` stays JSON for the session-level models. Times are ISO-8601 with `Z` (ms). The
  version with the latest `lastModifiedTime` (then the latest extraction) wins.
-#}
{{ config(
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

with landed as (
    select * from {{ landing_source('ringcentral', 'call_log') }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        (_record->>'$.id') as record_id,
        (_record->>'$.sessionId') as session_id,
        (_record->>'$.telephonySessionId') as telephony_session_id,
        {{ staging_iso("(_record->>'$.startTime')") }} as start_time,
        cast(_record->>'$.duration' as integer) as duration,
        cast(_record->>'$.durationMs' as bigint) as duration_ms,
        (_record->>'$.type') as record_type,
        (_record->>'$.direction') as direction,
        (_record->>'$.action') as action,
        (_record->>'$.result') as result,
        (_record->>'$.reason') as reason,
        (_record->>'$.reasonDescription') as reason_description,
        (_record->>'$.internalType') as internal_type,
        (_record->>'$.transport') as transport,
        (_record->>'$.from.phoneNumber') as from_phone_number,
        (_record->>'$.from.extensionNumber') as from_extension_number,
        (_record->>'$.from.extensionId') as from_extension_id,
        (_record->>'$.from.name') as from_name,
        (_record->>'$.to.phoneNumber') as to_phone_number,
        (_record->>'$.to.extensionNumber') as to_extension_number,
        (_record->>'$.to.extensionId') as to_extension_id,
        (_record->>'$.to.name') as to_name,
        (_record->>'$.extension.id') as extension_id,
        (_record->>'$.recording.id') as recording_id,
        (_record->>'$.recording.type') as recording_type,
        (_record->>'$.recording.contentUri') as recording_content_uri,
        (_record->>'$.message.id') as message_id,
        (_record->>'$.message.type') as message_type,
        cast(_record->>'$.deleted' as boolean) as deleted,
        {{ staging_iso("(_record->>'$.lastModifiedTime')") }} as last_modified_time,
        (_record->'$.legs') as legs,
        _record,
        _record_id,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_keep_latest('parsed', 'last_modified_time') }}
