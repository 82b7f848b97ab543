{#-
  Zendesk Talk calls in the unified `uc_call` shape (one row per call; legs add transfers): the table
  that stores Zendesk calls. After the contract's columns it keeps what stg_zendesk__uc_contact and
  __uc_user read (the agent and customer ids as the export gives them, the landing day).

  Enums come from seeds/zendesk/zendesk_enums.csv (macros/uc_enums.sql): a value not in it is UNKNOWN
  and listed in `_unknown_enums`. Outcome from the seed's meaning of `completion_status` (completed
  -> ANSWERED, pending_voicemail -> VOICEMAIL, abandoned_in_queue / _in_ivr / _on_hold -> ABANDONED,
  abandoned_in_voicemail / not_answered -> MISSED, failed -> FAILED; empty = in progress -> UNKNOWN),
  with two rules on `completed`: VOICEMAIL when `voicemail` is true, and MISSED when nobody talked
  (`talk_time` 0 or absent and no `time_to_answer`: the call ended without an agent or callee on it,
  e.g. in the IVR or a callback request; counting it answered would credit an agent with a call nobody
  took). `missed_reason` is the `completion_status` itself for every call that was not answered,
  `missed_reason_group` the seed's group of it (OTHER for a `completed` call that was not answered).
  Times: start = `created_at`; answered = start + `time_to_answer`; end = start + `duration`.
  Wait: `time_to_answer`, else (an unanswered inbound call) `wait_time` plus the IVR time. An outbound
  call has no queue: its `wait_time` is 0 by construction, so its wait is `time_to_answer` or NULL, as
  the other providers give it. The agent: `agent_id`, else the first agent leg of the call (a call
  transferred or answered through a group can carry no `agent_id` while its legs name the agent).
  The export names no external number (`phone_number` is the Talk line) and no agent or group names.

  Incremental by call: a run writes the calls its window landed (except those whose stored version
  is the same or newer: the latest `updated_at` wins), and the stored calls that a leg staged since
  the table last ran belongs to, with their transfers counted again.
-#}
{{ config(
    tags=['partitioned'],
    materialized='incremental',
    unique_key='id',
    incremental_strategy='delete+insert',
    on_schema_change='append_new_columns',
) }}
{{ staging_require_columns(['agent_id', 'customer_id', 'landed_date']) }}
with landed as (
    select
        c.*,
        dr.meaning as direction_meaning,
        case when c.completion_status is not null then coalesce(cs.missed_reason_group, 'UNKNOWN') end
            as reason_group,
        case
            when c.completion_status is null then 'UNKNOWN'
            when cs.meaning = 'ANSWERED' and c.voicemail then 'VOICEMAIL'
            when cs.meaning = 'ANSWERED' and coalesce(c.talk_time, 0) = 0 and c.time_to_answer is null then 'MISSED'
            else coalesce(cs.meaning, 'UNKNOWN')
        end as outcome,
        {{ uc_unknown_enums([
            ('completion_status', 'c.completion_status', 'cs.meaning is not null'),
            ('direction', 'c.direction', 'dr.meaning is not null'),
        ]) }} as _unknown_enums
    from {{ ref('stg_zendesk__calls') }} as c
    left join {{ uc_enum('zendesk', 'completion_status') }} as cs on cs.value = c.completion_status
    left join {{ uc_enum('zendesk', 'direction') }} as dr on dr.value = c.direction
),

