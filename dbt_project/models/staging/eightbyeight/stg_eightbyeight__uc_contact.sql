{#-
  8x8 VCC: a recording carries the caller id / dialled number (`uc_call.telephone`) but identifies
  no contact, so no contacts are made up from numbers; no rows.
-#}
select
    cast(null as varchar) as id,
    'eightbyeight' as provider,
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
