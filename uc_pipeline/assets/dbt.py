"""dbt models as Dagster assets: the seeds, the day-partitioned build and the whole-history views.

Seeds: the reference data (coverage, enum meanings), one unpartitioned asset each: they hold no
day. Partitioned: every model except those tagged `unpartitioned`; a run over days D1..Dn sets the
dbt vars `uc_start_date`/`uc_end_date` (through UC_START_DATE/UC_END_DATE) so incremental models
touch only those days. Unpartitioned: pure downstream views over the whole history (`raw.*` views,
heatmaps). All write the warehouse, so all run in the `warehouse` pool (one writer at a time).
dbt data tests become asset checks, named and described in the dbt project's yml.
"""

import contextlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from uc_pipeline.assets.extract import BACKFILL_POLICY, OWNERS
from uc_pipeline.assets.partitions import day_key, partition_days
from uc_pipeline.assets.resources import PipelineResource
from uc_pipeline.dbt_exec import PARENT_ENV
from uc_pipeline.dbt_project import dbt_project
from uc_pipeline.providers import PROVIDER_IDS
from uc_pipeline.settings import WINDOW_ENV, warehouse_path

WAREHOUSE_POOL = "warehouse"
UNPARTITIONED = "tag:unpartitioned"
SEEDS = "resource_type:seed"
LAYER_GROUPS = {"uc": "unified", "reporting": "reporting", "seeds": "unified"}


LEADING_COMMENT = re.compile(r"\s*\{#-?(.*?)-?#\}", re.S)
RAW_VIEWS = "raw_views"  # not `raw`: `raw/<provider>/<stream>` are the extract assets (the landed files)


def escape_markdown_tags(text: str) -> str:
    """`<provider>` outside code spans becomes `&lt;provider&gt;`, which Markdown shows instead of dropping."""
    parts = text.split("`")
    return "`".join(p if i % 2 else p.replace("<", "&lt;").replace(">", "&gt;") for i, p in enumerate(parts))


