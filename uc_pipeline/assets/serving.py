"""Assets that publish the warehouse to its readers: the serving snapshot and the KPI picture."""

import base64
from collections.abc import Sequence
from datetime import date

import dagster as dg

from uc_pipeline.assets.dbt import WAREHOUSE_POOL
from uc_pipeline.assets.extract import OWNERS
from uc_pipeline.assets.resources import PipelineResource
from uc_pipeline.serving import publish_snapshot
from uc_pipeline.settings import landing_url, serving_path, serving_url, warehouse_path

SNAPSHOT_KEY = dg.AssetKey(["serving", "snapshot"])
PICTURE_KEY = dg.AssetKey(["serving", "kpi_picture"])


class KpiPictureConfig(dg.Config):
    """The picture's window: `days` days ending `last_day` (ISO date; empty: the newest day with calls)."""

    days: int = 30
    last_day: str = ""


def build_serving_assets(warehouse_models: Sequence[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    @dg.asset(
        key=SNAPSHOT_KEY,
        deps=list(warehouse_models),
        group_name="serving",
        description="serving.duckdb: a copy of the uc and reporting schemas for BI tools and analysts, "
        "published by atomic replace in a storage version DuckDB 1.x readers open; also uploaded whole to "
        "UC_SERVING_URL (default: beside a landing zone in an object store) for remote readers.",
        pool=WAREHOUSE_POOL,
        kinds={"duckdb"},
        owners=OWNERS,
        automation_condition=dg.AutomationCondition.eager(),
    )
    def serving_snapshot(uc: PipelineResource) -> dg.MaterializeResult:
        snap = publish_snapshot(
            warehouse_path(uc.data_path),
            serving_path(uc.data_path),
            publish_url=serving_url(uc.data_path),
            landing_url=landing_url(uc.data_path),
        )
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(snap.path)),
                **({"url": dg.MetadataValue.url(snap.url)} if snap.url else {}),
                "bytes": snap.bytes,
                "tables": dg.MetadataValue.json(snap.tables),
                "dagster/row_count": snap.tables.get("uc.uc_call", 0),
            }
        )

    @dg.asset(
        key=PICTURE_KEY,
        deps=[SNAPSHOT_KEY],
        group_name="serving",
        description="PNG of the last 30 days (config: days, last_day): daily service level, abandonment "
        "and ASA per provider, the outcome mix by direction and the window's KPIs; its figures beside it as JSON.",
        kinds={"python"},
        owners=OWNERS,
        automation_condition=dg.AutomationCondition.eager(),
    )
    def kpi_picture(config: KpiPictureConfig, uc: PipelineResource) -> dg.MaterializeResult:
        # imported here: matplotlib adds about a second to every load of the code location (each run, each step)
        from uc_pipeline.report import render_kpi_picture

        out = uc.data_path / "reports" / "kpi_last_30_days.png"
        last_day = date.fromisoformat(config.last_day) if config.last_day else None
        render_kpi_picture(serving_path(uc.data_path), out, days=config.days, last_day=last_day)
        encoded = base64.b64encode(out.read_bytes()).decode("ascii")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(out)),
                "picture": dg.MetadataValue.md(f"![KPIs, last 30 days](data:image/png;base64,{encoded})"),
            }
        )

    return [serving_snapshot, kpi_picture]
