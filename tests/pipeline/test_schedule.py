"""The daily schedule: yesterday plus the lookback, as one partition-range run of `daily_refresh`."""

from __future__ import annotations

from datetime import UTC, date, datetime

import dagster as dg
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from uc_pipeline.assets.extract import build_extract_assets
from uc_pipeline.assets.partitions import daily_partitions
from uc_pipeline.assets.schedules import (
    AUTOMATION_ENV,
    LOOKBACK_ENV,
    automation_running,
    build_daily_job,
    build_daily_schedule,
    build_publish_automation,
    lookback_days,
)


def evaluate(run_at: datetime, first_partition: date = date(2026, 1, 1)) -> dg.RunRequest | dg.SkipReason:
    partitions = daily_partitions(first_partition)
    assets = build_extract_assets(partitions)
    job = build_daily_job(dg.AssetSelection.assets(*assets))
    schedule = build_daily_schedule(job, partitions)
    dg.Definitions(assets=assets, jobs=[job], schedules=[schedule])  # the definitions must validate
    context = dg.build_schedule_context(scheduled_execution_time=run_at)
    result = schedule.evaluate_tick(context)
    return (result.run_requests or [None])[0] or result.skip_message


def test_default_run_covers_yesterday_and_three_lookback_days(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOOKBACK_ENV, raising=False)
    request = evaluate(datetime(2026, 3, 15, 2, 30, tzinfo=UTC))
    assert request.tags[ASSET_PARTITION_RANGE_START_TAG] == "2026-03-11"
    assert request.tags[ASSET_PARTITION_RANGE_END_TAG] == "2026-03-14"
    assert request.tags["uc/lookback_days"] == "3"
    assert request.run_key == "daily-2026-03-15"


def test_lookback_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOOKBACK_ENV, "0")
    request = evaluate(datetime(2026, 3, 15, 2, 30, tzinfo=UTC))
    assert (request.tags[ASSET_PARTITION_RANGE_START_TAG], request.tags[ASSET_PARTITION_RANGE_END_TAG]) == (
        "2026-03-14",
        "2026-03-14",
    )


def test_lookback_is_clamped_to_the_first_partition(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOOKBACK_ENV, "7")
    request = evaluate(datetime(2026, 1, 3, 2, 30, tzinfo=UTC))
    assert request.tags[ASSET_PARTITION_RANGE_START_TAG] == "2026-01-01"
    assert request.tags[ASSET_PARTITION_RANGE_END_TAG] == "2026-01-02"


def test_bad_lookback_value_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOOKBACK_ENV, "three")
    with pytest.raises(ValueError, match="UC_LOOKBACK_DAYS='three' is not a whole number"):
        lookback_days()


@pytest.mark.parametrize(("value", "expected"), [(None, "RUNNING"), ("stopped", "STOPPED"), ("running", "RUNNING")])
def test_schedule_and_sensor_default_status_is_explicit(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: str
) -> None:
    if value is None:
        monkeypatch.delenv(AUTOMATION_ENV, raising=False)
    else:
        monkeypatch.setenv(AUTOMATION_ENV, value)
    partitions = daily_partitions(date(2026, 1, 1))
    assets = build_extract_assets(partitions)
    selection = dg.AssetSelection.assets(*assets)
    schedule = build_daily_schedule(build_daily_job(selection), partitions)
    sensor = build_publish_automation(selection)
    assert schedule.default_status.value == expected
    assert sensor.default_status.value == expected


def test_a_misspelt_default_status_says_what_to_write(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AUTOMATION_ENV, "off")
    with pytest.raises(ValueError, match="use running .* or stopped"):
        automation_running()