class UcDbtTranslator(DagsterDbtTranslator):
    """Asset keys `<schema>/<model>` (the raw views `raw_views/<model>`); staging and raw views grouped with
    their provider; descriptions of models, seeds and tests readable in the catalog."""


    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        meta_key = (dbt_resource_props.get("meta") or {}).get("dagster", {}).get("asset_key")
        if meta_key:
            return dg.AssetKey(meta_key)
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            schema = dbt_resource_props["schema"]
            return dg.AssetKey([RAW_VIEWS if schema == "raw" else schema, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn") or []
        # seeds live in seeds/<provider>/ but are the unified models' reference data
        if dbt_resource_props["resource_type"] == "seed":
            return "unified"
        for part in fqn[1:]:
            if part in PROVIDER_IDS:
                return part
        return LAYER_GROUPS.get(fqn[1] if len(fqn) > 1 else "", "unified")

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return OWNERS

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """The dbt description (seeds: seeds/<provider>/_<provider>__seeds.yml), else the model's leading `{#- ... -#}`
        comment; never the raw SQL and its Jinja. `<placeholders>` are escaped so that Markdown shows them."""
        text = (dbt_resource_props.get("description") or "").strip()
        if not text:
            comment = LEADING_COMMENT.match(dbt_resource_props.get("raw_code") or "")
            text = " ".join(comment.group(1).split()) if comment else ""
        if dbt_resource_props.get("schema") == "raw" and dbt_resource_props["resource_type"] == "model":
            text += f" The DuckDB view `raw.{dbt_resource_props['name']}` over the landed Parquet files."
        return escape_markdown_tags(text.strip() or f"dbt {dbt_resource_props['resource_type']} "
                                    f"`{dbt_resource_props['name']}`.")

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetCheckSpec | None:
        """dbt data tests as checks, described by the test's own `description:` in the yml (dagster-dbt
        0.29 reads only `meta.description`). The name stays the test's `name:`: dagster-dbt matches a
        test's result to its check by it."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        description = " ".join(((manifest["nodes"].get(unique_id) or {}).get("description") or "").split())
        return spec._replace(description=description or None)


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
    saved = {name: os.environ.get(name) for name in (*WINDOW_ENV, PARENT_ENV)}
    try:
        # And this process's pid, which `uc-dbt` checks is still its parent once it is guarded (dbt_exec.py).
        _set_env({**dict(zip(WINDOW_ENV, (start, end), strict=True)), PARENT_ENV: str(os.getpid())})
        yield
    finally:
        _set_env(saved)


def relations(manifest_path: Path) -> dict[str, tuple[str, dict[str, str]]]:
    """dbt unique id -> (relation name, column -> its dbt description), from the manifest."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return {
        uid: (node["relation_name"], {c: (props.get("description") or "") for c, props in node["columns"].items()})
        for uid, node in manifest["nodes"].items()
        if node.get("relation_name") and node["resource_type"] in ("model", "seed", "snapshot")
    }


def _column_schema(con: duckdb.DuckDBPyConnection, relation: str, descriptions: Mapping[str, str]) -> dg.TableSchema:
    """The relation's columns with their DuckDB types (from the warehouse) and dbt descriptions."""
    rows = con.execute(f"describe {relation}").fetchall()
    return dg.TableSchema(columns=[
        dg.TableColumn(name=row[0], type=str(row[1]), description=descriptions.get(row[0]) or None) for row in rows
    ])


def _with_row_counts(events: Iterator[Any], warehouse: str, manifest_path: Path | None = None) -> Iterator[Any]:
    """Pass dbt's events through, adding `dagster/row_count` and the column types (`dagster/column_schema`)
    to each materialized table or view.

    They are read after dbt exits: DuckDB allows one writer, so no query may run during the build.
    """
    held: list[Any] = []
    for event in events:
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            held.append(event)
        else:
            yield event
    counts: dict[str, int] = {}
    schemas: dict[str, dg.TableSchema] = {}
    known = relations(manifest_path) if manifest_path and manifest_path.exists() else {}
    try:
        con = duckdb.connect(warehouse, read_only=True)
    except duckdb.Error:
        con = None
    try:
        for event in held:
            unique_id = (event.metadata or {}).get("unique_id")
            name, described = known.get(str(getattr(unique_id, "value", unique_id)), (None, {}))
            if con is not None and name and name not in counts:
                with contextlib.suppress(duckdb.Error):
                    counts[name] = con.execute(f"select count(*) from {name}").fetchone()[0]
                    schemas[name] = _column_schema(con, name, described)
            if name in counts:
                extra = {"dagster/row_count": counts[name]}
                if name in schemas:
                    extra["dagster/column_schema"] = schemas[name]
                yield event.with_metadata({**(event.metadata or {}), **extra})
            else:
                yield event
    finally:
        if con is not None:
            con.close()


def missing_seeds(warehouse: Path, manifest_path: Path) -> list[str]:
    """The seed tables the warehouse lacks (all of them before the first build)."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    wanted = {(n["schema"], n["name"]) for n in manifest["nodes"].values() if n["resource_type"] == "seed"}
    if not warehouse.exists():
        return sorted(f"{schema}.{name}" for schema, name in wanted)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        present = set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())
    finally:
        con.close()
    return sorted(f"{schema}.{name}" for schema, name in wanted - present)


def build_dbt_assets(
    partitions_def: dg.PartitionsDefinition, project: DbtProject = dbt_project
) -> list[dg.AssetsDefinition]:
    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        select=SEEDS,
        dagster_dbt_translator=TRANSLATOR,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        name="dbt_seeds",
    )
    def dbt_seeds(context: dg.AssetExecutionContext, dbt: DbtCliResource, uc: PipelineResource) -> Iterator[Any]:
        invocation = dbt.cli(["seed"], context=context)
        yield from _with_row_counts(invocation.stream(), str(warehouse_path(uc.data_path)), project.manifest_path)

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        exclude=f"{UNPARTITIONED} {SEEDS}",
        dagster_dbt_translator=TRANSLATOR,
        partitions_def=partitions_def,
        backfill_policy=BACKFILL_POLICY,
        pool=WAREHOUSE_POOL,
        name="dbt_daily_models",
    )
    def dbt_daily_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, uc: PipelineResource) -> Iterator[Any]:
        days = partition_days(context)
        # The daily job loads the seeds first; a partition materialized alone on a warehouse that has
        # never had them (a new data directory) loads them here rather than failing on a missing table.
        missing = missing_seeds(warehouse_path(uc.data_path), project.manifest_path)
        if missing:
            context.log.info(f"Loading the dbt seeds first: the warehouse lacks {', '.join(missing)}")
            dbt.cli(["seed"], manifest=project.manifest_path).wait()
        # Unit tests have static inputs: CI and a plain `dbt build` run them, not every partition.
        with window_env(day_key(days[0]), day_key(days[-1])):
            invocation = dbt.cli(
                ["build", "--exclude-resource-type", "unit_test", "--exclude", SOURCE_TESTS], context=context
            )
        yield from _with_row_counts(invocation.stream(), str(warehouse_path(uc.data_path)), project.manifest_path)

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
            yield from _with_row_counts(invocation.stream(), str(warehouse_path(uc.data_path)), project.manifest_path)
            # Not streamed: tests of sources have no asset check here; a failing one fails the step.
            dbt.cli(["test", "--select", SOURCE_TESTS], manifest=project.manifest_path).wait()
            context.log.info("dbt source tests over the whole landing zone passed")

    return [dbt_seeds, dbt_daily_models, dbt_history_views]
