{#-
  Shared pieces of the reporting marts.

  reporting_tz()               var('reporting_timezone'), checked (an IANA name such as 'Europe/Paris').
  reporting_is_utc()           whether that zone is UTC (the marts then skip ICU's zone lookups).
  reporting_local(ts)          the local wall-clock timestamp of a timestamptz in that zone (DST-correct).
  reporting_touched_days()     none when the mart is rebuilt whole (first build, --full-refresh, no
                               window); else the reporting-zone days to recompute: every local day that
                               overlaps a UTC day of uc_call loaded since this mart last ran (its
                               `_uc_loaded_at` watermark), or a UTC day such a call left
                               (`_previous_call_dates`). Runs that die half way are caught up by the
                               next run, since the watermark only moves with the mart's own rows.
  reporting_replace_touched_days()
                               the pre-hook of an incremental mart (strategy 'append'): deletes the days
                               the run recomputes, in the run's transaction, so that a day no call is
                               left on is emptied too (delete+insert by day kept such a day's old rows).
  reporting_calls(touched)     uc_call rows with `day` (local date), `hour` and the KPI flags
                               (`is_offered`, `is_handled`, `is_from_recordings`: a call known only
                               from its recordings, so offered-based KPIs cannot be measured), restricted
                               to the touched local days (a range of `start_at` around them first).
  reporting_fidelity(kpis)     per provider, one `<kpi>_fidelity` column per KPI, from uc_field_coverage.
  reporting_watermark()        the `_uc_loaded_at` value written into the mart's rows.
-#}

{% macro reporting_tz() -%}
    {%- set tz = var('reporting_timezone', 'UTC') | string | trim -%}
    {%- if modules.re.match('^[A-Za-z][A-Za-z0-9_+/-]*$', tz) is none -%}
        {{ exceptions.raise_compiler_error(
            "reporting_timezone must be an IANA time zone name such as 'UTC' or 'Europe/Paris'; got '" ~ tz ~ "'") }}
    {%- endif -%}
    {{ return(tz) }}
{%- endmacro %}

{% macro reporting_is_utc() -%}
    {{ return(reporting_tz() in ('UTC', 'Etc/UTC')) }}
{%- endmacro %}

{% macro reporting_local(ts) -%}
    {%- if reporting_is_utc() -%}
        {#- the same wall clock without ICU's zone lookup per row (about 10 times faster) -#}
        make_timestamp(epoch_us({{ ts }}))
    {%- else -%}
        timezone('{{ reporting_tz() }}', {{ ts }})
    {%- endif -%}
{%- endmacro %}

{% macro reporting_touched_days() -%}
    {#- validated first, so that bad vars fail every run, not only incremental ones -#}
    {%- set window = uc_window() -%}
    {%- if not execute or not is_incremental() or window is none -%}{{ return(none) }}{%- endif -%}
    {%- set query -%}
        with touched_utc as (
            -- the day of each call loaded since, and any day it left (a start that moved)
            select distinct unnest(list_append(coalesce(_previous_call_dates, []), call_date)) as call_date
            from {{ ref('uc_call') }}
            where _loaded_at > (select coalesce(max(_uc_loaded_at), '-infinity'::timestamptz) from {{ this }})
        ),
        local_days as (
            select cast({{ reporting_local("timezone('UTC', cast(call_date as timestamp))") }} as date) as day
            from touched_utc
            union
            select cast({{ reporting_local(
                "timezone('UTC', cast(call_date + 1 as timestamp)) - interval 1 microsecond") }} as date)
            from touched_utc
        )
        select strftime(day, '%Y-%m-%d') from local_days order by 1
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{% macro reporting_replace_touched_days() -%}
    {%- if execute and is_incremental() -%}
        {%- set touched = reporting_touched_days() -%}
        {%- if touched is none -%}
            delete from {{ this }}
        {%- elif touched | length > 0 -%}
            delete from {{ this }} where day in ({% for day in touched %}date '{{ day }}'{{ ', ' if not loop.last }}{% endfor %})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro reporting_calls(touched) -%}
    {%- set utc = reporting_is_utc() -%}
    select
        c.*,
        cast({{ reporting_local('c.start_at') }} as date) as day,
        cast(extract(hour from {{ reporting_local('c.start_at') }}) as integer) as hour,
        c.type = 'INBOUND' and c.outcome in ('ANSWERED', 'MISSED', 'VOICEMAIL', 'ABANDONED', 'BUSY') as is_offered,
        c.type = 'INBOUND' and c.outcome = 'ANSWERED' as is_handled,
        -- a call known only from its recordings (8x8) says nothing of the calls nobody answered
        c.record_source = 'recording_metadata' as is_from_recordings
    from {{ ref('uc_call') }} as c
    {%- if touched is not none %}
    where {{ reporting_start_filter('c.start_at', touched, 0 if utc else 16) }}
        {%- if not utc %}
        and {{ uc_day_filter('cast(' ~ reporting_local('c.start_at') ~ ' as date)', touched) }}
        {%- endif %}
    {%- endif %}
{%- endmacro %}

{#- reporting_start_filter(expr, days, margin_h): `expr` (a timestamptz) within the UTC days `days`,
    widened by `margin_h` hours on each side, one range per run of consecutive days: plain timestamptz
    bounds, so DuckDB skips the row groups of other days. A reporting-zone day lies within its UTC day
    widened by the zone's offset, so a margin of 16 h covers every zone; in UTC the ranges are exact. -#}
{% macro reporting_start_filter(expr, days, margin_h) -%}
    {%- if days | length == 0 -%}{{ return('false') }}{%- endif -%}
    {%- set dates = [] -%}
    {%- for day in days | sort -%}{%- do dates.append(modules.datetime.date.fromisoformat(day)) -%}{%- endfor -%}
    {%- set runs = [[dates[0], dates[0]]] -%}
    {%- for day in dates[1:] -%}
        {%- if (day - runs[-1][1]).days <= 1 -%}{%- do runs[-1].pop() -%}{%- do runs[-1].append(day) -%}
        {%- else -%}{%- do runs.append([day, day]) -%}{%- endif -%}
    {%- endfor -%}
    {%- set margin = modules.datetime.timedelta(hours=margin_h) -%}
    {%- set ranges = [] -%}
    {%- for first, last in runs -%}
        {%- set low = modules.datetime.datetime(first.year, first.month, first.day) - margin -%}
        {%- set high = modules.datetime.datetime(last.year, last.month, last.day)
            + modules.datetime.timedelta(days=1) + margin -%}
        {%- do ranges.append("(" ~ expr ~ " >= '" ~ low.isoformat(' ') ~ "+00'::timestamptz and " ~ expr
            ~ " < '" ~ high.isoformat(' ') ~ "+00'::timestamptz)") -%}
    {%- endfor -%}
    {{ return('(' ~ ranges | join(' or ') ~ ')') }}
{%- endmacro %}

{% macro reporting_fidelity(kpis) -%}
    {#- kpis: list of (kpi name, [uc_call columns it needs]). A column without a coverage row counts as
        unavailable, so a provider whose coverage seed is missing gets NULL KPIs rather than guesses. -#}
    select
        provider,
        {%- for name, columns in kpis %}
        {%- set in_list = "column_name in ('" ~ (columns | join("', '")) ~ "')" %}
        case
            when count(distinct column_name) filter (where {{ in_list }}) < {{ columns | length }}
                or count(*) filter (where {{ in_list }} and coverage = 'unavailable') > 0 then 'unavailable'
            when count(*) filter (where {{ in_list }} and coverage = 'native') = {{ columns | length }} then 'native'
            else 'derived'
        end as {{ name }}_fidelity{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('uc_field_coverage') }}
    where model = 'uc_call'
    group by provider
{%- endmacro %}

{% macro reporting_watermark() -%}
    (select max(_loaded_at) from {{ ref('uc_call') }})
{%- endmacro %}
