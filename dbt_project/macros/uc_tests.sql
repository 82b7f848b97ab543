{#-
  The project's own generic data tests (no hub packages).

  matches_field_coverage(unified_model)
      The unified model agrees with uc_field_coverage, for every provider that has rows in it (error,
      cheap, scoped like every test to the rows the run wrote): a column marked `unavailable` is NULL on
      every row, every contract column has a coverage entry and every entry is native, derived or
      unavailable.
  filled_in_history()
      On uc_field_coverage (warn): a column marked `native` or `derived` has held a value on at least one
      row of the provider's history, in every unified model (uc_field_observed keeps, run by run, which
      columns have). Coverage agreement is a property of the history, not of one day: a day whose few
      calls all lack a field (no agent, no contact, records without legs) is normal and must not stop a
      daily build. Each failing row names model, provider, column and coverage.
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

{% test matches_field_coverage(model, unified_model) %}
with observed as (
    {{ uc_coverage_observed(model, unified_model) }}
),

coverage as (
    select provider, column_name, coverage
    from {{ ref('uc_field_coverage') }}
    where model = '{{ unified_model }}'
)

select o.provider, o.column_name, c.coverage, o.row_count, o.non_null,
    case
        when c.coverage is null then 'no coverage entry for this column'
        when c.coverage not in ('native', 'derived', 'unavailable') then 'coverage must be native, derived or unavailable'
        else 'marked unavailable but has values'
    end as problem
from observed as o
left join coverage as c on c.provider = o.provider and c.column_name = o.column_name
where c.coverage is null
    or c.coverage not in ('native', 'derived', 'unavailable')
    or (c.coverage = 'unavailable' and o.non_null > 0)
{% endtest %}

{#- On uc_field_coverage (warn): one row per (unified model, provider, column) marked native or derived that
    has never held a value on the provider's rows, by uc_field_observed (every row ever written). -#}
{% test filled_in_history(model) %}
select o.model, o.provider, o.column_name, c.coverage, o.first_seen_at,
    'marked ' || c.coverage || ' but NULL on every row written so far' as problem
from {{ ref('uc_field_observed') }} as o
join {{ model }} as c on c.model = o.model and c.provider = o.provider and c.column_name = o.column_name
where c.coverage in ('native', 'derived') and o.first_filled_at is null
{% endtest %}

{#- Per provider with rows in `relation`, each contract column of `unified_model`: (model, provider,
    column_name, row_count, non_null). -#}
{% macro uc_coverage_observed(relation, unified_model) %}
    {%- set columns = uc_columns(unified_model) | map(attribute=0) | list %}
select '{{ unified_model }}' as model, _provider as provider, column_name, _row_count as row_count, non_null
from (
    unpivot (
        select
            provider as _provider,
            count(*) as _row_count,
            {%- for name in columns %}
            count({{ adapter.quote(name) }}) as {{ adapter.quote(name) }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ relation }}
        group by provider
    ) on {% for name in columns %}{{ adapter.quote(name) }}{{ ', ' if not loop.last }}{% endfor %}
    into name column_name value non_null
)
where _row_count > 0
{% endmacro %}

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

{#- An anti join per reference: `not in (subquery)` in a filter made DuckDB probe the parent once per
    column and row (0.4-0.6 s against 0.1 s on a one-day run at 1M calls). -#}
{% test refers_to(model, references) %}
with child as (select * from {{ model }})
{%- for reference in references %}
{%- set column = adapter.quote(reference['column']) %}
select '{{ reference['column'] }}' as column_name, count(*) as failing_rows
from child
anti join {{ reference['to'] }} as parent on parent.{{ adapter.quote(reference['field']) }} = child.{{ column }}
where child.{{ column }} is not null
having count(*) > 0
{% if not loop.last %}union all{% endif %}
{%- endfor %}
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