mapped as (
    select
        {{ staging_uc_id('zendesk', 'connection_id', 'call_id') }} as id,
        'zendesk' as provider,
        connection_id,
        call_id as source_id,
        created_at,
        updated_at,
        created_at as start_at,
        created_at + to_seconds(time_to_answer) as answered_at,
        created_at + to_seconds(duration) as end_at,
        cast(created_at as date) as call_date,
        coalesce(direction_meaning, 'UNKNOWN') as type,
        cast(null as varchar) as telephone,
        {{ staging_uc_id('zendesk', 'connection_id', 'agent_id') }} as user_id,
        cast(null as varchar) as user_name,
        cast(null as varchar) as user_phone,
        {{ staging_uc_id('zendesk', 'connection_id', 'customer_id') }} as contact_id,
        cast(null as boolean) as is_private,
        outcome,
        case
            when outcome <> 'ANSWERED' and (outcome <> 'UNKNOWN' or reason_group = 'UNKNOWN')
                and completion_status <> 'completed' then completion_status
        end as missed_reason,
        {{ uc_missed_reason_group('outcome', "case when completion_status = 'completed' then null else reason_group end") }}
            as missed_reason_group,
        {{ staging_uc_id('zendesk', 'connection_id', 'call_group_id') }} as queue_id,
        cast(null as varchar) as queue_name,
        case
            when direction_meaning = 'OUTBOUND' then time_to_answer
            else coalesce(time_to_answer, wait_time + coalesce(ivr_time_spent, 0))
        end as wait_s,
        talk_time as talk_s,
        hold_time as hold_s,
        wrap_up_time as wrap_up_s,
        duration as duration_s,
        coalesce(recording_time, 0) > 0 as has_recording,
        cast(null as integer) as transfer_count,  -- counted from the legs below
        'call_log' as record_source,
        _extracted_at,
        _unknown_enums,
        -- what the other Zendesk models read (not part of the unified model)
        agent_id,
        customer_id,
        landed_date
    from landed
),

newer as (
    {{ staging_newer_than_stored('mapped', 'updated_at', key='id') }}
),

calls as (
    select * from newer
    {%- if is_incremental() %}
    union all by name
    -- a leg staged since the last run changes its call's transfers: the stored call is written again
    -- (unless a newer version of it landed in this run)
    select stored.* exclude (_loaded_at, _previous_call_dates), {{ staging_loaded_at() }} as _loaded_at
    from {{ this }} as stored
    where (stored.connection_id, stored.source_id) in (
        select connection_id, call_id from {{ ref('stg_zendesk__legs') }} where {{ staging_changed() }}
    )
      and not exists (select 1 from newer where newer.id = stored.id)
    {%- endif %}
),

-- what a call's legs say: its transfers (agent legs that came by transfer; NULL without agent legs),
-- its agent when the call names none (the agent leg that completed first, one not reached by transfer
-- preferred), and leg types the seed does not know
leg_facts as (
    select
        l.connection_id,
        l.call_id,
        case when count(*) filter (where lt.meaning = 'AGENT') > 0
            then count(*) filter (where lt.meaning = 'AGENT' and l.transferred_from is not null) end
            as transfer_count,
        arg_min(
            coalesce(l.agent_id, l.user_id),
            (l.completion_status is distinct from 'completed', l.transferred_from is not null, l.updated_at)
        ) filter (where lt.meaning = 'AGENT' and coalesce(l.agent_id, l.user_id) is not null) as leg_agent_id,
        list_distinct(list(l.leg_type) filter (where lt.meaning is null and l.leg_type is not null))
            as unknown_leg_types
    from {{ ref('stg_zendesk__legs') }} as l
    left join {{ uc_enum('zendesk', 'leg_type') }} as lt on lt.value = l.leg_type
    -- the caller's own legs (half of all legs) say nothing of agents or transfers
    where lt.meaning is distinct from 'CUSTOMER'
    {%- if is_incremental() %}
      and (l.connection_id, l.call_id) in (select connection_id, source_id from calls)
    {%- endif %}
    group by all
),

rebuilt as (
    select calls.* replace (
        cast(f.transfer_count as integer) as transfer_count,
        coalesce(calls.user_id, {{ staging_uc_id('zendesk', 'calls.connection_id', 'f.leg_agent_id') }}) as user_id,
        nullif(list_distinct(list_concat(
            coalesce(calls._unknown_enums, []),
            coalesce(list_transform(f.unknown_leg_types, lambda t: {'field': 'leg_type', 'value': t}), [])
        )), []) as _unknown_enums
    )
    from calls
    left join leg_facts as f on f.connection_id = calls.connection_id and f.call_id = calls.source_id
)

{{ staging_previous_call_dates('rebuilt', can_move=false) }}
