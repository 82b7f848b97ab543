{#-
  Zoom Phone calls in the unified `uc_call` shape: one row per call history item (`call_history_uuid`),
  with what its detail's `call_elements` add (stg_zoomphone__call_elements): the queue, the agent, the
  wait, the hold and the transfers. After the contract's columns it keeps what stg_zoomphone__uc_user and
  __uc_recording read (the native `call_id`, the landing day).

  Enums come from seeds/zoomphone/zoomphone_enums.csv (macros/uc_enums.sql): a value not in it is UNKNOWN
  and listed in `_unknown_enums` (with the elements' unknown events and results). Outcome: the seed's
  meaning of `call_result`; `missed_reason` is the `call_result` of a call not answered, its group the
  seed's. Direction: INTERNAL when `connect_type` is internal, else the seed's meaning of `direction`.
  Times (providers.md section 7, KPI mapping): wait = the queue element's `waiting_time`, else answer -
  start, else (an inbound call nobody answered) end - start; hold = the elements' `hold_time`; talk =
  end - answer - hold; no wrap-up per call. Without a detail (a call landed as its list item), queue, hold and transfers are NULL and
  the agent is the list item's user party (the callee of an inbound call, the caller of an outbound one).
  `telephone` is the external party's number (absent for a hidden caller id).

  Incremental by call: a run recomputes the calls whose item or detail was staged since it last ran.
-#}
{{ config(
    tags=['partitioned'],
    materialized='incremental',
    unique_key='id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
{%- set changed = staging_changed() %}

with touched as (
    select connection_id, call_history_uuid from {{ ref('stg_zoomphone__call_history') }} where {{ changed }}
    union
    select connection_id, call_history_uuid from {{ ref('stg_zoomphone__call_elements') }} where {{ changed }}
),

calls as (
    select
        h.*,
        e.queue_ext_id, e.queue_name, e.waiting_time, e.agent_ext_id, e.agent_name, e.agent_ext_number,
        e.hold_s as element_hold_s, e.transfer_count as element_transfers, e.unknown_events, e.unknown_results,
        coalesce(e.has_elements, false) as has_detail,
        res.meaning as result_meaning,
        case when h.call_result is not null then coalesce(res.missed_reason_group, 'UNKNOWN') end as reason_group,
        case when ct.meaning = 'INTERNAL' then 'INTERNAL' else coalesce(dr.meaning, 'UNKNOWN') end as call_type,
        nullif(list_concat(
            coalesce({{ uc_unknown_enums([
                ('call_result', 'h.call_result', 'res.meaning is not null'),
                ('direction', 'h.direction', 'dr.meaning is not null'),
                ('connect_type', 'h.connect_type', 'ct.meaning is not null'),
            ]) }}, []),
            coalesce(list_transform(e.unknown_events, lambda v: {'field': 'event', 'value': v}), []),
            coalesce(list_transform(e.unknown_results, lambda v: {'field': 'call_result', 'value': v}), [])
        ), []) as _unknown_enums
    from {{ ref('stg_zoomphone__call_history') }} as h
    left join {{ ref('stg_zoomphone__call_elements') }} as e
        on e.connection_id = h.connection_id and e.call_history_uuid = h.call_history_uuid
    left join {{ uc_enum('zoomphone', 'call_result') }} as res on res.value = h.call_result
    left join {{ uc_enum('zoomphone', 'direction') }} as dr on dr.value = h.direction
    left join {{ uc_enum('zoomphone', 'connect_type') }} as ct on ct.value = h.connect_type
    where (h.connection_id, h.call_history_uuid) in (select connection_id, call_history_uuid from touched)
),

mapped as (
    select
        *,
        case when call_result is null then 'UNKNOWN' else coalesce(result_meaning, 'UNKNOWN') end as outcome,
        case
            when has_detail then agent_ext_id
            when direction = 'inbound' and callee_ext_type = 'user' then callee_ext_id
            when direction = 'outbound' and caller_ext_type = 'user' then caller_ext_id
        end as user_ext_id,
        case
            when has_detail then agent_name
            when direction = 'inbound' and callee_ext_type = 'user' then callee_name
            when direction = 'outbound' and caller_ext_type = 'user' then caller_name
        end as agent_display_name,
        case
            when has_detail then agent_ext_number
            when direction = 'inbound' and callee_ext_type = 'user' then callee_ext_number
            when direction = 'outbound' and caller_ext_type = 'user' then caller_ext_number
        end as agent_extension
    from calls
),

rebuilt as (
    select
        {{ staging_uc_id('zoomphone', 'connection_id', 'call_history_uuid') }} as id,
        'zoomphone' as provider,
        connection_id,
        call_history_uuid as source_id,
        start_time as created_at,
        coalesce(end_time, start_time) as updated_at,
        start_time as start_at,
        answer_time as answered_at,
        end_time as end_at,
        cast(start_time as date) as call_date,
        call_type as type,
        case
            when call_type = 'INTERNAL' then null
            when direction = 'inbound' then caller_did_number
            else callee_did_number
        end as telephone,
        {{ staging_uc_id('zoomphone', 'connection_id', 'user_ext_id') }} as user_id,
        agent_display_name as user_name,
        agent_extension as user_phone,
        cast(null as varchar) as contact_id,
        cast(null as boolean) as is_private,
        outcome,
        case when outcome <> 'ANSWERED' and (outcome <> 'UNKNOWN' or reason_group = 'UNKNOWN') then call_result end
            as missed_reason,
        {{ uc_missed_reason_group('outcome', 'reason_group') }} as missed_reason_group,
        {{ staging_uc_id('zoomphone', 'connection_id', 'queue_ext_id') }} as queue_id,
        queue_name,
        case
            when waiting_time is not null then waiting_time
            when answer_time is not null then {{ staging_seconds('answer_time', 'start_time') }}
            when call_type = 'INBOUND' and end_time is not null then {{ staging_seconds('end_time', 'start_time') }}
        end as wait_s,
        case
            when answer_time is not null and end_time is not null
                then {{ staging_seconds('end_time', 'answer_time') }} - coalesce(element_hold_s, 0)
            when outcome <> 'UNKNOWN' then 0
        end as talk_s,
        case when has_detail then element_hold_s end as hold_s,
        cast(null as integer) as wrap_up_s,
        coalesce(duration, {{ staging_seconds('end_time', 'start_time') }}) as duration_s,
        recording_status = 'recorded' as has_recording,
        cast(case when has_detail then element_transfers end as integer) as transfer_count,
        'call_log' as record_source,
        _extracted_at,
        _unknown_enums,
        {{ staging_loaded_at() }} as _loaded_at,
        -- what the other Zoom Phone models read (not part of the unified model)
        call_id as native_call_id,
        landed_date
    from mapped
)

{{ staging_previous_call_dates('rebuilt', can_move=false) }}
