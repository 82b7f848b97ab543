{#-
  uc_call: one row per call of every provider (the union of stg_<provider>__uc_call), plus
  `_loaded_at`. Incremental by `call_date`: a windowed run rewrites exactly the touched days.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='call_date',
    on_schema_change='fail',
    tags=['partitioned'],
) }}

{{ uc_incremental_union('uc_call', 'call_date') }}
