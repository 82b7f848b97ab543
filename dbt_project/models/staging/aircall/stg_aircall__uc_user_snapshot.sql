{#-
  Aircall users as each directory snapshot lists them (`GET /v1/users`, landed by `raw/aircall/users`):
  one row per user per snapshot, the history uc_user_history is built from. The list's User object has
  no phone number (numbers are assigned per line) and no role.
-#}
{{ config(materialized='ephemeral') }}
select
    {{ staging_uc_id('aircall', '_connection_id', '_record_id') }} as id,
    'aircall' as provider,
    _connection_id as connection_id,
    _record_id as source_id,
    _record ->> 'name' as name,
    _record ->> 'email' as email,
    cast(null as varchar) as phone,
    cast(null as varchar) as extension,
    cast(null as varchar) as role,
    snapshot_at,
    stream_latest_at
from {{ landing_snapshots('aircall', 'users') }}
