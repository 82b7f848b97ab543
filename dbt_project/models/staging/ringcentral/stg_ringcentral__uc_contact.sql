{#-
  RingCentral: the call log names parties by caller id (CNAM, e.g. `SAN FRANCSCO CA`) and number,
  which identifies no contact; no contacts are made up from them; no rows.
-#}
select
    cast(null as varchar) as id,
    'ringcentral' as provider,
    cast(null as varchar) as connection_id,
    cast(null as varchar) as source_id,
    cast(null as varchar) as name,
    cast(null as varchar) as first_name,
    cast(null as varchar) as last_name,
    cast(null as varchar) as title,
    cast(null as varchar) as company,
    cast(null as varchar) as email,
    cast(null as varchar) as telephone,
    cast(null as timestamptz) as created_at,
    cast(null as timestamptz) as updated_at,
    cast(null as timestamptz) as _extracted_at
where false
