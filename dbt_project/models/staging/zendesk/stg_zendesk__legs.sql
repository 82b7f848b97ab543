{#-
  Zendesk Talk call legs (incremental legs export), one row per (connection, leg id), typed; the
  version with the latest `updated_at` (then the latest extraction) wins. `call_id` links to
  stg_zendesk__calls. Legs of type `agent` tell which agents handled a call and its transfers.
-#}
{{ config(
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

{%- set landed_records = landing_source('zendesk', 'legs') %}

with landed as (
    -- each record is parsed once; every field below is read from this struct
    select *, json_transform(_record, '{"id": "VARCHAR", "call_id": "VARCHAR", "type": "VARCHAR", "agent_id": "VARCHAR", "user_id": "VARCHAR", "completion_status": "VARCHAR", "created_at": "VARCHAR", "updated_at": "VARCHAR", "duration": "VARCHAR", "talk_time": "VARCHAR", "hold_time": "VARCHAR", "wrap_up_time": "VARCHAR", "transferred_from": "VARCHAR", "transferred_to": "VARCHAR", "forwarded_to": "VARCHAR", "available_via": "VARCHAR"}') as r
    from {{ landed_records }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        r.id as leg_id,
        r.call_id as call_id,
        lower(r."type") as leg_type,
        nullif(r.agent_id, '0') as agent_id,
        r.user_id as user_id,
        lower(r.completion_status) as completion_status,
        {{ staging_iso("r.created_at") }} as created_at,
        {{ staging_iso("r.updated_at") }} as updated_at,
        cast(r.duration as integer) as duration,
        cast(r.talk_time as integer) as talk_time,
        cast(r.hold_time as integer) as hold_time,
        cast(r.wrap_up_time as integer) as wrap_up_time,
        r.transferred_from as transferred_from,
        r.transferred_to as transferred_to,
        r.forwarded_to as forwarded_to,
        r.available_via as available_via,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_keep_latest('parsed', 'updated_at', landed_records) }}
