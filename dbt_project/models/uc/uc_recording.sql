{#-
  uc_recording: call recordings and voicemails of every provider (the union of
  stg_<provider>__uc_recording), plus `_loaded_at`. Incremental by the UTC day of the recording's
  start (its creation when the start is unknown); a windowed run rewrites exactly the touched days.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key="cast(timezone('UTC', coalesce(start_at, created_at, _extracted_at)) as date)",
    on_schema_change='fail',
    tags=['partitioned'],
) }}

{{ uc_incremental_union('uc_recording', "cast(timezone('UTC', coalesce(start_at, created_at, _extracted_at)) as date)") }}
