{#-
  Zoom Phone queues in the unified `uc_queue` shape, derived from the calls: the call queue a call's
  elements name (kind `queue`; the name of the latest call naming it). No queue directory is extracted for
  Zoom Phone yet, so first/last seen and `is_current` are unknown (NULL).
-#}
{{ config(materialized='ephemeral') }}
select
    queue_id as id,
    'zoomphone' as provider,
    connection_id,
    split_part(queue_id, ':', -1) as source_id,
    arg_max(queue_name, _extracted_at) filter (where queue_name is not null) as name,
    'queue' as kind,
    cast(null as varchar) as number,
    cast(null as varchar) as extension,
    cast(null as timestamptz) as first_seen_at,
    cast(null as timestamptz) as last_seen_at,
    cast(null as boolean) as is_current,
    max(_extracted_at) as _extracted_at
from {{ ref('stg_zoomphone__uc_call') }}
where queue_id is not null
group by queue_id, connection_id
