{#-
  uc_user: agents / users of every provider (the union of stg_<provider>__uc_user), plus
  `_loaded_at`. An incremental table keyed by id: a partitioned run merges in the users seen in the
  records it landed (the latest extraction of each wins), so it never rescans the call history.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='id',
    on_schema_change='fail',
    tags=['partitioned'],
) }}

{{ uc_incremental_dimension('uc_user') }}
