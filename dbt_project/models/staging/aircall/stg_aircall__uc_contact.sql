{#-
  Aircall contacts in the unified `uc_contact` shape: the contact directory's snapshots (`GET
  /v1/contacts`, the latest version of each contact, with its creation and update times) merged with
  the `contact` objects embedded in calls (present when the caller matched an Aircall contact; the
  directory's values win), one row per contact. The embedded contact carries no creation/update time
  in the payloads seen. `email` / `telephone` are the first of the contact's `emails` / `phone_numbers`;
  `emails` / `telephones` all of them, typed by their labels in the directory (a contact known only
  from calls has untyped entries: the stored calls keep the embedded contact's values, not its labels).
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
{%- set points = '\'[{"label": "VARCHAR", "value": "VARCHAR"}]\'' %}
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
),

seen as (
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
        -- the stored calls keep the embedded contact's values, not its labels: the directory's types win
        {{ staging_contact_points('contact.emails', 'email', labelled=false) }} as emails,
        {{ staging_contact_points('contact.phone_numbers', 'telephone', labelled=false) }} as telephones,
        cast(null as timestamptz) as created_at,
        cast(null as timestamptz) as updated_at,
        _extracted_at
    from latest
),

directory as (
    select
        {{ staging_uc_id('aircall', '_connection_id', '_record_id') }} as id,
        'aircall' as provider,
        _connection_id as connection_id,
        _record_id as source_id,
        nullif(trim(concat_ws(' ', _record ->> 'first_name', _record ->> 'last_name')), '') as name,
        _record ->> 'first_name' as first_name,
        _record ->> 'last_name' as last_name,
        cast(null as varchar) as title,
        _record ->> 'company_name' as company,
        _record -> 'emails' -> 0 ->> 'value' as email,
        _record -> 'phone_numbers' -> 0 ->> 'value' as telephone,
        {{ staging_contact_points("json_transform(_record -> 'emails', " ~ points ~ ")", 'email') }} as emails,
        {{ staging_contact_points("json_transform(_record -> 'phone_numbers', " ~ points ~ ")", 'telephone') }} as telephones,
        {{ staging_epoch("_record ->> 'created_at'") }} as created_at,
        {{ staging_epoch("_record ->> 'updated_at'") }} as updated_at,
        snapshot_at as _extracted_at
    from {{ landing_snapshots('aircall', 'contacts') }}
    qualify row_number() over (partition by _connection_id, _record_id order by snapshot_at desc) = 1
)

{{ uc_directory_merge('uc_contact', 'directory', 'seen') }}
