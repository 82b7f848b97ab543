{#-
  uc_field_coverage: which unified columns each provider supplies — the union of the coverage seeds
  seeds/<provider>/<provider>_field_coverage.csv of the providers built (uc_providers()), one row per
  provider x model x column.
-#}
{{ config(materialized='table', tags=['partitioned']) }}

{%- for provider in uc_providers() %}
select
    cast(provider as varchar) as provider,
    cast(model as varchar) as model,
    cast(column_name as varchar) as column_name,
    lower(trim(cast(coverage as varchar))) as coverage,
    cast(note as varchar) as note
from {{ ref(provider ~ '_field_coverage') }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
