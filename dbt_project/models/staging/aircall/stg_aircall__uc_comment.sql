{#- Aircall call comments (notes posted by agents, often after the call) in the unified `uc_comment` shape. -#}
with calls as (
    select * from {{ ref('stg_aircall__calls') }}
),

comments as (
    select connection_id, call_id, _extracted_at, unnest(json_extract(comments, '$[*]')) as c
    from calls
)

select
    {{ staging_uc_id('aircall', 'connection_id', "c->>'$.id'") }} as id,
    'aircall' as provider,
    connection_id,
    (c->>'$.id') as source_id,
    {{ staging_uc_id('aircall', 'connection_id', 'call_id') }} as call_id,
    (c->>'$.content') as content,
    {{ staging_uc_id('aircall', 'connection_id', "c->>'$.posted_by.id'") }} as user_id,
    {{ staging_epoch("(c->>'$.posted_at')") }} as created_at,
    cast(null as timestamptz) as updated_at,
    _extracted_at
from comments
