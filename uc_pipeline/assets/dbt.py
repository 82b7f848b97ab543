"""dbt models as Dagster assets: the day-partitioned build and the whole-history views.

Partitioned: every model except those tagged `unpartitioned`; a run over days D1..Dn sets the dbt
vars `uc_start_date`/`uc_end_date` (through UC_START_DATE/UC_END_DATE) so incremental models touch
only those days. Unpartitioned: pure downstream views over the whole history (`raw.*` views,
heatmaps). Both write the warehouse, so both run in the `warehouse` pool (one writer at a time).
dbt tests become asset checks.
"""

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from uc_pipeline.assets.extract import BACKFILL_POLICY, OWNERS
from uc_pipeline.assets.partitions import day_key, partition_days
from uc_pipeline.assets.resources import PipelineResource
from uc_pipeline.dbt_project import dbt_project
from uc_pipeline.providers import PROVIDER_IDS
from uc_pipeline.settings import WINDOW_ENV, warehouse_path

WAREHOUSE_POOL = "warehouse"
UNPARTITIONED = "tag:unpartitioned"
LAYER_GROUPS = {"uc": "unified", "reporting": "reporting", "seeds": "unified"}


class UcDbtTranslator(DagsterDbtTranslator):
    """Asset keys `<schema>/<model>`; staging and raw views grouped with their provider."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        meta_key = (dbt_resource_props.get("meta") or {}).get("dagster", {}).get("asset_key")
        if meta_key:
            return dg.AssetKey(meta_key)
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn") or []
        for part in fqn[1:]:
            if part in PROVIDER_IDS:
                return part
        name = dbt_resource_props.get("name", "")
        if len(fqn) > 1 and fqn[1] == "raw":
            return name.split("_", 1)[0] if name.split("_", 1)[0] in PROVIDER_IDS else "raw"
        if dbt_resource_props["resource_type"] == "seed":
            return "unified"
        return LAYER_GROUPS.get(fqn[1] if len(fqn) > 1 else "", "unified")

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return OWNERS


# Source tests (the landing zone's own) run with the whole-history views, over every landed file, and a
# failing one fails that run. As checks of the extract assets they would pull a dbt step into every
# extract run (about 15 s each), and in the partitioned build they would be reported as stray observations.
TRANSLATOR = UcDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_source_tests_as_checks=False))
VIEWS_TRANSLATOR = TRANSLATOR
SOURCE_TESTS = "source:*"


def _set_env(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@contextlib.contextmanager
def window_env(start: str | None = None, end: str | None = None) -> Iterator[None]:
    """The partition window, for a dbt process started inside (dagster-dbt passes it a copy of the
    environment); none = the whole history. The previous values come back after. Dagster's executors
    run a process's steps one after the other, so no other dbt start in this process sees them.

    The window goes through the environment rather than `--vars`: dbt reads it only when a model
    runs, so the parse dagster-dbt hands over stays valid, whereas a new `--vars` value per
    partition makes dbt parse the whole project again (about 2 s of every run).
    """
    saved = {name: os.environ.get(name) for name in WINDOW_ENV}
    try:
        _set_env(dict(zip(WINDOW_ENV, (start, end), strict=True)))
        yield
    finally:
        _set_env(saved)


def _with_row_counts(events: Iterator[Any], warehouse: str) -> Iterator[Any]:
    """Pass dbt's events through, adding `dagster/row_count` to each materialized table or view.

    The counts are read after dbt exits: DuckDB allows one writer, so no query may run during the build.
    """
    held: list[Any] = []
    for event in events:
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            held.append(event)
        else:
            yield event
    counts: dict[str, int] = {}
    try:
        con = duckdb.connect(warehouse, read_only=True)
    except duckdb.Error:
        con = None
    try:
        for event in held:
            relation = (event.metadata or {}).get("dagster_dbt/relation_name")
            name = getattr(relation, "value", relation)
            if con is not None and name and name not in counts:
                with contextlib.suppress(duckdb.Error):
                    counts[name] = con.execute(f"select count(*) from {name}").fetchone()[0]
            if name in counts:
                yield event.with_metadata({**(event.metadata or {}), "dagster/row_count": counts[name]})
            else:
                yield event
    finally:
        if con is not None:
            con.close()


def build_dbt_assets(
    partitions_def: dg.PartitionsDefinition, project: DbtProject = dbt_project
) -> list[dg.AssetsDefinition]:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        exclude=UNPARTITIONED,
        dagster_dbt_translator=TRANSLATOR,
        partitions_def=partitions_def,
        backfill_policy=BACKFILL_POLICY,
        pool=WAREHOUSE_POOL,
        name="dbt_daily_models",
    )
    def dbt_daily_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, uc: PipelineResource) -> Iterator[Any]:
        days = partition_days(context)
        # Unit tests have static inputs: CI and a plain `dbt build` run them, not every partition.
        with window_env(day_key(days[0]), day_key(days[-1])):
            invocation = dbt.cli(
                ["build", "--exclude-resource-type", "unit_test", "--exclude", SOURCE_TESTS], context=context
            )
        yield from _with_row_counts(invocation.stream(), str(warehouse_path(uc.data_path)))

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        select=UNPARTITIONED,
        dagster_dbt_translator=VIEWS_TRANSLATOR,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        name="dbt_history_views",
    )
    def dbt_history_views(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, uc: PipelineResource
    ) -> Iterator[Any]:
        with window_env():  # whatever the process environment holds: these views cover every day
            invocation = dbt.cli(["build"], context=context)
            yield from _with_row_counts(invocation.stream(), str(warehouse_path(uc.data_path)))
            # Not streamed: tests of sources have no asset check here; a failing one fails the step.
            dbt.cli(["test", "--select", SOURCE_TESTS], manifest=project.manifest_path).wait()
            context.log.info("dbt source tests over the whole landing zone passed")

    return [dbt_daily_models, dbt_history_views]
