{#-
  8x8 VCC recordings in the unified `uc_recording` shape: one row per recording file, the one table
  8x8 staging stores. The source id is the `filename` (unique per recording). The API gives the file
  name, not a link: fetching the audio needs the tenant token, so `web_url` is NULL. After the
  contract's columns it keeps what stg_eightbyeight__uc_call and __uc_user read (the call key, the
  agent login, the dialled number and the queue as the API gives them, the landing day).
  Incremental by recording: a run writes the recordings its window landed, except those whose stored
  version is the same or newer (the latest extraction wins).
-#}
{{ config(
    materialized='incremental',
    unique_key='id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
{{ staging_require_columns(['call_key', 'landed_date']) }}
with recordings as (
    select *, coalesce(transaction_id, recording_id) as call_key from {{ ref('stg_eightbyeight__recordings') }}
),

rebuilt as (
    select
        {{ staging_uc_id('eightbyeight', 'connection_id', 'recording_id') }} as id,
        'eightbyeight' as provider,
        connection_id,
        recording_id as source_id,
        {{ staging_uc_id('eightbyeight', 'connection_id', 'call_key') }} as call_id,
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
        -- what the other 8x8 models read (not part of the unified model)
        call_key,
        agent_id,
        phone_number,
        queue_id,
        queue_name,
        landed_date
    from recordings
)

{{ staging_newer_than_stored('rebuilt', '_extracted_at', key='id') }}
