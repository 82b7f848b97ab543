{#-
  Zendesk Talk recordings: the incremental export only says how long a call was recorded
  (`recording_time`); it carries no recording id, URL or object, so this model has no rows rather
  than inventing recordings (`uc_call.has_recording` says which calls were recorded).
-#}
select
    cast(null as varchar) as id,
    'zendesk' as provider,
    cast(null as varchar) as connection_id,
    cast(null as varchar) as source_id,
    cast(null as varchar) as call_id,
    cast(null as varchar) as contact_id,
    cast(null as varchar) as user_id,
    cast(null as varchar) as user_name,
    cast(null as timestamptz) as start_at,
    cast(null as timestamptz) as end_at,
    cast(null as integer) as duration_s,
    cast(null as varchar) as type,
    cast(null as varchar) as kind,
    cast(null as varchar) as web_url,
    cast(null as timestamptz) as created_at,
    cast(null as timestamptz) as updated_at,
    cast(null as timestamptz) as _extracted_at
where false
