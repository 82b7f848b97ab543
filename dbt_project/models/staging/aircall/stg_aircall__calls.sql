{#-
  Aircall calls (`GET /v1/calls`), one row per (connection, call id), typed. Times are UNIX seconds in
  the API and become UTC timestamptz. Aircall reports no update time, so the latest extraction of a
  call wins (comments and tags keep changing a call for days after it ended).
-#}
{{ config(
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

with landed as (
    select * from {{ landing_source('aircall', 'calls') }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        (_record->>'$.id') as call_id,
        (_record->>'$.sid') as sid,
        lower(_record->>'$.direction') as direction,
        lower(_record->>'$.status') as status,
        nullif(_record->>'$.missed_call_reason', '') as missed_call_reason,
        {{ staging_epoch("(_record->>'$.started_at')") }} as started_at,
        {{ staging_epoch("(_record->>'$.answered_at')") }} as answered_at,
        {{ staging_epoch("(_record->>'$.ended_at')") }} as ended_at,
        cast(_record->>'$.duration' as integer) as duration,
        (_record->>'$.raw_digits') as raw_digits,
        (_record->>'$.asset') as asset,
        (_record->>'$.recording') as recording,
        (_record->>'$.voicemail') as voicemail,
        cast(_record->>'$.archived' as boolean) as archived,
        (_record->>'$.cost') as cost,
        (_record->>'$.hangup_cause') as hangup_cause,
        (_record->>'$.user.id') as user_id,
        (_record->>'$.user.name') as user_name,
        (_record->>'$.user.email') as user_email,
        (_record->>'$.number.id') as number_id,
        (_record->>'$.number.name') as number_name,
        (_record->>'$.number.digits') as number_digits,
        (_record->>'$.contact.id') as contact_id,
        (_record->'$.contact') as contact,
        (_record->'$.user') as "user",
        (_record->'$.assigned_to') as assigned_to,
        (_record->'$.transferred_by') as transferred_by,
        (_record->'$.transferred_to') as transferred_to,
        coalesce(_record->'$.teams', '[]'::json) as teams,
        coalesce(_record->'$.comments', '[]'::json) as comments,
        coalesce(_record->'$.tags', '[]'::json) as tags,
        _record,
        _record_id,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_keep_latest('parsed', '_extracted_at') }}
