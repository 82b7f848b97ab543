{#-
  The partition window of a run.

  The vars uc_start_date/uc_end_date (inclusive UTC dates) hold it; they default to the environment
  variables UC_START_DATE/UC_END_DATE, which is how Dagster sets them, and `--vars` overrides both.
  Empty or unset: the whole history.
  uc_window()               none (whole history) or (start, end) as 'YYYY-MM-DD' strings, validated;
                            always none while dbt parses (see below).
  uc_window_days()          every date of the window, as strings.
  uc_day_filter(expr, days) `expr` between the first and last day and in the list: literal dates, so
                            DuckDB prunes by zonemap.
-#}

{% macro uc_window() -%}
    {#- read only when a model runs, so that no parsed file depends on the window and a new window in
        the environment leaves dbt's saved parse valid -#}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set start = var('uc_start_date', none) -%}
    {%- set end = var('uc_end_date', none) -%}
    {%- set start = none if start is none or start | string | trim == '' else start | string | trim -%}
    {%- set end = none if end is none or end | string | trim == '' else end | string | trim -%}
    {%- if start is none and end is none -%}{{ return(none) }}{%- endif -%}
    {%- if start is none or end is none -%}
        {{ exceptions.raise_compiler_error(
            "Set both uc_start_date and uc_end_date (inclusive 'YYYY-MM-DD' UTC dates, by --vars or by "
            ~ "the environment variables UC_START_DATE and UC_END_DATE) or neither; got "
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
        {%- set days = days | sort | list -%}
        {#- the range is what DuckDB pushes into the scan (it turns a long IN list into a join) -#}
        ({{ expr }} between date '{{ days[0] }}' and date '{{ days[-1] }}'
         and {{ expr }} in ({% for day in days %}date '{{ day }}'{{ ', ' if not loop.last }}{% endfor %}))
    {%- endif -%}
{%- endmacro %}
