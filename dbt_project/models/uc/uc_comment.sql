{#-
  uc_comment: notes posted on calls, every provider, a view over the per-provider incremental tables
  stg_<provider>__uc_comment (with their `_loaded_at`).
-#}
{{ config(materialized='view', tags=['partitioned']) }}

{{ uc_union('uc_comment', tracking=[('_loaded_at', 'timestamptz')]) }}
