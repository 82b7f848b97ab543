{#-
  RingCentral call queues in the unified `uc_queue` shape: the `Department` extensions of the
  extension snapshots (kind `queue`), never a user's own extension. stg_ringcentral__uc_call sets a
  call's queue only to such an extension, so every queue it names is here.
-#}
{{ config(materialized='ephemeral') }}
with snapshots as (
    select
        {{ staging_uc_id('ringcentral', 'connection_id', 'ext_id') }} as id,
        'ringcentral' as provider,
        connection_id,
        ext_id as source_id,
        name,
        'queue' as kind,
        cast(null as varchar) as number,
        extension,
        snapshot_at as first_seen_at,
        snapshot_at as last_seen_at,
        cast(null as boolean) as is_current,
        stream_latest_at
    from {{ ref('stg_ringcentral__extensions') }}
    where is_queue
)

{{ uc_directory_latest('snapshots') }}
