{#-
  Zendesk agents as each directory snapshot lists them (`GET /api/v2/users?role[]=agent&role[]=admin`,
  landed by `raw/zendesk/users`): one row per user per snapshot, with the Support `role`; the history
  uc_user_history is built from. Zendesk users have no extension.
-#}
{{ config(materialized='ephemeral') }}
select
    {{ staging_uc_id('zendesk', '_connection_id', '_record_id') }} as id,
    'zendesk' as provider,
    _connection_id as connection_id,
    _record_id as source_id,
    _record ->> 'name' as name,
    _record ->> 'email' as email,
    _record ->> 'phone' as phone,
    cast(null as varchar) as extension,
    _record ->> 'role' as role,
    snapshot_at,
    stream_latest_at
from {{ landing_snapshots('zendesk', 'users') }}
