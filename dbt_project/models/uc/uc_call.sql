{#-
  uc_call: one row per call of every provider, a view over the per-provider incremental tables
  stg_<provider>__uc_call (each row carries the `_loaded_at` of the run that wrote it, and the days the
  call left in `_previous_call_dates`).
-#}
{{ config(materialized='view', tags=['partitioned']) }}

{{ uc_union('uc_call', tracking=[
    ('_loaded_at', 'timestamptz'), ('_previous_call_dates', 'date[]'),
    ('_unknown_enums', 'struct(field varchar, value varchar)[]'),
]) }}
