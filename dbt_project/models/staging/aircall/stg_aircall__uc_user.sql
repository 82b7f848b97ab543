{#-
  Aircall users: every user of the directory snapshots (`GET /v1/users`, their latest version: a deleted
  user keeps the name it last had) merged with the
  users (agents) seen in the calls: the call's `user`, `assigned_to`, `transferred_by`, `transferred_to`
  and comment authors. One row per user, from the latest extraction that shows it.
  The directory's values win; a user only the calls name keeps the call's. The Aircall user object
  carries no phone number or extension.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
with calls as (
    select * from {{ staging_landed_in_window('stg_aircall__uc_call') }}
),

parties as (
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
    from parties
    where u.id is not null
    qualify row_number() over (partition by connection_id, u.id order by _extracted_at desc) = 1
),

seen as (
    select
        {{ staging_uc_id('aircall', 'connection_id', 'user_id') }} as id,
        'aircall' as provider,
        connection_id,
        user_id as source_id,
        u.name as name,
        u.email as email,
        cast(null as varchar) as phone,
        cast(null as varchar) as extension,
        cast(null as varchar) as role,
        _extracted_at
    from latest
),

directory as (
    select * exclude (snapshot_at, stream_latest_at), snapshot_at as _extracted_at
    from {{ ref('stg_aircall__uc_user_snapshot') }}
    qualify row_number() over (partition by id order by snapshot_at desc) = 1
)

{{ uc_directory_merge('uc_user', 'directory', 'seen') }}
