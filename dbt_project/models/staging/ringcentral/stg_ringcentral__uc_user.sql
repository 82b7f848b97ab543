{#-
  RingCentral users seen in the call log: every party or leg that names an extension (agents
  answering, dialling, receiving transfers; queues are extensions too but are not users and are
  left out when they only ever appear as the dialled queue of an inbound call). One row per
  extension id, from its latest extraction; RingCentral parties carry no email.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
with records as (
    select * from {{ staging_landed_in_window('stg_ringcentral__call_log') }}
),

legs as (
    select connection_id, _extracted_at, unnest(agent_legs) as leg
    from records
    where agent_legs is not null
),

parties as (
    -- the caller side of outbound calls is the dialling user
    select connection_id, _extracted_at, from_extension_id as ext_id, from_name as name,
           from_phone_number as phone, from_extension_number as extension
    from records
    where direction = 'Outbound' and from_extension_id is not null
    union all
    -- internal calls: the called side is a user too
    select connection_id, _extracted_at, to_extension_id, to_name, to_phone_number, to_extension_number
    from records
    where from_extension_number is not null and to_extension_id is not null
    union all
    -- legs that rang an agent or transferred the call to one
    -- (the leg's `extension` is the extension it rang; its `to` party may omit the id)
    select connection_id, _extracted_at, coalesce(leg.extension_id, leg.to_extension_id),
           leg.to_name, leg.to_phone_number, leg.to_extension_number
    from legs
    where coalesce(leg.extension_id, leg.to_extension_id) is not null
),

-- each distinct party is ranked once, not each of the millions of records naming it
distinct_parties as (
    select connection_id, ext_id, name, phone, extension, max(_extracted_at) as _extracted_at
    from parties
    group by all
)

select
    {{ staging_uc_id('ringcentral', 'connection_id', 'ext_id') }} as id,
    'ringcentral' as provider,
    connection_id,
    ext_id as source_id,
    name,
    cast(null as varchar) as email,
    phone,
    extension,
    _extracted_at
from distinct_parties
qualify row_number() over (partition by connection_id, ext_id order by _extracted_at desc, name) = 1
