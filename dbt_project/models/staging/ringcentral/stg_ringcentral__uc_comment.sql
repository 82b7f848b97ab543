{#- RingCentral: the call log carries no notes or comments; no rows. -#}
{{ config(tags=['partitioned']) }}
{{ uc_no_rows('uc_comment', 'ringcentral') }}
