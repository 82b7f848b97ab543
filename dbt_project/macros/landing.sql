{#-
  The landing zone as relations.

  landing_source(provider, stream, windowed=true) renders a parenthesised SELECT over the landed
  Parquet files of one provider stream (the dbt source `<provider>.<stream>`, so lineage holds),
  with the hive partition columns `connection` (VARCHAR) and `date` (DATE). Sources read the
  partition columns as text (hive_types_autodetect = false) so that connection ids stay text and
  the day filter, applied to the text, prunes folders. With windowed=true and the vars
  uc_start_date / uc_end_date set, only the partition folders of those days are read (DuckDB prunes
  hive partitions on the filter, so a one-day run does not scan other days). When nothing has been
  landed yet it renders an empty relation with the same columns, so a fresh project still builds.
-#}

{#- The landing zone's root: UC_LANDING_URL (a local folder or s3://bucket/prefix; httpfs and its S3
    secret come from the profile's plugin, uc_pipeline/dbt_landing_plugin.py), default
    $UC_DATA_DIR/landing. The sources' external_location spells out the same expression (a source's
    YAML cannot call a macro). -#}
{% macro landing_root() -%}
{{ env_var('UC_LANDING_URL', env_var('UC_DATA_DIR', '../data') ~ '/landing') }}
{%- endmacro %}

{% macro landing_glob(provider, stream) -%}
{{ landing_root() }}/{{ provider }}/{{ stream }}/*/*/part.parquet
{%- endmacro %}

{% macro landing_has_files(provider, stream) -%}
    {%- if not execute -%}{{ return(true) }}{%- endif -%}
    {%- set result = run_query("select count(*) from glob('" ~ landing_glob(provider, stream) ~ "')") -%}
    {{ return(result.columns[0].values()[0] > 0) }}
{%- endmacro %}

{% macro landing_window_filter(date_column='"date"') -%}
    {%- set window = uc_window() -%}
    {%- if window is not none -%}
        {{ date_column }} between '{{ window[0] }}' and '{{ window[1] }}'
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{% macro landing_source(provider, stream, windowed=true) -%}
    {%- set relation = source(provider, stream) -%}
    {%- if landing_has_files(provider, stream) -%}
        (select * replace (cast("date" as date) as "date")
         from {{ relation }}
         where {{ landing_window_filter() if windowed else 'true' }})
    {%- else -%}
        (select
            null::varchar as _connection_id,
            null::timestamptz as _window_start,
            null::timestamptz as _window_end,
            null::timestamptz as _extracted_at,
            null::varchar as _record_id,
            null::json as _record,
            null::varchar as connection,
            null::date as "date"
         where false)
    {%- endif -%}
{%- endmacro %}

{#- landed_keys_not_null(provider, stream, columns): the landing zone's key columns are never NULL, over every
    landed file; passes when nothing has landed yet for that provider stream (a deployment need not use every
    provider; a plain test would fail on the empty glob). One `where <column> is null` per column, so that
    DuckDB answers each from the Parquet files' null counts without reading the column (one filter over both
    columns read them: 3.3-8.6 s per stream at 10M calls, against 0.6-1.1 s). A failing row names the column
    and the connection. -#}
{% test landed_keys_not_null(model, provider, stream, columns=['_connection_id', '_record_id']) %}
    {%- if landing_has_files(provider, stream) %}
    {%- for column in columns %}
    select '{{ column }}' as null_column, connection from {{ model }} where {{ column }} is null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
    {%- else %}
    select null as null_column, null as connection where false
    {%- endif %}
{% endtest %}

{#- landing_snapshots(provider, stream): every landed snapshot of a directory stream (agents, queues, lines,
    contacts), all connections, never windowed: a directory is small, and its history is what names the
    calls of any day. Adds `snapshot_at` (the snapshot's time, = `_extracted_at`) and `stream_latest_at`
    (the connection's latest snapshot of this stream: an entry missing from it was deleted). When nothing
    has been landed yet it renders an empty relation with the same columns. -#}
{% macro landing_snapshots(provider, stream) -%}
    {%- if landing_has_files(provider, stream) -%}
        (select _connection_id, _extracted_at, _record_id, _record, connection,
                _extracted_at as snapshot_at,
                max(_extracted_at) over (partition by _connection_id) as stream_latest_at
         from {{ source(provider, stream) }})
    {%- else -%}
        (select
            null::varchar as _connection_id,
            null::timestamptz as _extracted_at,
            null::varchar as _record_id,
            null::json as _record,
            null::varchar as connection,
            null::timestamptz as snapshot_at,
            null::timestamptz as stream_latest_at
         where false)
    {%- endif -%}
{%- endmacro %}

{#- uc_prefetch_landing(): the run's `on-run-start` statement. With the landing zone in an object store it
    reads, whole and in one GET each, every landed file that the run's selected nodes will query, into
    DuckDB's file cache (shared by the run's threads): the files of the window's days (every day without
    a window) and every directory snapshot of the streams that the selected tables, incremental models
    and tests read, directly or through views and ephemeral models. A build's queries read different
    columns of the same files (the source tests, the parsing models, the key checks), which are byte
    ranges the cache had not seen: about 6 GETs per landed file before. A run that only creates views or
    loads seeds reads nothing. The cache lives within DuckDB's memory limit and gives way under it (an
    evicted file is read in ranges again). Local landing zone: a no-op statement. -#}
{% macro uc_prefetch_landing() -%}
    {%- set root = landing_root() -%}
    {%- if not execute or not root.startswith('s3://') -%}
        {{ return('select 0 as landed_files_prefetched') }}
    {%- endif -%}
    {%- set streams = [] -%}
    {%- for unique_id in selected_resources -%}
        {%- set node = graph.nodes.get(unique_id) -%}
        {%- if node and (node.resource_type == 'test'
                or (node.resource_type == 'model' and node.config.materialized in ['table', 'incremental'])) -%}
            {%- for stream in uc_landing_streams_read(node) if stream not in streams -%}
                {%- do streams.append(stream) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not streams -%}
        {{ return('select 0 as landed_files_prefetched') }}
    {%- endif -%}
    {%- set folders = [] -%}
    {%- for day in uc_window_days() or ['*'] -%}{%- do folders.append('date=' ~ day) -%}{%- endfor -%}
    {%- do folders.append('snapshot=*') -%}
    {%- set patterns = [] -%}
    {%- for stream in streams -%}
        {%- for folder in folders -%}
            {%- do patterns.append("'" ~ root ~ "/" ~ stream ~ "/*/" ~ folder ~ "/part.parquet'") -%}
        {%- endfor -%}
    {%- endfor -%}
    {#- The glob patterns go to read_blob as they are: it keeps each listed object's size and ETag, where a
        list of file names would cost a HEAD per file. Summing the lengths makes it fetch the content. -#}
    {{ return('select count(*) as landed_files_prefetched, sum(octet_length(content)) as bytes from read_blob(['
              ~ patterns | join(', ') ~ '])') }}
{%- endmacro %}

{#- The landing streams ('<provider>/<stream>') that `node` reads: its sources, and those of the views and
    ephemeral models it reads through (recursively; tables are read as stored). -#}
{% macro uc_landing_streams_read(node) -%}
    {%- set streams = [] -%}
    {%- for parent_id in node.depends_on.nodes -%}
        {%- if parent_id.startswith('source.') -%}
            {%- set source = graph.sources[parent_id] -%}
            {%- do streams.append(source.source_name ~ '/' ~ source.name) -%}
        {%- elif parent_id in graph.nodes and graph.nodes[parent_id].config.materialized in ['view', 'ephemeral'] -%}
            {%- do streams.extend(uc_landing_streams_read(graph.nodes[parent_id])) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(streams) }}
{%- endmacro %}
