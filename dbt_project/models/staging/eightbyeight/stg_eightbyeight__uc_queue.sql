{#-
  8x8 VCC queues in the unified `uc_queue` shape, derived from the recordings: the `queueID` and
  `queueName` every recording carries (kind `queue`; the name of the latest recording naming it). No
  queue directory is extracted for 8x8, so first/last seen and `is_current` are unknown (NULL). It reads
  every stored 8x8 call (two columns of a table of calls; the queues are few).
-#}
{{ config(materialized='ephemeral') }}
{{ staging_queues_from_calls('eightbyeight') }}
