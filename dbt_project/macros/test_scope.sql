{#-
  Which rows a data test reads: the rows this run wrote, in a partitioned run.

  Every data test of the project has `where: "__uc_rows_of_this_run__"` (dbt_project.yml). dbt's own
  hook for that config, get_where_subquery, is overridden here to replace the placeholder:
  - no partition window (a plain `dbt build`, a full refresh): `true`, every row is tested;
  - a windowed run, on a model that documents a `_loaded_at` column (the staging tables, uc_user,
    uc_contact, and the uc_call, uc_recording and uc_comment views over the per-provider tables,
    where the filter reaches the tables): the rows loaded by this run (`_loaded_at` = the run's
    start), i.e. exactly what it rewrote;
  - anything else (seeds, the small marts, sources): `true`.
  So a daily run tests the day it built instead of rescanning the whole history for every test,
  and a full build still tests everything. A `where` written on a test itself is kept as it is.
-#}

{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__uc_rows_of_this_run__' in where -%}
        {%- set where = where | replace('__uc_rows_of_this_run__', uc_rows_of_this_run(relation)) -%}
    {%- endif -%}
    {%- if where and where != 'true' -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') }}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}

{% macro uc_rows_of_this_run(relation) -%}
    {%- if not execute or uc_window() is none -%}{{ return('true') }}{%- endif -%}
    {#- the tested model's documented columns say whether it has `_loaded_at` (read from the graph: a
        catalog query per test cost more than the test itself); sources have no attached node -#}
    {%- set attached = model.get('attached_node') if model is mapping else none -%}
    {%- set node = graph.nodes.get(attached) if attached else none -%}
    {%- if node is not none and '_loaded_at' in node.columns -%}
        {{ return("_loaded_at = cast('" ~ run_started_at.isoformat() ~ "' as timestamptz)") }}
    {%- endif -%}
    {{ return('true') }}
{%- endmacro %}
