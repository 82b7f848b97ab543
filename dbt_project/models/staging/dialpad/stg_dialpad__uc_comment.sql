{#- Dialpad: the call list carries no notes or comments (labels are tags); no rows. -#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
{{ uc_no_rows('uc_comment', 'dialpad') }}
