{#-
  Aircall recordings and voicemails in the unified `uc_recording` shape. Aircall has no recording
  object or id: a call carries at most one recording and one voicemail, so the source id is
  `<call id>:recording` / `<call id>:voicemail`. `web_url` is the `asset` page (durable, behind the
  Aircall login); the `recording`/`voicemail` mp3 URLs are signed S3 links that expire after 10
  minutes and are never kept. Aircall gives no start/end or length of the media itself. A rebuilt
  call's media replace all of its stored ones (staging_replace_rows_of_calls).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ staging_replace_rows_of_calls('aircall', 'stg_aircall__calls', 'call_id') }}",
    on_schema_change='append_new_columns',
) }}
with calls as (
    select * from {{ ref('stg_aircall__calls') }}
    where {{ staging_changed() }}
),

media as (
    select *, 'recording' as kind from calls
    where has_recording
    union all
    select *, 'voicemail' as kind from calls
    where has_voicemail
)

select
    {{ staging_uc_id('aircall', 'connection_id', "call_id || ':' || kind") }} as id,
    'aircall' as provider,
    connection_id,
    call_id || ':' || kind as source_id,
    {{ staging_uc_id('aircall', 'connection_id', 'call_id') }} as call_id,
    {{ staging_uc_id('aircall', 'connection_id', 'contact_id') }} as contact_id,
    {{ staging_uc_id('aircall', 'connection_id', 'user_id') }} as user_id,
    user_name,
    cast(null as timestamptz) as start_at,
    cast(null as timestamptz) as end_at,
    cast(null as integer) as duration_s,
    case direction when 'inbound' then 'INBOUND' when 'outbound' then 'OUTBOUND' end as type,
    kind,
    case when asset like '%/' || kind || '%' then asset end as web_url,
    cast(null as timestamptz) as created_at,
    cast(null as timestamptz) as updated_at,
    _extracted_at,
    {{ staging_loaded_at() }} as _loaded_at
from media
