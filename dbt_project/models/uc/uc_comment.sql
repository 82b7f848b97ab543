{#-
  uc_comment: notes posted on calls, every provider, a view over the per-provider models
  stg_<provider>__uc_comment (with their `_loaded_at`), ephemeral reads of the stored calls that this
  view inlines (a view model would be one more dbt node, 40-60 ms of every run, for the same query).
-#}
{{ config(materialized='view', tags=['partitioned']) }}

{{ uc_union('uc_comment', tracking=[('_loaded_at', 'timestamptz')]) }}
