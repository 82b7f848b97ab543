{#-
  uc_recording: call recordings and voicemails of every provider, a view over the per-provider
  incremental tables stg_<provider>__uc_recording (with their `_loaded_at`).
-#}
{{ config(materialized='view', tags=['partitioned']) }}

{{ uc_union('uc_recording', tracking=[('_loaded_at', 'timestamptz')]) }}
