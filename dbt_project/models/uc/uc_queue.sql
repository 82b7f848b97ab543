{#-
  uc_queue: the queues, teams, groups, departments and lines of every provider (the union of
  stg_<provider>__uc_queue), plus `_loaded_at`; `uc_call.queue_id` references it. Names come from the
  providers' directory snapshots (first and last seen over all of them; `is_current` = still in the
  connection's latest snapshot); a queue the calls name but no snapshot lists keeps the calls' name, if
  any. An incremental table keyed by id like uc_user: a partitioned run merges in the directory and the
  queues its calls name (the latest extraction of each wins).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='id',
    on_schema_change='append_new_columns',
    tags=['partitioned'],
) }}

{{ uc_incremental_dimension('uc_queue') }}
