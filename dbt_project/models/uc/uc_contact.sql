{#-
  uc_contact: known contacts of every provider (the union of stg_<provider>__uc_contact), plus
  `_loaded_at`. An incremental table keyed by id: a partitioned run merges in the contacts seen in
  the records it landed (the latest extraction of each wins), so it never rescans the call history.
  Columns the contract gains (`emails`, `telephones`) are added to a table built before them, empty on its
  stored rows until their contacts are seen again; `dbt build --full-refresh --select uc_contact` fills
  them at once.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='id',
    on_schema_change='append_new_columns',
    tags=['partitioned'],
) }}

{{ uc_incremental_dimension('uc_contact') }}
