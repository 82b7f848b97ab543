{#-
  uc_contact: known contacts of every provider (the union of stg_<provider>__uc_contact). A view: a
  dimension that does not grow with call history, always as current as staging, and nothing to
  rebuild in a partitioned run (so uc_call's contact_id always finds its contact).
-#}
{{ config(materialized='view', tags=['partitioned']) }}

{{ uc_union('uc_contact') }}
