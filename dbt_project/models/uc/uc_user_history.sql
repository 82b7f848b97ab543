{#-
  uc_user_history: every version of every user the providers' directory snapshots listed (type-2
  history), one row per (user, version). A version is a run of consecutive snapshots showing the same
  name, email, phone, extension and role; it is valid from its first snapshot (NULL for the user's first
  version: "since before the first snapshot") to the first snapshot of the next version (`valid_to`,
  NULL for the current one). A call's agent as named at the time of the call:
  `join uc_user_history h on h.id = c.user_id and (h.valid_from is null or c.start_at >= h.valid_from)
  and (h.valid_to is null or c.start_at < h.valid_to)`. uc_user keeps the current name, which is what
  old calls show when joined on `user_id`; a renamed agent's calls stay attributed to the same id.
  Rebuilt whole in every run: the directories are small.
-#}
{{ config(materialized='table', tags=['partitioned']) }}

with snapshots as (
    {{ uc_union('uc_user_snapshot') }}
),

marked as (
    select
        *,
        -- a new version starts where the attributes differ from the user's previous snapshot
        case
            when lag(snapshot_at) over w is null then 1
            when (name, email, phone, extension, role)
                is distinct from (lag(name) over w, lag(email) over w, lag(phone) over w,
                                  lag(extension) over w, lag(role) over w) then 1
            else 0
        end as starts_version
    from snapshots
    window w as (partition by id order by snapshot_at)
),

numbered as (
    select *, sum(starts_version) over (partition by id order by snapshot_at rows unbounded preceding) as version
    from marked
),

versions as (
    select
        id, provider, connection_id, source_id, version,
        any_value(name) as name,
        any_value(email) as email,
        any_value(phone) as phone,
        any_value(extension) as extension,
        any_value(role) as role,
        min(snapshot_at) as version_first_seen_at,
        max(snapshot_at) as version_last_seen_at
    from numbered
    group by all
)

select
    id, provider, connection_id, source_id, cast(version as integer) as version, name, email, phone, extension, role,
    case when version > 1 then version_first_seen_at end as valid_from,
    lead(version_first_seen_at) over (partition by id order by version) as valid_to,
    lead(version_first_seen_at) over (partition by id order by version) is null as is_current,
    min(version_first_seen_at) over (partition by id) as first_seen_at,
    max(version_last_seen_at) over (partition by id) as last_seen_at,
    {{ staging_loaded_at() }} as _loaded_at
from versions
