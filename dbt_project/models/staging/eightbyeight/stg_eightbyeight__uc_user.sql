{#-
  8x8 VCC agents: the `agentID` logins seen on the recordings landed in the run's window, and the agents of
  the Cloud Storage objects landed in it (so a name that lands a day after its recording reaches uc_user).
  The name is the agent's latest `agentName` over every stored object (stg_eightbyeight__uc_user_snapshot):
  a rename shows on all of the agent's calls, and uc_user_history keeps the name each call had. No name
  without the connection's Cloud Storage credentials; no email, number or role in either API.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
with seen as (
    select connection_id, agent_id, _extracted_at
    from {{ staging_landed_in_window('stg_eightbyeight__uc_recording') }}
    where agent_id is not null
    union all
    select r.connection_id, r.agent_id, o._extracted_at
    from {{ staging_landed_in_window('stg_eightbyeight__recording_objects') }} as o
    join {{ ref('stg_eightbyeight__uc_recording') }} as r
        on r.connection_id = o.connection_id and split_part(r.source_id, '/', -1) = o.media_url
    where r.agent_id is not null
),

names as (
    select connection_id, source_id as agent_id, arg_max(name, snapshot_at) as name, max(snapshot_at) as named_at
    from {{ ref('stg_eightbyeight__uc_user_snapshot') }}
    group by connection_id, source_id
)

select
    {{ staging_uc_id('eightbyeight', 'seen.connection_id', 'seen.agent_id') }} as id,
    'eightbyeight' as provider,
    seen.connection_id,
    seen.agent_id as source_id,
    any_value(names.name) as name,
    cast(null as varchar) as email,
    cast(null as varchar) as phone,
    cast(null as varchar) as extension,
    cast(null as varchar) as role,
    max(seen._extracted_at) as _extracted_at
from seen
left join names on names.connection_id = seen.connection_id and names.agent_id = seen.agent_id
group by seen.connection_id, seen.agent_id
