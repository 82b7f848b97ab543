{#-
  Zendesk Talk recordings: the incremental export only says how long a call was recorded
  (`recording_time`); it carries no recording id, URL or object, so this model has no rows rather
  than inventing recordings (`uc_call.has_recording` says which calls were recorded).
-#}
{{ config(tags=['partitioned'], materialized='ephemeral') }}
{{ uc_no_rows('uc_recording', 'zendesk') }}
