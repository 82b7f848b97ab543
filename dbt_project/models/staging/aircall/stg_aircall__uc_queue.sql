{#-
  Aircall queues in the unified `uc_queue` shape: the numbers (lines) of the directory snapshots
  (`GET /v1/numbers`: the line an inbound call came in on is its queue, kind `line`) and the teams
  (`GET /v1/teams`, kind `team`, source id `team:<id>` since team and number ids share one space),
  merged with the lines the calls name (an inbound call's `number`: a number deleted before the first
  snapshot still has the name the calls give it).
-#}
{{ config(materialized='ephemeral') }}
with snapshots as (
    select
        {{ staging_uc_id('aircall', '_connection_id', '_record_id') }} as id,
        'aircall' as provider,
        _connection_id as connection_id,
        _record_id as source_id,
        _record ->> 'name' as name,
        'line' as kind,
        nullif(regexp_replace(coalesce(_record ->> 'digits', ''), '[^0-9+]', '', 'g'), '') as number,
        cast(null as varchar) as extension,
        snapshot_at as first_seen_at,
        snapshot_at as last_seen_at,
        cast(null as boolean) as is_current,
        stream_latest_at
    from {{ landing_snapshots('aircall', 'numbers') }}
    union all
    select
        {{ staging_uc_id('aircall', '_connection_id', "'team:' || _record_id") }},
        'aircall',
        _connection_id,
        'team:' || _record_id,
        _record ->> 'name',
        'team',
        cast(null as varchar),
        cast(null as varchar),
        snapshot_at,
        snapshot_at,
        cast(null as boolean),
        stream_latest_at
    from {{ landing_snapshots('aircall', 'teams') }}
),

directory as (
    {{ uc_directory_latest('snapshots') }}
),

seen as (
    {{ staging_queues_from_calls('aircall', kind='line', name="arg_max(queue_name, _extracted_at)",
                                 calls=staging_landed_in_window('stg_aircall__uc_call')) }}
)

{{ uc_directory_merge('uc_queue', 'directory', 'seen') }}
