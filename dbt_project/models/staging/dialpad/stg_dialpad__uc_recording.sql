{#-
  Dialpad call recordings and voicemails in the unified `uc_recording` shape: the `recording_details`
  of the stored calls (stg_dialpad__uc_call), read from them, so a call's media are always those of its stored
  version. The source id is the recording's own `id`; start and length are the recording's
  (`start_time`, `duration` in milliseconds). `kind` is the seed's meaning of `recording_type`
  (callrecording and admincallrecording: recording; voicemail: voicemail; a type the seed does not
  know: unknown, and the call lists it in `_unknown_enums`). `web_url` stays NULL: the
  detail's `url` is an access URL whose lifetime Dialpad does not document (kept in the landing zone).
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
with media as (
    select c.*, unnest(c.recording_details) as d
    from {{ ref('stg_dialpad__uc_call') }} as c
)

select
    {{ staging_uc_id('dialpad', 'media.connection_id', "coalesce(d.id, media.source_id || ':' || d.recording_type)") }} as id,
    'dialpad' as provider,
    media.connection_id,
    coalesce(d.id, media.source_id || ':' || d.recording_type) as source_id,
    media.id as call_id,
    media.contact_id,
    media.user_id,
    media.user_name,
    d.start_at as start_at,
    d.start_at + to_milliseconds(cast(d.duration_ms as bigint)) as end_at,
    cast(floor(d.duration_ms / 1000) as integer) as duration_s,
    media.type,
    coalesce(lower(rt.meaning), 'unknown') as kind,
    cast(null as varchar) as web_url,
    cast(null as timestamptz) as created_at,
    cast(null as timestamptz) as updated_at,
    media._extracted_at,
    media._loaded_at
from media
left join {{ uc_enum('dialpad', 'recording_type') }} as rt on rt.value = d.recording_type
