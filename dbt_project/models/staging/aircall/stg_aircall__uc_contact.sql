{#-
  Aircall contacts in the unified `uc_contact` shape: the `contact` objects embedded in calls (present
  when the caller matched an Aircall contact), one row per contact, from its latest extracted call.
  The embedded contact carries no creation/update time in the payloads seen.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
with calls as (
    select * from {{ staging_landed_in_window('stg_aircall__uc_call') }}
    where contact.id is not null
),

latest as (
    -- the version on the latest call (an aggregate: a window sorted every call carrying a contact)
    select
        connection_id,
        contact.id as contact_id,
        arg_max(contact, (_extracted_at, start_at, source_id)) as contact,
        max(_extracted_at) as _extracted_at
    from calls
    group by all
)

select
    {{ staging_uc_id('aircall', 'connection_id', 'contact_id') }} as id,
    'aircall' as provider,
    connection_id,
    contact_id as source_id,
    nullif(trim(concat_ws(' ', contact.first_name, contact.last_name)), '') as name,
    contact.first_name as first_name,
    contact.last_name as last_name,
    cast(null as varchar) as title,
    contact.company_name as company,
    contact.emails[1].value as email,
    contact.phone_numbers[1].value as telephone,
    cast(null as timestamptz) as created_at,
    cast(null as timestamptz) as updated_at,
    _extracted_at
from latest
