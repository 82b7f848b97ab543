{#-
  Aircall recordings and voicemails in the unified `uc_recording` shape, read from the stored calls
  (stg_aircall__uc_call), so a call's media are always those of its stored version. Aircall has no
  recording object or id: a call carries at most one recording and one voicemail, so the source id is
  `<call id>:recording` / `<call id>:voicemail`. `web_url` is the `asset` page (durable, behind the
  Aircall login); the `recording`/`voicemail` mp3 URLs are signed S3 links that expire after 10
  minutes and are never kept. Aircall gives no start/end or length of the media itself.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
with media as (
    select *, 'recording' as kind from {{ ref('stg_aircall__uc_call') }}
    where has_recording
    union all
    select *, 'voicemail' as kind from {{ ref('stg_aircall__uc_call') }}
    where has_voicemail
)

select
    {{ staging_uc_id('aircall', 'connection_id', "source_id || ':' || kind") }} as id,
    'aircall' as provider,
    connection_id,
    source_id || ':' || kind as source_id,
    id as call_id,
    contact_id,
    user_id,
    user_name,
    cast(null as timestamptz) as start_at,
    cast(null as timestamptz) as end_at,
    cast(null as integer) as duration_s,
    type,
    kind,
    case when asset like '%/' || kind || '%' then asset end as web_url,
    cast(null as timestamptz) as created_at,
    cast(null as timestamptz) as updated_at,
    _extracted_at,
    _loaded_at
from media
