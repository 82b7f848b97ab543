{#-
  Zendesk queues in the unified `uc_queue` shape: the groups of the directory snapshots (`GET
  /api/v2/groups`, kind `group`: a Talk call is routed to a group, the call's `call_group_id`) and the
  Talk lines (`GET /api/v2/channels/voice/phone_numbers`, kind `line`, source id `phone_number:<id>`:
  their ids are not group ids), merged with the groups the calls name (a group deleted before the
  first snapshot keeps its id, unnamed).
-#}
{{ config(materialized='ephemeral') }}
with snapshots as (
    select
        {{ staging_uc_id('zendesk', '_connection_id', '_record_id') }} as id,
        'zendesk' as provider,
        _connection_id as connection_id,
        _record_id as source_id,
        _record ->> 'name' as name,
        'group' as kind,
        cast(null as varchar) as number,
        cast(null as varchar) as extension,
        snapshot_at as first_seen_at,
        snapshot_at as last_seen_at,
        cast(null as boolean) as is_current,
        stream_latest_at
    from {{ landing_snapshots('zendesk', 'groups') }}
    -- Zendesk keeps a deleted group listed with `deleted: true`: it is gone from that snapshot on
    where coalesce(cast(_record ->> 'deleted' as boolean), false) = false
    union all
    select
        {{ staging_uc_id('zendesk', '_connection_id', "'phone_number:' || _record_id") }},
        'zendesk',
        _connection_id,
        'phone_number:' || _record_id,
        coalesce(nullif(_record ->> 'nickname', ''), _record ->> 'name', _record ->> 'display_number'),
        'line',
        _record ->> 'number',
        cast(null as varchar),
        snapshot_at,
        snapshot_at,
        cast(null as boolean),
        stream_latest_at
    from {{ landing_snapshots('zendesk', 'phone_numbers') }}
),

directory as (
    {{ uc_directory_latest('snapshots') }}
),

seen as (
    {{ staging_queues_from_calls('zendesk', kind='group', name="cast(null as varchar)",
                                 calls=staging_landed_in_window('stg_zendesk__uc_call')) }}
)

{{ uc_directory_merge('uc_queue', 'directory', 'seen') }}
