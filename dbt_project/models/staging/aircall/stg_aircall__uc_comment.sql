{#-
  Aircall call comments (notes posted by agents, often after the call) in the unified `uc_comment`
  shape. A rebuilt call's comments replace all of its stored ones (staging_replace_rows_of_calls).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ staging_replace_rows_of_calls('aircall', 'stg_aircall__calls', 'call_id') }}",
    on_schema_change='append_new_columns',
) }}
with calls as (
    select * from {{ ref('stg_aircall__calls') }}
    where {{ staging_changed() }}
),

comments as (
    select connection_id, call_id, _extracted_at, unnest(comments) as c
    from calls
)

select
    {{ staging_uc_id('aircall', 'connection_id', "c.id") }} as id,
    'aircall' as provider,
    connection_id,
    c.id as source_id,
    {{ staging_uc_id('aircall', 'connection_id', 'call_id') }} as call_id,
    c.content as content,
    {{ staging_uc_id('aircall', 'connection_id', "c.posted_by.id") }} as user_id,
    {{ staging_epoch("c.posted_at") }} as created_at,
    cast(null as timestamptz) as updated_at,
    _extracted_at,
    {{ staging_loaded_at() }} as _loaded_at
from comments
