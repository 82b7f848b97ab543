{#-
  uc_user: agents / users of every provider (the union of stg_<provider>__uc_user). A view, for the
  same reasons as uc_contact.
-#}
{{ config(materialized='view', tags=['partitioned']) }}

{{ uc_union('uc_user') }}
