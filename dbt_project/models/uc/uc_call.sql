{#-
  uc_call: one row per call of every provider, a view over the per-provider incremental tables
  stg_<provider>__uc_call (each row carries the `_loaded_at` of the run that wrote it).
-#}
{{ config(materialized='view', tags=['partitioned']) }}

{{ uc_union('uc_call', with_loaded_at=true) }}
