{#-
  Dialpad users (agents) seen in the calls: the `target` of a call when it is a user (who took or made
  the call). One row per user, from the latest extraction that shows it; the target carries the user's
  name, email and number, no extension.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
with calls as (
    select * from {{ staging_landed_in_window('stg_dialpad__uc_call') }}
),

users as (
    select connection_id, _extracted_at, target as u
    from calls
    where lower(target.type) in {{ uc_enum_values('dialpad', 'target_type', 'AGENT') }}
      and nullif(target.id, '') is not null
),

latest as (
    select connection_id, u.id as user_id, u, _extracted_at
    from users
    qualify row_number() over (partition by connection_id, u.id order by _extracted_at desc) = 1
)

select
    {{ staging_uc_id('dialpad', 'connection_id', 'user_id') }} as id,
    'dialpad' as provider,
    connection_id,
    user_id as source_id,
    nullif(u.name, '') as name,
    nullif(u.email, '') as email,
    nullif(u.phone, '') as phone,
    cast(null as varchar) as extension,
    _extracted_at
from latest
