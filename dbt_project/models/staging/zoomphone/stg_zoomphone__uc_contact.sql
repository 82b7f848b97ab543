{#-
  Zoom Phone: the call history names an external party by number and caller-id name only, which identifies
  no contact; no contacts are made up from them; no rows.
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
{{ uc_no_rows('uc_contact', 'zoomphone') }}
