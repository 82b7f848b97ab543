{#-
  Aircall calls (`GET /v1/calls`) landed in the run's window, parsed into typed fields (the ones the
  unified models read; every other field stays in `raw.aircall_calls`), one version per (connection,
  call id). Times are UNIX seconds in the API and become UTC timestamptz. Aircall reports no update
  time, so the latest extraction of a call wins (comments and tags keep changing a call for days
  after it ended). Ephemeral: stg_aircall__uc_call stores these calls once, in the unified shape.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}

{%- set aircall_user = '{"id": "VARCHAR", "name": "VARCHAR", "email": "VARCHAR"}' %}

{%- set landed_records = landing_source('aircall', 'calls') %}

with landed as (
    -- each record is parsed once, into typed fields and nested structs (no JSON text is kept, so
    -- nothing downstream parses again)
    select *, json_transform(_record, '{"id": "VARCHAR", "direction": "VARCHAR", "status": "VARCHAR", "missed_call_reason": "VARCHAR", "started_at": "VARCHAR", "answered_at": "VARCHAR", "ended_at": "VARCHAR", "duration": "VARCHAR", "raw_digits": "VARCHAR", "asset": "VARCHAR", "recording": "VARCHAR", "voicemail": "VARCHAR", "user": {{ aircall_user }}, "assigned_to": {{ aircall_user }}, "transferred_by": {{ aircall_user }}, "transferred_to": {{ aircall_user }}, "number": {"id": "VARCHAR", "name": "VARCHAR"}, "contact": {"id": "VARCHAR", "first_name": "VARCHAR", "last_name": "VARCHAR", "company_name": "VARCHAR", "emails": [{"value": "VARCHAR"}], "phone_numbers": [{"value": "VARCHAR"}]}, "comments": [{"id": "VARCHAR", "content": "VARCHAR", "posted_at": "VARCHAR", "posted_by": {{ aircall_user }}}], "tags": [{"tagged_at": "VARCHAR"}]}') as r
    from {{ landed_records }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        r.id as call_id,
        lower(r.direction) as direction,
        lower(r.status) as status,
        nullif(r.missed_call_reason, '') as missed_call_reason,
        {{ staging_epoch("r.started_at") }} as started_at,
        {{ staging_epoch("r.answered_at") }} as answered_at,
        {{ staging_epoch("r.ended_at") }} as ended_at,
        cast(r.duration as integer) as duration,
        r.raw_digits as raw_digits,
        r.asset as asset,
        -- the mp3 URLs are signed links that expire after 10 minutes: only whether there is one is
        -- kept (stored, they were a quarter of the calls' write time; the landing zone keeps them verbatim)
        r.recording is not null or coalesce(r.asset like '%/recording%', false) as has_recording,
        r.voicemail is not null or coalesce(r.asset like '%/voicemail%', false) as has_voicemail,
        r."user" as "user",
        r."number".id as number_id,
        r."number".name as number_name,
        r.contact as contact,
        r.assigned_to as assigned_to,
        r.transferred_by as transferred_by,
        r.transferred_to as transferred_to,
        coalesce(r.comments, []) as comments,
        -- tags matter only as the call's last change
        {{ staging_epoch("list_max(list_transform(r.tags, lambda t: cast(t.tagged_at as double)))") }} as last_tagged_at,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_latest_landed('parsed', '_extracted_at', landed_records) }}
