{#-
  8x8 VCC recordings in the unified `uc_recording` shape: one row per recording file; the source id
  is the `filename` (unique per recording). The API gives the file name, not a link: fetching the
  audio needs the tenant token, so `web_url` is NULL.
-#}
{{ config(
    materialized='incremental',
    unique_key='id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
with recordings as (
    select * from {{ ref('stg_eightbyeight__recordings') }}
    where {{ staging_changed() }}
)

select
    {{ staging_uc_id('eightbyeight', 'connection_id', 'recording_id') }} as id,
    'eightbyeight' as provider,
    connection_id,
    recording_id as source_id,
    {{ staging_uc_id('eightbyeight', 'connection_id', 'coalesce(transaction_id, recording_id)') }} as call_id,
    cast(null as varchar) as contact_id,
    {{ staging_uc_id('eightbyeight', 'connection_id', 'agent_id') }} as user_id,
    cast(null as varchar) as user_name,
    start_date as start_at,
    start_date + to_seconds(duration) as end_at,
    duration as duration_s,
    {{ staging_eightbyeight_call_type('channel') }} as type,
    'recording' as kind,
    cast(null as varchar) as web_url,
    cast(null as timestamptz) as created_at,
    cast(null as timestamptz) as updated_at,
    _extracted_at,
    {{ staging_loaded_at() }} as _loaded_at
from recordings
