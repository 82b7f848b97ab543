{#- RingCentral: the call log carries no notes or comments; no rows. -#}
select
    cast(null as varchar) as id,
    'ringcentral' as provider,
    cast(null as varchar) as connection_id,
    cast(null as varchar) as source_id,
    cast(null as varchar) as call_id,
    cast(null as varchar) as content,
    cast(null as varchar) as user_id,
    cast(null as timestamptz) as created_at,
    cast(null as timestamptz) as updated_at,
    cast(null as timestamptz) as _extracted_at
where false
