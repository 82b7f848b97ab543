{#- RingCentral users (user-type extensions) as each extension snapshot lists them; the history
    uc_user_history is built from. RingCentral's extension has no role (roles are a separate API). -#}
{{ config(materialized='ephemeral') }}
select
    {{ staging_uc_id('ringcentral', 'connection_id', 'ext_id') }} as id,
    'ringcentral' as provider,
    connection_id,
    ext_id as source_id,
    name,
    email,
    phone,
    extension,
    cast(null as varchar) as role,
    snapshot_at,
    stream_latest_at
from {{ ref('stg_ringcentral__extensions') }}
where is_user
