{#-
  RingCentral: the call log names parties by caller id (CNAM, e.g. `SAN FRANCSCO CA`) and number,
  which identifies no contact; no contacts are made up from them; no rows.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
{{ uc_no_rows('uc_contact', 'ringcentral') }}
