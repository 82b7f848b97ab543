{#-
  Zoom Phone call details (`GET /v2/phone/call_history/{uuid}`, landed as the `call_history` stream), one
  row per (connection, call), with what the unified models read from its `call_elements[]` (the legs), in
  `segment` order; `has_elements` is false for a call landed as its list item (its detail answered 404). Element events and
  party types come from seeds/zoomphone/zoomphone_enums.csv (`event`: AGENT = `ring_to_member`, TRANSFER =
  `warm_transfer` / `direct_transfer` / `forward`; `ext_type`: QUEUE = `call_queue`, USER = `user`):
  - the queue: the first element whose callee is a `call_queue` (its ext id and name);
  - `waiting_time`: that element's (else the first element's), in seconds;
  - the agent: the first element whose callee is a user and whose result means ANSWERED, else (nobody
    answered) the last element that rang a user; of an outbound call, the caller of its first element;
  - `hold_s`: the sum of the elements' `hold_time`; `transfer_count`: the TRANSFER elements;
  - `unknown_events`, `unknown_results`: element values the seed does not know.
  The latest extraction wins.
-#}
{{ config(
    tags=['partitioned'],
    materialized='incremental',
    unique_key='record_key',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}

{%- set landed_records = landing_source('zoomphone', 'call_history') %}
{%- set known_events = uc_enum_values('zoomphone', 'event') %}
{%- set transfer_events = uc_enum_values('zoomphone', 'event', 'TRANSFER') %}
{%- set known_results = uc_enum_values('zoomphone', 'call_result') %}
{%- set answered = uc_enum_values('zoomphone', 'call_result', 'ANSWERED') %}

with landed as (
    select *, json_transform(_record, '{"call_history_uuid": "VARCHAR", "direction": "VARCHAR", "call_elements": [{"event": "VARCHAR", "result": "VARCHAR", "segment": "VARCHAR", "hold_time": "VARCHAR", "waiting_time": "VARCHAR", "caller_ext_id": "VARCHAR", "caller_name": "VARCHAR", "caller_email": "VARCHAR", "caller_ext_number": "VARCHAR", "caller_ext_type": "VARCHAR", "callee_ext_id": "VARCHAR", "callee_name": "VARCHAR", "callee_email": "VARCHAR", "callee_ext_number": "VARCHAR", "callee_ext_type": "VARCHAR"}]}') as r
    from {{ landed_records }}
),

elements as (
    select
        *,
        list_sort(list_transform(coalesce(r.call_elements, []), lambda e: {
            'segment': cast(e.segment as integer), 'event': lower(e.event), 'result': lower(trim(e.result)),
            'hold_time': cast(e.hold_time as integer), 'waiting_time': cast(e.waiting_time as integer),
            'caller_ext_id': e.caller_ext_id, 'caller_name': e.caller_name, 'caller_email': e.caller_email,
            'caller_ext_number': e.caller_ext_number, 'caller_ext_type': lower(e.caller_ext_type),
            'callee_ext_id': e.callee_ext_id, 'callee_name': e.callee_name, 'callee_email': e.callee_email,
            'callee_ext_number': e.callee_ext_number, 'callee_ext_type': lower(e.callee_ext_type)
        })) as els
    from landed
),

parsed as (
    select
        _connection_id || ':' || _record_id as record_key,
        _connection_id as connection_id,
        coalesce(r.call_history_uuid, _record_id) as call_history_uuid,
        list_filter(els, lambda e: e.callee_ext_type = 'call_queue')[1] as queue_el,
        coalesce(list_filter(els, lambda e: e.callee_ext_type = 'call_queue')[1].waiting_time, els[1].waiting_time)
            as waiting_time,
        case
            when lower(r.direction) = 'outbound' then els[1]
            else coalesce(
                list_filter(els, lambda e: e.callee_ext_type = 'user' and e.result in {{ answered }})[1],
                list_filter(els, lambda e: e.callee_ext_type = 'user')[-1]
            )
        end as agent_el,
        lower(r.direction) as direction,
        list_sum(list_transform(els, lambda e: coalesce(e.hold_time, 0))) as hold_s,
        len(list_filter(els, lambda e: e.event in {{ transfer_events }})) as transfer_count,
        nullif(list_distinct(list_transform(list_filter(els, lambda e: e.event not in {{ known_events }}),
            lambda e: e.event)), []) as unknown_events,
        nullif(list_distinct(list_transform(list_filter(els, lambda e: e.result not in {{ known_results }}),
            lambda e: e.result)), []) as unknown_results,
        len(els) as element_count,
        r.call_elements is not null as has_elements,
        _extracted_at,
        "date" as landed_date
    from elements
),

flat as (
    select
        record_key, connection_id, call_history_uuid,
        queue_el.callee_ext_id as queue_ext_id,
        queue_el.callee_name as queue_name,
        waiting_time,
        case when direction = 'outbound' then agent_el.caller_ext_id else agent_el.callee_ext_id end as agent_ext_id,
        case when direction = 'outbound' then agent_el.caller_name else agent_el.callee_name end as agent_name,
        case when direction = 'outbound' then agent_el.caller_email else agent_el.callee_email end as agent_email,
        case when direction = 'outbound' then agent_el.caller_ext_number else agent_el.callee_ext_number end
            as agent_ext_number,
        hold_s, transfer_count, unknown_events, unknown_results, element_count, has_elements,
        _extracted_at, landed_date
    from parsed
)

{{ staging_keep_latest('flat', '_extracted_at', landed_records) }}
