{#-
  Aircall users (agents) seen in the calls: the call's `user`, `assigned_to`, `transferred_by`,
  `transferred_to` and comment authors. One row per user, from the latest extraction that shows it.
  The Aircall user object carries no phone number or extension.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
with calls as (
    select * from {{ staging_landed_in_window('stg_aircall__uc_call') }}
),

seen as (
    select connection_id, _extracted_at, "user" as u from calls
    union all
    select connection_id, _extracted_at, assigned_to from calls
    union all
    select connection_id, _extracted_at, transferred_by from calls
    union all
    select connection_id, _extracted_at, transferred_to from calls
    union all
    select connection_id, _extracted_at, unnest(list_transform(comments, lambda c: c.posted_by)) from calls
),

latest as (
    select connection_id, u.id as user_id, u, _extracted_at
    from seen
    where u.id is not null
    qualify row_number() over (partition by connection_id, u.id order by _extracted_at desc) = 1
)

select
    {{ staging_uc_id('aircall', 'connection_id', 'user_id') }} as id,
    'aircall' as provider,
    connection_id,
    user_id as source_id,
    u.name as name,
    u.email as email,
    cast(null as varchar) as phone,
    cast(null as varchar) as extension,
    _extracted_at
from latest
