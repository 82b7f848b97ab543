{#- Zendesk Talk: call comments live on the Support ticket, not in the Talk export; no rows. -#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
{{ uc_no_rows('uc_comment', 'zendesk') }}
