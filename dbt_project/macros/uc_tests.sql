{#-
  The project's own generic data tests (no hub packages).

  matches_field_coverage(unified_model, check)
      The unified model agrees with uc_field_coverage, for every provider that has rows in it.
      check='unavailable_is_null' (error, cheap, scoped like every test to the rows the run wrote): a
      column marked `unavailable` is NULL on every row, every contract column has a coverage entry and
      every entry is native, derived or unavailable. check='filled' (warn, configured with
      `where: "true"` so that it reads the whole table in every run): a column marked `native` or
      `derived` is non-NULL on at least one row of the provider's whole history. Coverage agreement is a
      property of the history, not of one day: a day whose few calls all lack a field (no agent, no
      contact, records without legs) is normal and must not stop a daily build. Each failing row names
      provider, column, coverage and the number of non-NULL values.
  no_unknown_enum_values()
      On uc_call (warn, whole table): one row per (provider, field, value) that some call carries in
      `_unknown_enums`, i.e. a provider value its enum seed (seeds/<provider>/<provider>_enums.csv) does not
      know, with the number of calls. Add the value to the seed, with its meaning and source.
  unique_combination(columns)
      No two rows share the same values of `columns` (NULLs compare equal), e.g. a mart's grain.
  not_null_columns(columns) / accepted_values_columns(columns, values) /
  accepted_values_by_column(values_by_column) / refers_to(references)
      dbt's not_null / accepted_values / relationships over several columns of a model in one query:
      one failing row per column that breaks it, with the number of offending rows. `values_by_column`
      maps each column to its own accepted values; `references` lists {column, to, field}: every
      non-NULL `column` is a `field` of the relation `to` (a `ref()`). A daily run runs every test as a
      dbt node of its own (40-60 ms of dbt's time each, whatever the data), so the columns of a model
      share one test of each kind.
  is_key(column_name)
      dbt's unique and not_null in one query: one row per value of the column that is NULL or on
      more than one row, with the number of rows.
-#}

{% test matches_field_coverage(model, unified_model, check='unavailable_is_null') %}
    {%- if check not in ('unavailable_is_null', 'filled') -%}
        {{ exceptions.raise_compiler_error("matches_field_coverage: check must be 'unavailable_is_null' or 'filled'; got '" ~ check ~ "'") }}
    {%- endif %}
    {%- set columns = uc_columns(unified_model) | map(attribute=0) | list %}
with stats as (
    select
        provider as _provider,
        count(*) as _row_count,
        {%- for name in columns %}
        count({{ adapter.quote(name) }}) as {{ adapter.quote(name) }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
    group by provider
),

observed as (
    unpivot stats on {% for name in columns %}{{ adapter.quote(name) }}{{ ', ' if not loop.last }}{% endfor %}
    into name column_name value non_null
),

coverage as (
    select provider, column_name, coverage
    from {{ ref('uc_field_coverage') }}
    where model = '{{ unified_model }}'
)

select o._provider as provider, o.column_name, c.coverage, o._row_count as row_count, o.non_null,
    case
        when c.coverage is null then 'no coverage entry for this column'
        when c.coverage not in ('native', 'derived', 'unavailable') then 'coverage must be native, derived or unavailable'
        when c.coverage = 'unavailable' then 'marked unavailable but has values'
        else 'marked ' || c.coverage || ' but NULL on every row'
    end as problem
from observed as o
left join coverage as c on c.provider = o._provider and c.column_name = o.column_name
where o._row_count > 0
    and (
    {%- if check == 'unavailable_is_null' %}
        c.coverage is null
        or c.coverage not in ('native', 'derived', 'unavailable')
        or (c.coverage = 'unavailable' and o.non_null > 0)
    {%- else %}
        c.coverage in ('native', 'derived') and o.non_null = 0
    {%- endif %}
    )
{% endtest %}

{% test no_unknown_enum_values(model) %}
select provider, e.field, e.value, count(*) as calls
from (select provider, unnest(_unknown_enums) as e from {{ model }} where _unknown_enums is not null)
group by all
{% endtest %}

{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as duplicates
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{% test not_null_columns(model, columns) %}
{{ uc_columns_failing(model, columns, '{} is null') }}
{% endtest %}

{% test accepted_values_columns(model, columns, values) %}
    {%- set values_by_column = {} -%}
    {%- for name in columns -%}{%- do values_by_column.update({name: values}) -%}{%- endfor -%}
{{ test_accepted_values_by_column(model, values_by_column) }}
{% endtest %}

{% test accepted_values_by_column(model, values_by_column) %}
    {%- set conditions = {} -%}
    {%- for name, values in values_by_column.items() -%}
        {%- set accepted = [] -%}
        {%- for value in values -%}{%- do accepted.append("'" ~ (value | replace("'", "''")) ~ "'") -%}{%- endfor -%}
        {%- do conditions.update({name: adapter.quote(name) ~ ' not in (' ~ accepted | join(', ') ~ ')'}) -%}
    {%- endfor -%}
{{ uc_conditions_failing(model, conditions) }}
{% endtest %}

{% test refers_to(model, references) %}
    {%- set conditions = {} -%}
    {%- for reference in references -%}
        {%- set column = adapter.quote(reference['column']) -%}
        {%- do conditions.update({reference['column']: column ~ ' is not null and ' ~ column ~ ' not in (select '
            ~ adapter.quote(reference['field']) ~ ' from ' ~ reference['to'] ~ ' where '
            ~ adapter.quote(reference['field']) ~ ' is not null)'}) -%}
    {%- endfor -%}
{{ uc_conditions_failing(model, conditions) }}
{% endtest %}

{% test is_key(model, column_name) %}
select {{ column_name }}, count(*) as rows
from {{ model }}
group by {{ column_name }}
having {{ column_name }} is null or count(*) > 1
{% endtest %}

{#- One row (column_name, failing_rows) per column of `columns` with rows where `condition` (a format
    string, `{}` = the column) holds. -#}
{% macro uc_columns_failing(model, columns, condition) %}
    {%- set conditions = {} -%}
    {%- for name in columns -%}{%- do conditions.update({name: condition | replace('{}', adapter.quote(name))}) -%}{%- endfor -%}
{{ uc_conditions_failing(model, conditions) }}
{% endmacro %}

{#- One row (column_name, failing_rows) per entry of `conditions` (column name -> SQL condition that a
    failing row meets) with rows that meet it. -#}
{% macro uc_conditions_failing(model, conditions) %}
with counts as (
    select
        {%- for name, condition in conditions.items() %}
        count(*) filter (where {{ condition }}) as {{ adapter.quote(name) }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
)

select column_name, failing_rows
from (
    unpivot counts on {% for name in conditions %}{{ adapter.quote(name) }}{{ ', ' if not loop.last }}{% endfor %}
    into name column_name value failing_rows
)
where failing_rows > 0
{% endmacro %}
