{#-
  Zoom Phone recordings in the unified `uc_recording` shape (kind recording), one row per recording id.
  The call is the call history item with the recording's native `call_id` (NULL until that item has
  landed); the user is the owner when it is a user. `web_url` is NULL: `download_url` serves the audio
  only with an OAuth token that expires within the hour, not a link a person can open later.
  Incremental by recording: a run writes the recordings staged since it last ran.
-#}
{{ config(
    tags=['partitioned'],
    materialized='incremental',
    unique_key='id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

with recordings as (
    select * from {{ ref('stg_zoomphone__recordings') }} where {{ staging_changed() }}
),

calls as (
    select connection_id, call_id, arg_max(call_history_uuid, start_time) as call_history_uuid
    from {{ ref('stg_zoomphone__call_history') }}
    where (connection_id, call_id) in (select connection_id, call_id from recordings)
    group by all
)

select
    {{ staging_uc_id('zoomphone', 'r.connection_id', 'r.recording_id') }} as id,
    'zoomphone' as provider,
    r.connection_id,
    r.recording_id as source_id,
    {{ staging_uc_id('zoomphone', 'r.connection_id', 'c.call_history_uuid') }} as call_id,
    cast(null as varchar) as contact_id,
    case when lower(r.owner_type) = 'user' then {{ staging_uc_id('zoomphone', 'r.connection_id', 'r.owner_id') }} end
        as user_id,
    case when lower(r.owner_type) = 'user' then r.owner_name end as user_name,
    r.date_time as start_at,
    r.end_time as end_at,
    r.duration as duration_s,
    dr.meaning as type,
    'recording' as kind,
    cast(null as varchar) as web_url,
    r.date_time as created_at,
    cast(null as timestamptz) as updated_at,
    r._extracted_at,
    {{ staging_loaded_at() }} as _loaded_at
from recordings as r
left join calls as c on c.connection_id = r.connection_id and c.call_id = r.call_id
left join {{ uc_enum('zoomphone', 'direction') }} as dr on dr.value = r.direction
