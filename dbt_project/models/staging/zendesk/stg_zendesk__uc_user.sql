{#-
  Zendesk agents: the agents and admins of the Users API snapshots (latest version: name, email,
  phone, role) merged with the agents seen in calls (`agent_id`) and agent legs (`agent_id` /
  `user_id`), which the export gives as ids only. One row per user; the directory's values win.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
with seen as (
    select connection_id, agent_id as user_id, _extracted_at from {{ staging_landed_in_window('stg_zendesk__uc_call') }}
    union all
    select connection_id, coalesce(agent_id, user_id), _extracted_at from {{ staging_landed_in_window('stg_zendesk__legs') }}
    where leg_type = 'agent'
),

seen_users as (
    select
        {{ staging_uc_id('zendesk', 'connection_id', 'user_id') }} as id,
        'zendesk' as provider,
        connection_id,
        user_id as source_id,
        cast(null as varchar) as name,
        cast(null as varchar) as email,
        cast(null as varchar) as phone,
        cast(null as varchar) as extension,
        cast(null as varchar) as role,
        max(_extracted_at) as _extracted_at
    from seen
    where user_id is not null
    group by all
),

directory as (
    select * exclude (snapshot_at, stream_latest_at), snapshot_at as _extracted_at
    from {{ ref('stg_zendesk__uc_user_snapshot') }}
    qualify row_number() over (partition by id order by snapshot_at desc) = 1
)

{{ uc_directory_merge('uc_user', 'directory', 'seen_users') }}
