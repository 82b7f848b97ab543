{#-
  The partition window of a run and the days an incremental model recomputes.

  A partitioned run passes `--vars '{uc_start_date: D1, uc_end_date: D2}'` (inclusive UTC dates).
  uc_window()               none (whole history) or (start, end) as 'YYYY-MM-DD' strings, validated.
  uc_window_days()          every date of the window, as strings.
  uc_day_filter(expr, days) `expr in (date '...', ...)`: literal dates, so DuckDB prunes by zonemap.
  uc_touched_days(model_name, day_expr)
      none when the model is rebuilt whole (first build, --full-refresh, no window); otherwise the
      days to recompute: the window's days plus every day whose staged rows differ from the stored
      ones. The second part catches records re-landed in this window that belong to another day (a
      call updated days after it started, a comment posted later): only days holding rows extracted
      since the window started are compared, by a per-day fingerprint (row count and xor of row
      hashes) instead of a row-by-row join.
-#}

{% macro uc_window() -%}
    {%- set start = var('uc_start_date', none) -%}
    {%- set end = var('uc_end_date', none) -%}
    {%- if start is none and end is none -%}{{ return(none) }}{%- endif -%}
    {%- if start is none or end is none -%}
        {{ exceptions.raise_compiler_error(
            "Set both uc_start_date and uc_end_date (inclusive 'YYYY-MM-DD' UTC dates) or neither; got "
            ~ "uc_start_date=" ~ start ~ ", uc_end_date=" ~ end) }}
    {%- endif -%}
    {%- set bounds = [] -%}
    {%- for value in [start, end] -%}
        {%- set text = value | string -%}
        {%- if modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) is none -%}
            {{ exceptions.raise_compiler_error("uc_start_date/uc_end_date must be 'YYYY-MM-DD'; got '" ~ text ~ "'") }}
        {%- endif -%}
        {%- do bounds.append(modules.datetime.date.fromisoformat(text)) -%}
    {%- endfor -%}
    {%- if bounds[0] > bounds[1] -%}
        {{ exceptions.raise_compiler_error(
            "uc_start_date (" ~ bounds[0] ~ ") is after uc_end_date (" ~ bounds[1] ~ "); both are inclusive") }}
    {%- endif -%}
    {{ return((bounds[0].isoformat(), bounds[1].isoformat())) }}
{%- endmacro %}

{% macro uc_window_days() -%}
    {%- set window = uc_window() -%}
    {%- if window is none -%}{{ return([]) }}{%- endif -%}
    {%- set start = modules.datetime.date.fromisoformat(window[0]) -%}
    {%- set end = modules.datetime.date.fromisoformat(window[1]) -%}
    {%- set days = [] -%}
    {%- for offset in range((end - start).days + 1) -%}
        {%- do days.append((start + modules.datetime.timedelta(days=offset)).isoformat()) -%}
    {%- endfor -%}
    {{ return(days) }}
{%- endmacro %}

{% macro uc_day_filter(expr, days) -%}
    {%- if days | length == 0 -%}
        false
    {%- else -%}
        {{ expr }} in ({% for day in days %}date '{{ day }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{% macro uc_touched_days(model_name, day_expr) -%}
    {#- validated first, so that bad vars fail every run, not only incremental ones -#}
    {%- set window = uc_window() -%}
    {%- if not execute or not is_incremental() or window is none -%}{{ return(none) }}{%- endif -%}
    {%- set window_days = uc_window_days() -%}
    {%- set query -%}
        with staged as (
            {{ uc_union(model_name) }}
        ),
        candidate as (
            select distinct {{ day_expr }} as day
            from staged
            where _extracted_at >= timezone('UTC', timestamp '{{ window_days[0] }} 00:00:00')
        ),
        fresh as (
            select {{ day_expr }} as day, count(*) as n, bit_xor(hash(id, _extracted_at, updated_at)) as h
            from staged
            where {{ day_expr }} in (select day from candidate)
            group by 1
        ),
        stored as (
            select {{ day_expr }} as day, count(*) as n, bit_xor(hash(id, _extracted_at, updated_at)) as h
            from {{ this }}
            where {{ day_expr }} in (select day from candidate)
            group by 1
        )
        select strftime(fresh.day, '%Y-%m-%d') as day
        from fresh left join stored on fresh.day = stored.day
        where stored.day is null or stored.n <> fresh.n or stored.h <> fresh.h
    {%- endset -%}
    {%- set changed = run_query(query).columns[0].values() | list -%}
    {{ return((window_days + changed) | unique | sort | list) }}
{%- endmacro %}
