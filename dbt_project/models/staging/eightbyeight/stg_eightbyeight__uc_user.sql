{#- 8x8 VCC agents seen on recordings: the `agentID` login only (no name, email or number in this API). -#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
select
    {{ staging_uc_id('eightbyeight', 'connection_id', 'agent_id') }} as id,
    'eightbyeight' as provider,
    connection_id,
    agent_id as source_id,
    cast(null as varchar) as name,
    cast(null as varchar) as email,
    cast(null as varchar) as phone,
    cast(null as varchar) as extension,
    max(_extracted_at) as _extracted_at
from {{ staging_landed_in_window('stg_eightbyeight__uc_recording') }}
where agent_id is not null
group by connection_id, agent_id
