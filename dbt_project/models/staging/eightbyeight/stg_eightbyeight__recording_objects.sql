{#-
  8x8 Cloud Storage Service contact-center recording objects (`GET /storage/{region}/v3/objects`,
  `type==callcenterrecording`), one row per (connection, object id): what names 8x8 agents. Only the tags the
  8x8 models read are parsed (every other field stays in `raw.eightbyeight_recording_objects`): `agentId` (the
  agent's 8x8 user id, not the VCC login `agentID` the Recordings API gives), `agentName`, `mediaUrl` (the VCC
  recording's file name without its `S<day>/` folder: what links the object to its recording, and so the
  name to the login), `transactionId` and `startTime` (epoch ms). Tag values are strings; "" becomes NULL.
  Stored (incremental by object, the latest extraction wins): the agent names of every day are read by
  stg_eightbyeight__uc_user_snapshot, and an object is created after its recording ends, so it may land a day
  after the recording it names.
-#}
{{ config(
    tags=['partitioned'],
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

{%- set landed_records = landing_source('eightbyeight', 'recording_objects') %}

with landed as (
    select *, json_transform(_record, '{"tags": [{"key": "VARCHAR", "value": "VARCHAR"}]}').tags as tags
    from {{ landed_records }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        _record_id as object_id,
        nullif(list_filter(tags, t -> t.key = 'agentId')[1].value, '') as agent_user_id,
        nullif(list_filter(tags, t -> t.key = 'agentName')[1].value, '') as agent_name,
        nullif(list_filter(tags, t -> t.key = 'mediaUrl')[1].value, '') as media_url,
        nullif(list_filter(tags, t -> t.key = 'transactionId')[1].value, '') as transaction_id,
        {{ staging_epoch("cast(list_filter(tags, t -> t.key = 'startTime')[1].value as double) / 1000") }} as start_at,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_keep_latest('parsed', '_extracted_at', landed_records) }}
