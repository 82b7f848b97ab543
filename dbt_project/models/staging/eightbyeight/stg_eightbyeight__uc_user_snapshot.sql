{#-
  8x8 agents as the Cloud Storage recording objects name them over time: the history uc_user_history is
  built from. An object's `agentName` is the name of the agent on that recording when it was made; the agent
  is the VCC login (`agentID`) of the recording whose file the object's `mediaUrl` names (the Recordings API's
  `filename` without its `S<day>/` folder). One row per (agent, name, UTC day of the recordings): `snapshot_at`
  is the first recording of that day showing that name, so a renamed agent's history changes name at the first
  recording under the new name, and older calls keep the name they had. Reads every stored object and
  recording (two narrow tables; the join is on the file name).
-#}
{{ config(materialized='ephemeral') }}
with named as (
    select r.connection_id, r.agent_id, o.agent_name, o.start_at
    from {{ ref('stg_eightbyeight__recording_objects') }} as o
    join {{ ref('stg_eightbyeight__uc_recording') }} as r
        on r.connection_id = o.connection_id and split_part(r.source_id, '/', -1) = o.media_url
    where o.agent_name is not null and r.agent_id is not null
)

select
    {{ staging_uc_id('eightbyeight', 'connection_id', 'agent_id') }} as id,
    'eightbyeight' as provider,
    connection_id,
    agent_id as source_id,
    agent_name as name,
    cast(null as varchar) as email,
    cast(null as varchar) as phone,
    cast(null as varchar) as extension,
    cast(null as varchar) as role,
    min(start_at) as snapshot_at
from named
group by connection_id, agent_id, agent_name, cast(start_at as date)
