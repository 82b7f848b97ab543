{#-
  Provider enums: every provider value the models map lives in the provider's seed
  seeds/<provider>/<provider>_enums.csv (provider, field, value, meaning, missed_reason_group, source), taken
  from the vendor's documentation, old spellings included. A value that is not in the seed maps to
  UNKNOWN, never to another bucket, and is listed in the row's `_unknown_enums`, which the
  `no_unknown_enum_values` test (warn) and the Dagster asset check `uc_call_unknown_enum_values`
  report by provider, field, value and number of calls.

  uc_enum(provider, field)
      The seed's rows of one field as a subquery (value, meaning, missed_reason_group), to left join on
      the provider's value: a NULL `meaning` after the join on a non-NULL value is an unknown value.
  uc_enum_values(provider, field, meaning=none)
      The seed's values of one field (of one meaning) as a parenthesised list of literals for `in`,
      read when the model runs (the seed is built before: the model refs it). For tests inside list
      lambdas, where a joined list (or a list constant) would be copied into every element.
  uc_unknown_enums(checks)
      checks: list of (field, value expression, known condition). The `_unknown_enums` list of a row:
      one {field, value} per field whose value is given and not known; NULL when every value is known.
  uc_missed_reason_group(outcome, group)
      The unified group of why a call was not answered: NULL for an answered call; `UNKNOWN` when the
      provider's reason is not in its seed (`group` = 'UNKNOWN'); NULL for an UNKNOWN outcome (not
      finished, not reported); else the seed's group of the provider's reason, OTHER when the provider
      gives none.
-#}

{% macro uc_enum(provider, field) -%}
(select value, meaning, missed_reason_group from {{ ref(provider ~ '_enums') }} where field = '{{ field }}')
{%- endmacro %}

{% macro uc_enum_values(provider, field, meaning=none) -%}
    {%- set seed = ref(provider ~ '_enums') -%}
    {%- if not execute -%}{{ return("(null)") }}{%- endif -%}
    {%- set query -%}
        select value from {{ seed }} where field = '{{ field }}'
        {%- if meaning is not none %} and meaning = '{{ meaning }}'{% endif %} order by value
    {%- endset -%}
    {%- set values = run_query(query).columns[0].values() -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}{%- do quoted.append("'" ~ (value | replace("'", "''")) ~ "'") -%}{%- endfor -%}
    {{ return('(' ~ ((quoted | join(', ')) or 'null') ~ ')') }}
{%- endmacro %}

{% macro uc_unknown_enums(checks) -%}
    {%- set unknown = [] -%}
    {%- for field, value, known in checks -%}
        {%- do unknown.append('(' ~ value ~ ' is not null and not coalesce(' ~ known ~ ', false))') -%}
    {%- endfor -%}
{#- the list is built only for the rare rows with an unknown value: building it for every row cost more
    than the mapping -#}
case when {{ unknown | join(' or ') }} then list_filter([
    {%- for field, value, known in checks %}
    case when {{ unknown[loop.index0] }}
        then {'field': '{{ field }}', 'value': cast({{ value }} as varchar)} end{{ ',' if not loop.last }}
    {%- endfor %}
], lambda e: e is not null) end
{%- endmacro %}

{% macro uc_missed_reason_group(outcome, group) -%}
case
    when {{ outcome }} = 'ANSWERED' then null
    when {{ group }} = 'UNKNOWN' then 'UNKNOWN'
    when {{ outcome }} = 'UNKNOWN' then null
    else coalesce({{ group }}, 'OTHER')
end
{%- endmacro %}
