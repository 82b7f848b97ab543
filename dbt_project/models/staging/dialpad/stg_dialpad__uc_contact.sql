{#-
  Dialpad contacts in the unified `uc_contact` shape: the `contact` objects of the calls (a shared or
  local contact; an unknown caller is a local contact named after its number, as in Dialpad's example),
  one row per contact id, from its latest extracted call. The call's contact has one name, one email and
  one phone, and no creation or update time.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
with calls as (
    select * from {{ staging_landed_in_window('stg_dialpad__uc_call') }}
    where nullif(contact.id, '') is not null
),

latest as (
    select
        connection_id,
        contact.id as contact_id,
        arg_max(contact, (_extracted_at, start_at, source_id)) as contact,
        max(_extracted_at) as _extracted_at
    from calls
    group by all
)

select
    {{ staging_uc_id('dialpad', 'connection_id', 'contact_id') }} as id,
    'dialpad' as provider,
    connection_id,
    contact_id as source_id,
    nullif(contact.name, '') as name,
    cast(null as varchar) as first_name,
    cast(null as varchar) as last_name,
    cast(null as varchar) as title,
    cast(null as varchar) as company,
    nullif(contact.email, '') as email,
    nullif(contact.phone, '') as telephone,
    {{ staging_one_contact_point('contact.email', 'email') }} as emails,
    {{ staging_one_contact_point('contact.phone', 'telephone') }} as telephones,
    cast(null as timestamptz) as created_at,
    cast(null as timestamptz) as updated_at,
    _extracted_at
from latest
