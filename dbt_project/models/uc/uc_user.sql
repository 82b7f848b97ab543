{#-
  uc_user: agents / users of every provider (the union of stg_<provider>__uc_user), plus
  `_loaded_at`. An incremental table keyed by id: a partitioned run merges in the users of the
  providers' directories (their current name, email, extension, role, from the latest snapshot that
  listed them) and the users seen in the records it landed (the latest extraction of each wins), so it
  never rescans the call history. A renamed agent keeps one id: old calls joined on `user_id` show the
  current name; uc_user_history has the name at any time.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='id',
    on_schema_change='append_new_columns',
    tags=['partitioned'],
) }}

{{ uc_incremental_dimension('uc_user') }}
