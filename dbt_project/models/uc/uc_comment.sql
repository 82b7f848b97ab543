{#-
  uc_comment: notes posted on calls, every provider (the union of stg_<provider>__uc_comment), plus
  `_loaded_at`. Incremental by the UTC day the comment was posted; a windowed run rewrites exactly the
  touched days (a comment posted days after its call is found by the fingerprint of that day).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key="cast(timezone('UTC', coalesce(created_at, _extracted_at)) as date)",
    on_schema_change='fail',
    tags=['partitioned'],
) }}

{{ uc_incremental_union('uc_comment', "cast(timezone('UTC', coalesce(created_at, _extracted_at)) as date)") }}
