{#- Zoom Phone: no user directory is extracted yet (users are named by the call history's parties), so
    there are no user snapshots. -#}
{{ config(materialized='ephemeral') }}
{{ uc_no_rows('uc_user_snapshot', 'zoomphone') }}
