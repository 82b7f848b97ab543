{#-
  Zoom Phone users seen in the call history: every party whose `ext_type` is `user` (callers of outbound
  and internal calls, callees of direct and internal calls) and every agent a call's elements name. One
  row per extension id, from its latest extraction; `phone` is the user's direct number, `extension` the
  extension number. Call queues and auto receptionists are not users.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
with items as (
    select * from {{ staging_landed_in_window('stg_zoomphone__call_history') }}
),

elements as (
    select * from {{ staging_landed_in_window('stg_zoomphone__call_elements') }}
),

parties as (
    select connection_id, _extracted_at, caller_ext_id as ext_id, caller_name as name, caller_email as email,
           caller_did_number as phone, caller_ext_number as extension
    from items where caller_ext_type = 'user' and caller_ext_id is not null
    union all
    select connection_id, _extracted_at, callee_ext_id, callee_name, callee_email, callee_did_number,
           callee_ext_number
    from items where callee_ext_type = 'user' and callee_ext_id is not null
    union all
    select connection_id, _extracted_at, agent_ext_id, agent_name, agent_email, null, agent_ext_number
    from elements where agent_ext_id is not null
),

distinct_parties as (
    select connection_id, ext_id, max(_extracted_at) as _extracted_at,
           arg_max(name, _extracted_at) as name, max(email) as email, max(phone) as phone,
           arg_max(extension, _extracted_at) as extension
    from parties
    group by all
)

select
    {{ staging_uc_id('zoomphone', 'connection_id', 'ext_id') }} as id,
    'zoomphone' as provider,
    connection_id,
    ext_id as source_id,
    name,
    email,
    phone,
    extension,
    _extracted_at
from distinct_parties
