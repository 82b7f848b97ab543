{#-
  The RingCentral account's extensions as each directory snapshot lists them (`GET
  /restapi/v1.0/account/~/extension`, landed by `raw/ringcentral/extensions`): one row per extension per
  snapshot, with its `type`. Users are the extensions of a user type (User, DigitalUser, VirtualUser,
  FlexibleUser); call queues are `Department` extensions (RingCentral's API keeps the legacy name).
-#}
{{ config(materialized='ephemeral') }}
select
    _connection_id as connection_id,
    _record_id as ext_id,
    _record ->> 'type' as ext_type,
    coalesce(
        nullif(_record ->> 'name', ''),
        nullif(trim(concat_ws(' ', _record -> 'contact' ->> 'firstName', _record -> 'contact' ->> 'lastName')), '')
    ) as name,
    _record -> 'contact' ->> 'email' as email,
    _record -> 'contact' ->> 'businessPhone' as phone,
    _record ->> 'extensionNumber' as extension,
    _record ->> 'status' as status,
    _record ->> 'type' in ('User', 'DigitalUser', 'VirtualUser', 'FlexibleUser') as is_user,
    _record ->> 'type' = 'Department' as is_queue,
    snapshot_at,
    stream_latest_at
from {{ landing_snapshots('ringcentral', 'extensions') }}
