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

with landed as (
    select * from {{ landing_source('zendesk', 'legs') }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        (_record->>'$.id') as leg_id,
        (_record->>'$.call_id') as call_id,
        lower(_record->>'$.type') as leg_type,
        nullif(_record->>'$.agent_id', '0') as agent_id,
        (_record->>'$.user_id') as user_id,
        lower(_record->>'$.completion_status') as completion_status,
        {{ staging_iso("(_record->>'$.created_at')") }} as created_at,
        {{ staging_iso("(_record->>'$.updated_at')") }} as updated_at,
        cast(_record->>'$.duration' as integer) as duration,
        cast(_record->>'$.talk_time' as integer) as talk_time,
        cast(_record->>'$.hold_time' as integer) as hold_time,
        cast(_record->>'$.wrap_up_time' as integer) as wrap_up_time,
        (_record->>'$.transferred_from') as transferred_from,
        (_record->>'$.transferred_to') as transferred_to,
        (_record->>'$.forwarded_to') as forwarded_to,
        (_record->>'$.available_via') as available_via,
        _record,
        _record_id,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_keep_latest('parsed', 'updated_at') }}
