{#-
  Helpers of the provider staging models (models/staging/<provider>/).

  staging_keep_latest(relation, updated_column, landing): the rows of `relation` (a CTE of one provider
  stream, keyed by `record_key`, parsed from `landing`, the stream's landing_source) keeping one
  version per key: the latest provider update time, then the latest `_extracted_at`, then the latest
  landing day. When no key of `landing` landed twice in what the run reads, every row passes as it
  is. In an incremental run a row whose stored version is the same or newer is left out
  (delete+insert then leaves the stored row alone), so re-running an old day never replaces a newer
  version that a later day brought, and re-running a day whose landing has not changed writes
  nothing (nor do the models downstream). Every row written gets `_loaded_at` = the run's start,
  which tells the uc_* models what changed since they last ran.

  staging_latest_landed(relation, updated_column, landing) and staging_newer_than_stored(relation,
  updated_column, key='record_key'): the two halves of staging_keep_latest, for a model that maps the
  parsed records of an ephemeral model before storing them (the dedupe within what the run landed, in
  the parsing model; the comparison with the stored versions and `_loaded_at`, in the storing one).
  staging_require_columns(columns): see below (a table built by an earlier version of the project).

  staging_loaded_at(): the run's start as a timestamptz literal, the `_loaded_at` of what a run writes.
  staging_changed(), staging_rows_with_keys(), staging_rows_of_changed_keys(): see below (the incremental
  reads of related rows).
  staging_replace_rows_of_calls(...): see below (a call's comments or recordings replaced as a whole).
  staging_previous_call_dates(rebuilt): see below (the days a call left, for the reporting marts).

  staging_uc_id(provider, connection_column, source_id): the global id
  `<provider>:<connection_id>:<source id>`; NULL when the source id is NULL (no dangling references).

  staging_epoch(expr) / staging_iso(expr): provider times as UTC timestamptz (UNIX seconds / ISO-8601
  with `Z` or an offset). Empty strings, as XML/CSV renders missing values, become NULL; any other
  unparseable value fails the build (a changed provider format must be seen, not silently nulled).

  staging_seconds(later, earlier): whole seconds (floored) between two timestamptz values (NULL if either is).
-#}

{% macro staging_keep_latest(relation, updated_column, landing) -%}
{{ staging_newer_than_stored('(' ~ staging_latest_landed(relation, updated_column, landing) ~ '\n)', updated_column) }}
{%- endmacro %}

{% macro staging_latest_landed(relation, updated_column, landing) -%}
    {%- set landed_more_than_once = staging_keys_landed_more_than_once(landing) -%}
    {%- set any_landed_twice = true -%}
    {%- if execute -%}
        {%- set any_landed_twice = run_query('select count(*) from ' ~ landed_more_than_once ~ ' as twice')
            .columns[0].values()[0] > 0 -%}
    {%- endif %}
    {%- if any_landed_twice %}
    -- most records land once: only the keys landed more than once go through the window (sorting
    -- every row of a full build by key cost more than parsing them)
    select * from {{ relation }}
    where record_key not in {{ landed_more_than_once }}
    union all
    (select * from {{ relation }}
     where record_key in {{ landed_more_than_once }}
     qualify row_number() over (
        partition by record_key order by {{ staging_version(updated_column, relation) }} desc) = 1)
    {%- else %}
    -- no key landed twice in what this run reads: every row passes, and the parsed rows are read
    -- once (read twice, as above, DuckDB holds every one of them back)
    select * from {{ relation }}
    {%- endif %}
{%- endmacro %}

{% macro staging_newer_than_stored(relation, updated_column, key='record_key') -%}
select *, {{ staging_loaded_at() }} as _loaded_at
from {{ relation }} as landed_now
{%- if is_incremental() %}
-- a stored version that is the same or newer stays as it is (only its key and version are read)
where not exists (
    select 1 from {{ this }} as stored
    where stored.{{ key }} = landed_now.{{ key }}
      and {{ staging_version(updated_column, 'stored') }} >= {{ staging_version(updated_column, 'landed_now') }}
)
{%- endif %}
{%- endmacro %}

{#- The `record_key`s (`<connection id>:<record id>`, as every staging model keys its records) that
    `landing` (a landing_source) holds more than once. Only the landing's key columns are read, which
    costs a small part of parsing the records. -#}
{% macro staging_keys_landed_more_than_once(landing) -%}
(select _connection_id || ':' || _record_id as record_key
 from {{ landing }} as landing
 group by _connection_id, _record_id
 having count(*) > 1)
{%- endmacro %}

{#- The version order of a staged record (greater = newer; a missing value is the oldest). -#}
{% macro staging_version(updated_column, alias) -%}
(coalesce({{ alias }}.{{ updated_column }}, '-infinity'::timestamptz),
 coalesce({{ alias }}._extracted_at, '-infinity'::timestamptz),
 coalesce({{ alias }}.landed_date, '-infinity'::date))
{%- endmacro %}

{#- staging_changed(relation_alias=none): in an incremental run of a per-provider uc_* model, the filter
    "the staged row was written after this model last ran" (`_loaded_at` later than the model's newest
    `_loaded_at`, a literal so DuckDB skips the row groups written before); `true` on a first build or a
    full refresh. A run that died half way is caught up by the next one. -#}
{% macro staging_changed(relation_alias=none) -%}
    {%- set column = (relation_alias ~ '.' if relation_alias else '') ~ '_loaded_at' -%}
    {%- if not execute or not is_incremental() -%}{{ return('true') }}{%- endif -%}
    {%- set watermark = run_query("select strftime(max(_loaded_at), '%Y-%m-%d %H:%M:%S.%f+00') from " ~ this)
        .columns[0].values()[0] -%}
    {%- if watermark is none -%}{{ return('true') }}{%- endif -%}
    {{ return(column ~ " > cast('" ~ watermark ~ "' as timestamptz)") }}
{%- endmacro %}

{#- staging_replace_rows_of_calls(provider, calls_model, call_source_id): the pre-hook of a per-provider
    uc_comment / uc_recording table (incremental_strategy 'append') that is built from the rows of
    `calls_model` (one row per call; `connection_id`, and the provider's call id in `call_source_id`)
    staged since it last ran. In an incremental run it deletes the stored rows of those calls, so a
    call's comments or recordings are replaced as a whole: one that a newer version of the call no
    longer has goes too (replacing rows by their own id kept it). The hook runs in the model's
    transaction, so a failed run leaves the stored rows as they were. No hook on a first build or a
    full refresh. -#}
{% macro staging_replace_rows_of_calls(provider, calls_model, call_source_id) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where call_id in (
            select {{ staging_uc_id(provider, 'connection_id', call_source_id) }}
            from {{ ref(calls_model) }}
            where {{ staging_changed() }}
        )
    {%- endif -%}
{%- endmacro %}

{#- staging_previous_call_dates(rebuilt, can_move=true): the rows of `rebuilt` (a CTE of per-provider
    uc_call rows) with `_previous_call_dates`: the other `call_date`s that stored versions of the call
    had, NULL when it never moved. A RingCentral session or an 8x8 call starts at its earliest record,
    which can land after the others (days of a backfill run in any order); the reporting marts then
    recompute the day the call left as well as the day it moved to. Only the stored rows of the
    rebuilt ids are read. can_move=false (a provider that never moves a call's start): always NULL. -#}
{% macro staging_previous_call_dates(rebuilt, can_move=true) -%}
    {%- if can_move and is_incremental() -%}
        {%- set stored_names = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {#- a table built before this column existed gains it on this run (append_new_columns) -#}
        {%- set stored_previous = '_previous_call_dates' if '_previous_call_dates' in stored_names
            else 'cast(null as date[])' %}
select
    rebuilt.*,
    nullif(
        list_filter(
            list_distinct(list_append(coalesce(stored._previous_call_dates, []), stored.call_date)),
            lambda d: d <> rebuilt.call_date
        ),
        []
    ) as _previous_call_dates
from {{ rebuilt }} as rebuilt
left join (
    select id, call_date, {{ stored_previous }} as _previous_call_dates
    from {{ this }}
    where id in (select id from {{ rebuilt }})
) as stored on stored.id = rebuilt.id
    {%- else %}
select *, cast(null as date[]) as _previous_call_dates from {{ rebuilt }}
    {%- endif -%}
{%- endmacro %}

{#- staging_rows_with_keys(relation, key, keys): the filter "the tuple of columns `key` (e.g.
    "connection_id, call_id") is among `keys` (a query of such tuples)" on the rows of `relation`, plus
    `landed_date >=` the earliest landing day of those rows, as a date literal (NULL when there are
    none). Every row of those keys landed that day or later, so the bound is exact, and DuckDB pushes it
    into the scan: a daily run then skips the row groups of older days instead of reading the whole
    history to find a few sessions' or calls' rows. The key stays a tuple of columns rather than one
    concatenated text: concatenating it on every stored row made the lookup three times slower. -#}
{% macro staging_rows_with_keys(relation, key, keys) -%}
    {%- set day = none -%}
    {%- if execute -%}
        {%- set query -%}
            select strftime(min(landed_date), '%Y-%m-%d') from {{ relation }} where ({{ key }}) in ({{ keys }})
        {%- endset -%}
        {%- set day = run_query(query).columns[0].values()[0] -%}
    {%- endif -%}
    landed_date >= {{ "date '" ~ day ~ "'" if day else 'cast(null as date)' }} and ({{ key }}) in ({{ keys }})
{%- endmacro %}

{#- staging_rows_of_changed_keys(relation, key): staging_rows_with_keys for the keys of `relation` that
    have a row written since this model last ran (staging_changed): every row of a call (or session)
    one of whose rows is new. -#}
{% macro staging_rows_of_changed_keys(relation, key) -%}
    {%- set keys -%}
        select {{ key }} from {{ relation }} where {{ staging_changed() }}
    {%- endset -%}
    {{ staging_rows_with_keys(relation, key, keys) }}
{%- endmacro %}

{#- staging_require_columns(columns): in an incremental run, stop with a message naming the fix when the
    stored table lacks any of `columns` (built by a version of the project that did not keep them:
    on_schema_change would add them empty, and what other models read from them would be missing for
    every row stored before). -#}
{% macro staging_require_columns(columns) -%}
    {%- if execute and is_incremental() -%}
        {%- set stored = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
        {%- set missing = columns | reject('in', stored) | list -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                this ~ " was built by an earlier version of uc-pipeline and lacks the columns " ~ missing | join(', ')
                ~ ". Rebuild it and what is built from it once: dbt build --full-refresh --select " ~ this.identifier ~ "+") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro staging_loaded_at() -%}
cast('{{ run_started_at.isoformat() }}' as timestamptz)
{%- endmacro %}

{% macro staging_uc_id(provider, connection_column, source_id) -%}
('{{ provider }}:' || {{ connection_column }} || ':' || cast({{ source_id }} as varchar))
{%- endmacro %}

{% macro staging_epoch(expr) -%}
to_timestamp(cast(nullif(cast({{ expr }} as varchar), '') as double))
{%- endmacro %}

{% macro staging_iso(expr) -%}
    {%- set text = 'cast(' ~ expr ~ ' as varchar)' -%}
    {#- the cast itself skips surrounding spaces; trimming every value first tripled the cost -#}
    cast(case when {{ text }} = '' or ({{ text }} ^@ ' ' and trim({{ text }}) = '') then null else {{ text }} end
         as timestamptz)
{%- endmacro %}

{% macro staging_seconds(later, earlier) -%}
cast(floor(epoch({{ later }}) - epoch({{ earlier }})) as integer)
{%- endmacro %}


{#- staging_landed_in_window(model_name): the rows of a provider staging model landed in the run's
    partition window (all of them without a window). The ephemeral stg_<provider>__uc_user /
    __uc_contact models read through it, so the uc_user and uc_contact tables merge in only what a
    partitioned run landed. -#}
{% macro staging_landed_in_window(model_name) -%}
(select * from {{ ref(model_name) }} where {{ landing_window_filter('landed_date') }})
{%- endmacro %}

{#- staging_queues_from_calls(provider, kind, name, calls): a provider's `uc_queue` rows derived from its
    unified calls: every `queue_id` they name, of `kind` (default `queue`), named by the SQL `name` (default:
    the name of the latest call naming it); first/last seen and `is_current` are unknown (NULL). `calls` is
    the relation read (default: every stored call; a provider with a queue directory passes the calls landed
    in the window, merged with its directory). -#}
{% macro staging_queues_from_calls(
    provider,
    kind='queue',
    name="arg_max(queue_name, _extracted_at) filter (where queue_name is not null)",
    calls=none
) -%}
select
    queue_id as id,
    '{{ provider }}' as provider,
    connection_id,
    split_part(queue_id, ':', -1) as source_id,
    {{ name }} as name,
    '{{ kind }}' as kind,
    cast(null as varchar) as number,
    cast(null as varchar) as extension,
    cast(null as timestamptz) as first_seen_at,
    cast(null as timestamptz) as last_seen_at,
    cast(null as boolean) as is_current,
    max(_extracted_at) as _extracted_at
from {{ calls if calls is not none else ref('stg_' ~ provider ~ '__uc_call') }}
where queue_id is not null
group by queue_id, connection_id
{%- endmacro %}

{#- staging_contact_points(entries, field, labelled=true): a provider's list of {label, value} (Aircall's contact
    `emails` and `phone_numbers`) as the unified model's list of {<field>, type}: entries without a value left
    out, `type` the label when it is one of the unified model's types (WORK, HOME, OTHER, FAX, MOBILE, any
    case), else NULL (labels are free text at Aircall); NULL too for entries without labels (labelled=false). -#}
{% macro staging_contact_points(entries, field, labelled=true) -%}
list_transform(
    list_filter({{ entries }}, lambda p: nullif(trim(p.value), '') is not null),
    lambda p: {'{{ field }}': p.value, 'type':
    {%- if labelled %} case when upper(trim(p.label)) in ('WORK', 'HOME', 'OTHER', 'FAX', 'MOBILE') then upper(trim(p.label)) end
    {%- else %} cast(null as varchar){% endif %}}
)
{%- endmacro %}

{#- staging_one_contact_point(value, field): a single email or number as a one-entry list (NULL when there is none). -#}
{% macro staging_one_contact_point(value, field) -%}
case when nullif(trim({{ value }}), '') is not null then [{'{{ field }}': {{ value }}, 'type': cast(null as varchar)}] end
{%- endmacro %}
