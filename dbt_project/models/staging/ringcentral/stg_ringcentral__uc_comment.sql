{#- RingCentral: the call log carries no notes or comments; no rows. -#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
{{ uc_no_rows('uc_comment', 'ringcentral') }}
