"""Zendesk Talk extraction end to end: `extract_partition` against the sandbox on a loopback port lands
exactly the emulator's ground truth, under faults too, within the quota and without fetching a page
twice; bad pages and bad credentials fail clearly and leave the landed file as it was."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from uc_pipeline.connections import Connection, load_connections
from uc_pipeline.extract import day_window, extract_partition
from uc_pipeline.http import AuthError, HttpSettings, MalformedResponseError
from uc_pipeline.landing import partition_path, read_partition
from uc_pipeline.sandbox.clock import Clock
from uc_pipeline.sandbox.model import FaultSpec
from uc_pipeline.sandbox.server import Sandbox

NOW = datetime(2026, 1, 9, 12, 0, tzinfo=UTC)
DAYS = (date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7))
SETTINGS = HttpSettings(timeout_s=5.0, max_attempts=8, backoff_base_s=0.02, backoff_max_s=0.2)


@pytest.fixture
def sandbox() -> Sandbox:
    conn = Sandbox.default_connections(["zendesk"], calls_per_day=60, history_start=date(2026, 1, 1))[0]
    conn.options = {"page_size": 25}
    return Sandbox([conn], profile="fast", clock=Clock(frozen=NOW))


@pytest.fixture
def pipeline(sandbox: Sandbox, tmp_path: Path) -> Iterator[Connection]:
    """The pipeline's connection to the served sandbox, loaded from the file the sandbox writes."""
    with sandbox.serve():
        text, env = sandbox.connections_yaml()
        path = tmp_path / "connections.yaml"
        path.write_text(text, encoding="utf-8")
        (conn,) = load_connections(path, env)
        # The sandbox serves pages of 25; the pipeline's connection says so (Zendesk's own is the default 1000).
        yield replace(conn, options={**conn.options, "page_size": 25})


def landed(data_dir: Path, conn: Connection, stream: str, day: date) -> dict[str, dict]:
    table = read_partition(data_dir, "zendesk", stream, conn.connection_id, day)
    ids = table.column("_record_id").to_pylist()
    assert len(ids) == len(set(ids)), "duplicate record ids landed"
    return dict(zip(ids, (json.loads(r) for r in table.column("_record").to_pylist()), strict=True))


def truth(sandbox: Sandbox, conn: Connection, stream: str, day: date) -> dict[str, dict]:
    window = day_window(day)
    records = sandbox.records(conn.connection_id, stream, window.start, window.end)
    return {str(r["id"]): json.loads(json.dumps(r)) for r in records}


def assert_clean_log(sandbox: Sandbox, conn: Connection) -> None:
    assert sandbox.request_log.violations(conn.connection_id) == []
    assert sandbox.request_log.duplicate_pages(conn.connection_id) == {}


def test_three_days_land_exactly_the_ground_truth(sandbox: Sandbox, pipeline: Connection, tmp_path: Path) -> None:
    for day in DAYS:
        for stream in ("calls", "legs"):
            result = extract_partition(pipeline, stream, day, data_dir=tmp_path, settings=SETTINGS)
            expected = truth(sandbox, pipeline, stream, day)
            assert expected, f"no {stream} on {day}: the test would prove nothing"
            assert landed(tmp_path, pipeline, stream, day) == expected
            assert result.stats.pages >= 2 and result.stats.records >= len(expected)
    assert_clean_log(sandbox, pipeline)


def test_late_updates_land_in_the_later_day(sandbox: Sandbox, pipeline: Connection, tmp_path: Path) -> None:
    first, second = DAYS[0], DAYS[1]
    window = day_window(first)
    late = [c for c in sandbox.calls(pipeline.connection_id, window.start, window.end)
            if window.end <= c.updated_at < window.end + timedelta(days=1)]
    assert late, "no call of the first day was updated on the next: the test would prove nothing"
    for day in (first, second):
        extract_partition(pipeline, "calls", day, data_dir=tmp_path, settings=SETTINGS)
    on_first, on_second = landed(tmp_path, pipeline, "calls", first), landed(tmp_path, pipeline, "calls", second)
    for call in late:
        native = str(360_000_000_000 + call.call_id)
        assert native not in on_first and native in on_second


def test_faults_still_land_the_ground_truth(sandbox: Sandbox, pipeline: Connection, tmp_path: Path) -> None:
    sandbox.set_faults(pipeline.connection_id, FaultSpec(
        error_5xx_rate=0.2, reset_rate=0.1, truncated_rate=0.1, storm_429=3, drift_extra_fields=True,
        drift_missing_optional=True, seed=3,
    ))
    for day in DAYS[:2]:
        result = extract_partition(pipeline, "calls", day, data_dir=tmp_path, settings=SETTINGS)
        assert landed(tmp_path, pipeline, "calls", day) == truth(sandbox, pipeline, "calls", day)
    counts = sandbox.fault_counts(pipeline.connection_id)
    assert counts.get("storm_429") == 3 and result.http["retries"] >= 1
    assert sum(counts.get(k, 0) for k in ("http_500", "http_502", "http_503", "reset", "truncated")) >= 1
    assert_clean_log(sandbox, pipeline)


def test_slow_answers_past_the_timeout_are_retried(sandbox: Sandbox, pipeline: Connection, tmp_path: Path) -> None:
    sandbox.set_faults(pipeline.connection_id, FaultSpec(slow_rate=0.3, slow_s=0.6, seed=5))
    settings = HttpSettings(timeout_s=0.3, max_attempts=10, backoff_base_s=0.02, backoff_max_s=0.1)
    day = DAYS[0]
    extract_partition(pipeline, "legs", day, data_dir=tmp_path, settings=settings)
    assert sandbox.fault_counts(pipeline.connection_id).get("slow", 0) >= 1
    assert landed(tmp_path, pipeline, "legs", day) == truth(sandbox, pipeline, "legs", day)
    assert sandbox.request_log.violations(pipeline.connection_id) == []


@pytest.mark.parametrize(("faults", "error", "message"), [
    (FaultSpec(malformed_rate=1.0), MalformedResponseError, "malformed"),
    (FaultSpec(wrong_credentials=True), AuthError, "api_token"),
])
def test_failures_are_clear_and_keep_the_landed_file(
    sandbox: Sandbox, pipeline: Connection, tmp_path: Path, faults: FaultSpec, error: type, message: str
) -> None:
    day = DAYS[0]
    extract_partition(pipeline, "calls", day, data_dir=tmp_path, settings=SETTINGS)
    path = partition_path(tmp_path, "zendesk", "calls", pipeline.connection_id, day)
    before = path.read_bytes()
    sandbox.set_faults(pipeline.connection_id, faults)
    with pytest.raises(error, match=message) as info:
        extract_partition(pipeline, "calls", day, data_dir=tmp_path, settings=SETTINGS)
    assert pipeline.credentials["api_token"] not in str(info.value)
    assert path.read_bytes() == before
