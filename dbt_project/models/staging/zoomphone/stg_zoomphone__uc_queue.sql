{#-
  Zoom Phone queues in the unified `uc_queue` shape, derived from the calls: the call queue a call's
  elements name (kind `queue`; the name of the latest call naming it). No queue directory is extracted for
  Zoom Phone yet, so first/last seen and `is_current` are unknown (NULL).
-#}
{{ config(materialized='ephemeral') }}
{{ staging_queues_from_calls('zoomphone') }}
