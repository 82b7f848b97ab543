{#-
  Aircall call comments (notes posted by agents, often after the call) in the unified `uc_comment`
  shape, read from the stored calls (stg_aircall__uc_call): a call's comments are those of its
  stored version, so one that a newer version no longer has is gone. A comment time that cannot be
  read fails the calls' build (their `updated_at` reads every comment), so none is stored.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
with comments as (
    select connection_id, id as call_id, _extracted_at, _loaded_at, unnest(comments) as c
    from {{ ref('stg_aircall__uc_call') }}
)

select
    {{ staging_uc_id('aircall', 'connection_id', "c.id") }} as id,
    'aircall' as provider,
    connection_id,
    c.id as source_id,
    call_id,
    c.content as content,
    {{ staging_uc_id('aircall', 'connection_id', "c.posted_by.id") }} as user_id,
    {{ staging_epoch("c.posted_at") }} as created_at,
    cast(null as timestamptz) as updated_at,
    _extracted_at,
    _loaded_at
from comments
