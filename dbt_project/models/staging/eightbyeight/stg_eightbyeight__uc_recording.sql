{#-
  8x8 VCC recordings in the unified `uc_recording` shape: one row per recording file, the one table
  8x8 staging stores. The source id is the `filename` (unique per recording: it is the landing's record
  id, so one recording is one record and cannot belong to two calls). The API gives the file
  name, not a link: fetching the audio needs the tenant token, so `web_url` is NULL. After the
  contract's columns it keeps what stg_eightbyeight__uc_call and __uc_user read (the call key, the
  agent login, the dialled number and the queue as the API gives them, the channel values the enum seed
  does not know, the landing day). Type from the channel's kind in seeds/eightbyeight/eightbyeight_enums.csv:
  `#virtual_outbound#` OUTBOUND, `#virtual_daa#` (direct agent access) and a dialled number INBOUND; no
  channel, or a `#...#` kind the seed does not know, UNKNOWN.
  Incremental by recording: a run writes the recordings its window landed, except those whose stored
  version is the same or newer (the latest extraction wins).
-#}
{{ config(
    tags=['partitioned'],
    materialized='incremental',
    unique_key='id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
{{ staging_require_columns(['call_key', 'landed_date']) }}
with recordings as (
    -- the channel's kind (seeds/eightbyeight/eightbyeight_enums.csv): a `#...#` constant, or the number the
    -- caller dialled; a `#...#` channel the seed does not know is UNKNOWN and listed in `_unknown_enums`
    select r.*, coalesce(r.transaction_id, r.recording_id) as call_key, ch.meaning as channel_meaning
    from {{ ref('stg_eightbyeight__recordings') }} as r
    left join {{ uc_enum('eightbyeight', 'channel') }} as ch
        on ch.value = case when r.channel like '#%#' then r.channel else '<dialled number>' end
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
        case when channel is not null then coalesce(channel_meaning, 'UNKNOWN') else 'UNKNOWN' end as type,
        'recording' as kind,
        cast(null as varchar) as web_url,
        cast(null as timestamptz) as created_at,
        cast(null as timestamptz) as updated_at,
        _extracted_at,
        -- what the other 8x8 models read (not part of the unified model)
        {{ uc_unknown_enums([('channel', 'channel', 'channel_meaning is not null')]) }} as _unknown_enums,
        call_key,
        agent_id,
        phone_number,
        queue_id,
        queue_name,
        landed_date
    from recordings
)

{{ staging_newer_than_stored('rebuilt', '_extracted_at', key='id') }}
