{#-
  Zendesk Talk contacts: the export identifies the caller as a Zendesk end user (`customer_id`) but
  carries none of its details (they live in the Users API), so a contact is its id only.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
with calls as (
    select * from {{ staging_landed_in_window('stg_zendesk__uc_call') }}
    where customer_id is not null
)

select
    {{ staging_uc_id('zendesk', 'connection_id', 'customer_id') }} as id,
    'zendesk' as provider,
    connection_id,
    customer_id as source_id,
    cast(null as varchar) as name,
    cast(null as varchar) as first_name,
    cast(null as varchar) as last_name,
    cast(null as varchar) as title,
    cast(null as varchar) as company,
    cast(null as varchar) as email,
    cast(null as varchar) as telephone,
    cast(null as struct(email varchar, "type" varchar)[]) as emails,
    cast(null as struct(telephone varchar, "type" varchar)[]) as telephones,
    cast(null as timestamptz) as created_at,
    cast(null as timestamptz) as updated_at,
    max(_extracted_at) as _extracted_at
from calls
group by all
