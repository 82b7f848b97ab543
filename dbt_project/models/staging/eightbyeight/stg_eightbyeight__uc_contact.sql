{#-
  8x8 VCC: a recording carries the caller id / dialled number (`uc_call.telephone`) but identifies
  no contact, so no contacts are made up from numbers; no rows.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
{{ uc_no_rows('uc_contact', 'eightbyeight') }}
