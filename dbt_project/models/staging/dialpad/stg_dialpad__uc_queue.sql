{#-
  Dialpad queues in the unified `uc_queue` shape, derived from the calls: the call center / department a
  call's `queue` names (kind `queue`; the name of the latest call naming it). No queue directory is
  extracted for Dialpad yet, so first/last seen and `is_current` are unknown (NULL).
-#}
{{ config(materialized='ephemeral') }}
{{ staging_queues_from_calls('dialpad') }}
