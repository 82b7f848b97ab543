{#-
  Zendesk Talk call legs (incremental legs export), one row per (connection, leg id), typed: the
  fields the unified models read (every other field stays in `raw.zendesk_legs`); the version with
  the latest `updated_at` (then the latest extraction) wins. `call_id` links to the call.
  Legs of type `agent` tell which agents handled a call (the leg's `completion_status`: whether the
  agent took it) and its transfers.
-#}
{{ config(
    tags=['partitioned'],
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

{%- set landed_records = landing_source('zendesk', 'legs') %}

with landed as (
    -- each record is parsed once; every field below is read from this struct
    select *, json_transform(_record, '{"call_id": "VARCHAR", "type": "VARCHAR", "agent_id": "VARCHAR", "user_id": "VARCHAR", "updated_at": "VARCHAR", "transferred_from": "VARCHAR", "completion_status": "VARCHAR"}') as r
    from {{ landed_records }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        r.call_id as call_id,
        lower(r."type") as leg_type,
        nullif(r.agent_id, '0') as agent_id,
        r.user_id as user_id,
        {{ staging_iso("r.updated_at") }} as updated_at,
        r.transferred_from as transferred_from,
        lower(r.completion_status) as completion_status,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_keep_latest('parsed', 'updated_at', landed_records) }}
