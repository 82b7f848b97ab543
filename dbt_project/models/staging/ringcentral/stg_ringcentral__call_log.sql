{#-
  RingCentral call-log records (company call log, Detailed view), one row per (connection, record
  id), typed: the fields the unified models read (every other field stays in
  `raw.ringcentral_call_log`). Of the legs it keeps `agent_legs`, the non-master legs that ring an
  agent (`Accept`) or transfer the call to one (`TransferCall`), as a list of structs, and
  `transfer_legs`, the record's number of `TransferCall` legs (NULL without legs: Simple view). The
  other legs, mostly master legs repeating the record's own parties, are two thirds of all legs in
  the sandbox's data; storing every leg made this table's biggest column. Leg types come from
  seeds/ringcentral/ringcentral_enums.csv (`leg_type`: AGENT = `Accept`, TRANSFER = `TransferCall`);
  `unknown_leg_types` lists the record's leg types the seed does not know. Times are ISO-8601 with
  `Z` (ms). The version with the latest `lastModifiedTime` (then the latest extraction) wins.
-#}
{{ config(
    tags=['partitioned'],
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

{%- set landed_records = landing_source('ringcentral', 'call_log') %}
{#- the leg types of the enum seed, as literals: a list joined in would be copied into every leg -#}
{%- set known = uc_enum_values('ringcentral', 'leg_type') %}
{%- set transfer = uc_enum_values('ringcentral', 'leg_type', 'TRANSFER') %}
{%- set agent = uc_enum_values('ringcentral', 'leg_type', 'AGENT') %}

with landed as (
    -- each record is parsed once, into typed fields and structs
    select *, json_transform(_record, '{"id": "VARCHAR", "sessionId": "VARCHAR", "startTime": "VARCHAR", "duration": "VARCHAR", "durationMs": "VARCHAR", "type": "VARCHAR", "direction": "VARCHAR", "result": "VARCHAR", "reason": "VARCHAR", "deleted": "VARCHAR", "lastModifiedTime": "VARCHAR", "from": {"phoneNumber": "VARCHAR", "extensionNumber": "VARCHAR", "extensionId": "VARCHAR", "name": "VARCHAR"}, "to": {"phoneNumber": "VARCHAR", "extensionNumber": "VARCHAR", "extensionId": "VARCHAR", "name": "VARCHAR"}, "extension": {"id": "VARCHAR"}, "recording": {"id": "VARCHAR"}, "message": {"id": "VARCHAR", "type": "VARCHAR"}, "legs": [{"legType": "VARCHAR", "master": "VARCHAR", "legIndex": "VARCHAR", "startTime": "VARCHAR", "result": "VARCHAR", "extension": {"id": "VARCHAR"}, "to": {"phoneNumber": "VARCHAR", "extensionNumber": "VARCHAR", "extensionId": "VARCHAR", "name": "VARCHAR"}}]}') as r
    from {{ landed_records }}
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        r.id as record_id,
        r.sessionId as session_id,
        {{ staging_iso("r.startTime") }} as start_time,
        cast(r.duration as integer) as duration,
        cast(r.durationMs as bigint) as duration_ms,
        r."type" as record_type,
        r.direction as direction,
        r.result as result,
        r.reason as reason,
        r."from".phoneNumber as from_phone_number,
        r."from".extensionNumber as from_extension_number,
        r."from".extensionId as from_extension_id,
        r."from".name as from_name,
        r."to".phoneNumber as to_phone_number,
        r."to".extensionNumber as to_extension_number,
        r."to".extensionId as to_extension_id,
        r."to".name as to_name,
        r.extension.id as extension_id,
        r.recording.id as recording_id,
        r.message.id as message_id,
        r.message.type as message_type,
        cast(r.deleted as boolean) as deleted,
        {{ staging_iso("r.lastModifiedTime") }} as last_modified_time,
        list_transform(
            list_filter(
                r.legs,
                lambda l: (l.legType in {{ agent }} or l.legType in {{ transfer }})
                    and not coalesce(cast(l.master as boolean), false)
            ),
            lambda l: {
                'leg_type': l.legType,
                'leg_index': cast(l.legIndex as integer),
                'start_time': {{ staging_iso("l.startTime") }},
                'result': l.result,
                'extension_id': l.extension.id,
                'to_extension_id': l."to".extensionId,
                'to_name': l."to".name,
                'to_phone_number': l."to".phoneNumber,
                'to_extension_number': l."to".extensionNumber
            }
        ) as agent_legs,
        len(list_filter(r.legs, lambda l: l.legType in {{ transfer }})) as transfer_legs,
        nullif(list_distinct(list_transform(
            list_filter(r.legs, lambda l: l.legType not in {{ known }}), lambda l: l.legType
        )), []) as unknown_leg_types,
        _extracted_at,
        "date" as landed_date
    from landed
)

{{ staging_keep_latest('parsed', 'last_modified_time', landed_records) }}
