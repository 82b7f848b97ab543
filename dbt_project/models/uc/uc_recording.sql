{#-
  uc_recording: call recordings and voicemails of every provider, a view over the per-provider
  models stg_<provider>__uc_recording (with their `_loaded_at`): incremental tables where the provider
  has recording records of its own, ephemeral reads of the stored calls where it has not, which this
  view inlines (a view model would be one more dbt node, 40-60 ms of every run, for the same query).
-#}
{{ config(materialized='view', tags=['partitioned']) }}

{{ uc_union('uc_recording', tracking=[('_loaded_at', 'timestamptz')]) }}
