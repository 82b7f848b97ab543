"""The Dagster code location: every asset, check, resource, job, schedule and sensor of uc-pipeline.

Loaded by `workspace.yaml` (and `dagster dev` in the repository root). Paths come from the
environment (`UC_DATA_DIR`, `UC_CONNECTIONS_FILE`, `UC_LIMITER_URL`, `UC_LANDING_URL`, `UC_CELERY_CONFIG`); see
the README.
"""

from __future__ import annotations

import os

import dagster as dg
from dagster_dbt import DbtCliResource

from uc_pipeline.assets.checks import ASSET_CHECKS
from uc_pipeline.assets.dbt import build_dbt_assets
from uc_pipeline.assets.executor import build_executor
from uc_pipeline.assets.extract import build_extract_assets
from uc_pipeline.assets.partitions import daily_partitions, earliest_history_start
from uc_pipeline.assets.resources import PipelineResource
from uc_pipeline.assets.run_reaper import dead_run_reaper
from uc_pipeline.assets.schedules import build_daily_job, build_daily_schedule, build_publish_automation
from uc_pipeline.assets.serving import build_serving_assets
from uc_pipeline.assets.snapshots import SNAPSHOT_JOB, build_snapshot_assets
from uc_pipeline.dbt_project import DBT_EXECUTABLE, ensure_manifest, project_for
from uc_pipeline.settings import (
    CONNECTIONS_FILE_ENV,
    DATA_DIR_ENV,
    LANDING_URL_ENV,
    connections_file,
    data_dir,
    landing_url,
)


def build_definitions() -> dg.Definitions:
    """Every definition of the code location, from the current environment."""
    # Absolute paths, so the dbt subprocess (which inherits the environment) resolves the same ones.
    os.environ[DATA_DIR_ENV] = str(data_dir())
    os.environ.setdefault(CONNECTIONS_FILE_ENV, str(connections_file()))
    if os.environ.get(LANDING_URL_ENV):
        os.environ[LANDING_URL_ENV] = landing_url()  # absolute, no trailing slash: dbt reads it as is
    project = project_for(data_dir())
    ensure_manifest(project)

    partitions = daily_partitions(earliest_history_start(connections_file()))
    extract_assets = build_extract_assets(partitions)
    snapshot_assets = build_snapshot_assets()
    dbt_seeds, dbt_daily_models, dbt_history_views = build_dbt_assets(partitions, project)
    warehouse_models = [*dbt_daily_models.keys, *dbt_history_views.keys]
    serving_assets = build_serving_assets([k for k in warehouse_models if k.path[0] in ("uc", "reporting")])

    # The daily job: the directory snapshots (upstream of the dbt sources) and the seeds (not partitioned)
    # before the models that read them.
    daily = dg.AssetSelection.assets(*extract_assets, *snapshot_assets, dbt_seeds, dbt_daily_models)
    publish = dg.AssetSelection.assets(dbt_history_views, *serving_assets)
    daily_job = build_daily_job(daily)
    publish_job = dg.define_asset_job(
        "publish",
        selection=publish,
        description="Rebuild the history views, publish serving.duckdb, draw the KPI picture.",
    )
    snapshot_job = dg.define_asset_job(
        SNAPSHOT_JOB,
        selection=dg.AssetSelection.assets(*snapshot_assets),
        description="Land a new snapshot of every provider directory (agents, queues, lines, contacts).",
    )
    return dg.Definitions(
        assets=[*extract_assets, *snapshot_assets, dbt_seeds, dbt_daily_models, dbt_history_views, *serving_assets],
        asset_checks=ASSET_CHECKS,
        jobs=[daily_job, publish_job, *([snapshot_job] if snapshot_assets else [])],
        schedules=[build_daily_schedule(daily_job, partitions)],
        sensors=[build_publish_automation(publish), dead_run_reaper],
        executor=build_executor(),  # Dagster's default unless UC_CELERY_CONFIG names a Celery config
        resources={
            "uc": PipelineResource(
                data_dir=dg.EnvVar(DATA_DIR_ENV),
                connections_file=dg.EnvVar(CONNECTIONS_FILE_ENV),
            ),
            "dbt": DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE),
        },
    )


defs = build_definitions()
