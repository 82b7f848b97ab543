"""Jobs, the daily schedule and the automation that publishes the serving snapshot.

`daily_refresh` runs every extract asset and the partitioned dbt models over a partition range:
yesterday plus a lookback of `UC_LOOKBACK_DAYS` (default 3) earlier days (and, before the models, a new
snapshot of every provider directory: agents, queues, lines, contacts), re-extracted to pick up
late changes (tags and comments added later, records that appear after the call). Once the
warehouse models have been updated, the publish assets (history views, serving snapshot, KPI
picture) follow by declarative automation.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from uc_pipeline.assets.partitions import day_key, parse_day_key

LOOKBACK_ENV = "UC_LOOKBACK_DAYS"
DEFAULT_LOOKBACK_DAYS = 3
DAILY_CRON = "30 2 * * *"  # 02:30 UTC: providers' late records (RingCentral: +30 s) are in by then
# `stopped` starts the schedule and sensors stopped (`uc-pipeline dev`, against the sandbox); default running.
AUTOMATION_ENV = "UC_AUTOMATION_DEFAULT_STATUS"


def automation_running() -> bool:
    """Whether the schedule and sensors start running (production) or stopped (`uc-pipeline dev`)."""
    raw = os.environ.get(AUTOMATION_ENV, "running").strip().lower()
    if raw not in ("running", "stopped"):
        raise ValueError(f"{AUTOMATION_ENV}={raw!r}: use running (the default) or stopped")
    return raw == "running"


def lookback_days() -> int:
    raw = os.environ.get(LOOKBACK_ENV, str(DEFAULT_LOOKBACK_DAYS))
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{LOOKBACK_ENV}={raw!r} is not a whole number of days; set it to e.g. 3") from None
    if not 0 <= value <= 90:
        raise ValueError(f"{LOOKBACK_ENV}={value} is out of range; use 0..90 days")
    return value


def refresh_range(run_day: date, lookback: int, first_partition: date) -> tuple[date, date]:
    """The partition days a run on `run_day` refreshes: yesterday and `lookback` days before it."""
    end = run_day - timedelta(days=1)
    start = max(end - timedelta(days=lookback), first_partition)
    return start, end


def range_tags(start: date, end: date) -> dict[str, str]:
    return {ASSET_PARTITION_RANGE_START_TAG: day_key(start), ASSET_PARTITION_RANGE_END_TAG: day_key(end)}


def build_daily_job(partitioned: dg.AssetSelection) -> dg.UnresolvedAssetJobDefinition:
    """The job's partitions are its assets' (every selected asset shares the daily partitions)."""
    return dg.define_asset_job(
        "daily_refresh",
        selection=partitioned,
        description="Extract yesterday (plus the lookback days) and snapshot the directories for every "
        "connection, then update the partitioned dbt models for those days.",
    )


def build_daily_schedule(
    job: dg.UnresolvedAssetJobDefinition, partitions_def: dg.DailyPartitionsDefinition
) -> dg.ScheduleDefinition:
    first_partition = parse_day_key(partitions_def.start.strftime("%Y-%m-%d"))

    @dg.schedule(
        job=job,
        cron_schedule=DAILY_CRON,
        execution_timezone="UTC",
        name="daily_refresh_schedule",
        description=f"Daily at 02:30 UTC: yesterday plus ${LOOKBACK_ENV} (default {DEFAULT_LOOKBACK_DAYS}) "
        "earlier days.",
        default_status=dg.DefaultScheduleStatus.RUNNING if automation_running() else dg.DefaultScheduleStatus.STOPPED,
    )
    def daily_refresh_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
        run_day = (context.scheduled_execution_time or datetime.now()).date()
        start, end = refresh_range(run_day, lookback_days(), first_partition)
        if end < first_partition:
            return dg.SkipReason(f"{day_key(end)} is before the first partition {day_key(first_partition)}")
        return dg.RunRequest(
            run_key=f"daily-{day_key(run_day)}",
            tags={**range_tags(start, end), "uc/refresh": "daily", "uc/lookback_days": str((end - start).days)},
        )

    return daily_refresh_schedule


def build_publish_automation(publish: dg.AssetSelection) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "publish_after_warehouse_update",
        target=publish,
        default_status=dg.DefaultSensorStatus.RUNNING if automation_running() else dg.DefaultSensorStatus.STOPPED,
        minimum_interval_seconds=60,
        description="Rebuilds the history views, the serving snapshot and the KPI picture after the "
        "warehouse models change.",
    )
