{#-
  RingCentral recordings and voicemails in the unified `uc_recording` shape: a record's `recording`
  (kind recording, id = the recording id) and its voicemail `message` (kind voicemail, id = the
  message id). `web_url` is NULL: `contentUri` serves the audio only with an OAuth bearer token
  that expires within the hour, so it is not a link a person can open later. The call log gives no
  start/end or length of the media (the recording metadata endpoint does; it is not extracted).
  A recomputed session's media replace all of its stored ones (staging_replace_rows_of_calls).
  The id is `ringcentral:<connection>:<session id>:<kind>:<recording or message id>`: the records of
  two sessions can carry the same recording id (real call logs do), and each call keeps its own row;
  `source_id` stays the provider's id.
-#}
{{ config(
    tags=['partitioned'],
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ staging_replace_rows_of_calls('ringcentral', 'stg_ringcentral__uc_call', 'source_id') }}",
    on_schema_change='append_new_columns',
) }}
{%- set changed = staging_changed() %}

with sessions as (
    select connection_id, source_id as call_key, type, user_id, user_name
    from {{ ref('stg_ringcentral__uc_call') }}
    where {{ changed }}
),

records as (
    -- a deleted record is no part of its session (stg_ringcentral__uc_call), nor are its recordings
    select *, coalesce(session_id, record_id) as call_key
    from {{ ref('stg_ringcentral__call_log') }}
    where not coalesce(deleted, false)
    {%- if is_incremental() %}
    {%- set session_of = "connection_id, coalesce(session_id, record_id)" %}
    {%- set changed_sessions -%}
        select connection_id, source_id from {{ ref('stg_ringcentral__uc_call') }} where {{ changed }}
    {%- endset %}
    -- the records of the sessions recomputed since the last run (a session is recomputed whenever one
    -- of its records is staged)
    and {{ staging_rows_with_keys(ref('stg_ringcentral__call_log'), session_of, changed_sessions) }}
    {%- endif %}
),

media as (
    select connection_id, call_key, recording_id as media_id, 'recording' as kind, _extracted_at
    from records
    where recording_id is not null
    union all
    select connection_id, call_key, message_id, 'voicemail', _extracted_at
    from records
    where message_id is not null and lower(message_type) = 'voicemail'
)

select
    {{ staging_uc_id('ringcentral', 'media.connection_id', "media.call_key || ':' || kind || ':' || media_id") }} as id,
    'ringcentral' as provider,
    media.connection_id,
    media_id as source_id,
    {{ staging_uc_id('ringcentral', 'media.connection_id', 'media.call_key') }} as call_id,
    cast(null as varchar) as contact_id,
    sessions.user_id,
    sessions.user_name,
    cast(null as timestamptz) as start_at,
    cast(null as timestamptz) as end_at,
    cast(null as integer) as duration_s,
    sessions.type,
    kind,
    cast(null as varchar) as web_url,
    cast(null as timestamptz) as created_at,
    cast(null as timestamptz) as updated_at,
    media._extracted_at,
    {{ staging_loaded_at() }} as _loaded_at
from media
left join sessions on media.connection_id = sessions.connection_id and media.call_key = sessions.call_key
qualify row_number() over (
    partition by media.connection_id, media.call_key, kind, media_id order by media._extracted_at desc) = 1
