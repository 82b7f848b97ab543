{#-
  uc_field_observed: for each unified model, provider and contract column, when the provider first had
  rows in that model (`first_seen_at`) and when the column first held a value on one of them
  (`first_filled_at`, NULL while it never has). uc_field_coverage_filled_in_history compares it with
  uc_field_coverage: a column marked native or derived that was never filled is a warning.

  Incremental: a partitioned run reads only the rows it wrote (`_loaded_at` = the run's start) and keeps
  the earliest times, so the check costs what the day costs, not what the history does (reading every
  unified table whole took 0.6-1.1 s of every daily run at 1M calls, and grows with the history). A run
  without a window reads every row.
-#}
{{ config(
    materialized='incremental',
    unique_key=['model', 'provider', 'column_name'],
    incremental_strategy='delete+insert',
    tags=['partitioned'],
) }}
{%- set unified_models = ['uc_call', 'uc_recording', 'uc_comment', 'uc_contact', 'uc_user', 'uc_queue'] %}
{%- set this_run = "_loaded_at = cast('" ~ run_started_at.isoformat() ~ "' as timestamptz)"
    if is_incremental() and uc_window() is not none else 'true' %}

with observed as (
    {%- for unified in unified_models %}
    {{ uc_coverage_observed('(select * from ' ~ ref(unified) ~ ' where ' ~ this_run ~ ')', unified) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

candidates as (
    select model, provider, column_name,
        cast('{{ run_started_at.isoformat() }}' as timestamptz) as first_seen_at,
        case when non_null > 0 then cast('{{ run_started_at.isoformat() }}' as timestamptz) end as first_filled_at
    from observed
    {%- if is_incremental() %}
    union all
    select model, provider, column_name, first_seen_at, first_filled_at from {{ this }}
    {%- endif %}
)

select model, provider, column_name, min(first_seen_at) as first_seen_at, min(first_filled_at) as first_filled_at
from candidates
group by all
