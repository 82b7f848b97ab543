{#-
  Zendesk Talk agents seen in calls (`agent_id`) and agent legs (`agent_id` / `user_id`). The export
  gives ids only; names, emails and numbers live in the Users API.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
with seen as (
    select connection_id, agent_id as user_id, _extracted_at from {{ staging_landed_in_window('stg_zendesk__uc_call') }}
    union all
    select connection_id, coalesce(agent_id, user_id), _extracted_at from {{ staging_landed_in_window('stg_zendesk__legs') }}
    where leg_type = 'agent'
)

select
    {{ staging_uc_id('zendesk', 'connection_id', 'user_id') }} as id,
    'zendesk' as provider,
    connection_id,
    user_id as source_id,
    cast(null as varchar) as name,
    cast(null as varchar) as email,
    cast(null as varchar) as phone,
    cast(null as varchar) as extension,
    max(_extracted_at) as _extracted_at
from seen
where user_id is not null
group by all
