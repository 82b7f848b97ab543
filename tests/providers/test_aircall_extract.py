"""Aircall extraction end to end: `extract_partition` against the sandbox on a loopback port lands exactly
the emulator's ground truth, under faults and past the 10,000-records-per-query cap, and fails clearly
(leaving the previous partition file untouched) on malformed pages and wrong credentials."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from uc_pipeline.connections import Connection, Secret
from uc_pipeline.extract import day_window, extract_partition
from uc_pipeline.http import AuthError, HttpSettings, MalformedResponseError, Quota
from uc_pipeline.landing import partition_path, read_partition
from uc_pipeline.sandbox.clock import Clock
from uc_pipeline.sandbox.model import FaultSpec, SandboxConnection

try:
    from uc_pipeline.sandbox import Sandbox
except ImportError:  # the package may not re-export it
    from uc_pipeline.sandbox.server import Sandbox

NOW = datetime(2026, 2, 1, tzinfo=UTC)
DAYS = [date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)]
BIG_DAY = date(2026, 1, 8)  # a Thursday: a full weekday volume
SETTINGS = HttpSettings(timeout_s=5.0, max_attempts=8, backoff_base_s=0.02, backoff_max_s=0.5)


def sandbox_connection(connection_id: str, **over) -> SandboxConnection:
    base = dict(provider="aircall", connection_id=connection_id, seed=7, calls_per_day=150,
                credentials={"api_id": f"id-{connection_id}", "api_token": f"token-{connection_id}-secret"},
                timezone="Europe/Paris")
    base.update(over)
    return SandboxConnection(**base)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(
        [
            sandbox_connection("ac-main"),
            sandbox_connection("ac-faults", faults=FaultSpec(error_5xx_rate=0.2, reset_rate=0.1, truncated_rate=0.05,
                                                             slow_rate=0.15, slow_s=1.0, storm_429=3, seed=3)),
            sandbox_connection("ac-broken"),
            sandbox_connection("ac-big", calls_per_day=25_000),
        ],
        profile="fast",
        clock=Clock(frozen=NOW),
    )
    with box.serve(port=0):
        yield box


def pipeline_connection(box: Sandbox, connection_id: str, **credential_over: str) -> Connection:
    conn = box.connection(connection_id)
    spec = box.quotas(connection_id)["default"]
    credentials = {**conn.credentials, **credential_over}
    return Connection(
        provider="aircall", connection_id=connection_id, base_url=box.base_url("aircall"),
        credentials={k: Secret(v) for k, v in credentials.items()},
        quotas={"default": Quota(spec.requests, spec.window_s)},
    )


def landed(data_dir, connection_id: str, day: date) -> list[tuple[str, dict]]:
    table = read_partition(data_dir, "aircall", "calls", connection_id, day).to_pylist()
    return [(row["_record_id"], json.loads(row["_record"])) for row in table]


def expected(box: Sandbox, connection_id: str, day: date) -> list[tuple[str, dict]]:
    window = day_window(day)
    records = box.records(connection_id, "calls", window.start, window.end)
    # The landing zone stores JSON text: compare after the same round trip.
    return sorted((str(r["id"]), json.loads(json.dumps(r))) for r in records)


def assert_clean_log(box: Sandbox, connection_id: str) -> None:
    assert box.request_log.violations(connection_id) == []
    assert box.request_log.duplicate_pages(connection_id) == {}


def test_three_days_land_exactly_the_ground_truth(sandbox, tmp_path):
    conn = pipeline_connection(sandbox, "ac-main")
    for day in DAYS:
        result = extract_partition(conn, "calls", day, data_dir=tmp_path, settings=SETTINGS)
        rows = landed(tmp_path, "ac-main", day)
        truth = expected(sandbox, "ac-main", day)
        assert len(truth) > 50
        assert sorted(rows) == truth
        assert len({rid for rid, _ in rows}) == len(rows)
        assert result.stats.reported_total == len(truth) == result.landed.rows
        assert result.stats.pages == -(-len(truth) // 50)
        assert result.stats.windows_split == 0
        assert result.landed.duplicates_removed == 0
    assert_clean_log(sandbox, "ac-main")


def test_faults_still_land_exactly_the_ground_truth(sandbox, tmp_path):
    conn = pipeline_connection(sandbox, "ac-faults")
    settings = replace(SETTINGS, timeout_s=0.5)  # below the 1 s slow answers
    for day in DAYS:
        extract_partition(conn, "calls", day, data_dir=tmp_path, settings=settings)
        assert sorted(landed(tmp_path, "ac-faults", day)) == expected(sandbox, "ac-faults", day)
    counts = sandbox.fault_counts("ac-faults")
    assert counts.get("storm_429", 0) == 3
    assert counts.get("reset", 0) > 0 and counts.get("slow", 0) > 0
    assert sum(n for kind, n in counts.items() if kind.startswith("http_5")) > 0
    assert sandbox.request_log.violations("ac-faults") == []
    # A slow answer is logged as a clean 200 although the client had already given up on it and asked
    # again; every other page was fetched successfully once.
    repeats = sum(n - 1 for n in sandbox.request_log.duplicate_pages("ac-faults").values())
    assert repeats <= counts["slow"]


@pytest.mark.slow
def test_a_day_past_the_query_cap_is_split_and_lands_whole(sandbox, tmp_path):
    conn = pipeline_connection(sandbox, "ac-big")
    result = extract_partition(conn, "calls", BIG_DAY, data_dir=tmp_path, settings=SETTINGS)
    truth = expected(sandbox, "ac-big", BIG_DAY)
    assert len(truth) > 20_000
    rows = landed(tmp_path, "ac-big", BIG_DAY)
    assert [rid for rid, _ in rows] == [rid for rid, _ in truth]
    assert rows == truth
    assert result.stats.windows_split >= 2
    assert result.stats.reported_total == len(truth)
    assert_clean_log(sandbox, "ac-big")
    # No page of any query started past record 10,000 (those answer 400).
    assert not [e for e in sandbox.request_log.entries("ac-big") if e.status == 400]


def _land_once(box: Sandbox, data_dir, connection_id: str, day: date) -> tuple[bytes, int]:
    extract_partition(pipeline_connection(box, connection_id), "calls", day, data_dir=data_dir, settings=SETTINGS)
    path = partition_path(data_dir, "aircall", "calls", connection_id, day)
    return path.read_bytes(), path.stat().st_mtime_ns


def test_malformed_page_raises_and_keeps_the_landed_file(sandbox, tmp_path):
    before = _land_once(sandbox, tmp_path, "ac-broken", DAYS[0])
    sandbox.set_faults("ac-broken", FaultSpec(malformed_rate=1.0))
    try:
        with pytest.raises(MalformedResponseError, match=r"ac-broken.*(malformed|JSON)"):
            extract_partition(pipeline_connection(sandbox, "ac-broken"), "calls", DAYS[0], data_dir=tmp_path,
                              settings=SETTINGS)
    finally:
        sandbox.set_faults("ac-broken", FaultSpec())
    path = partition_path(tmp_path, "aircall", "calls", "ac-broken", DAYS[0])
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["part.parquet"]


def test_wrong_credentials_raise_a_clear_error_and_keep_the_landed_file(sandbox, tmp_path):
    before = _land_once(sandbox, tmp_path, "ac-broken", DAYS[1])
    bad = pipeline_connection(sandbox, "ac-broken", api_token="not-the-token")
    with pytest.raises(AuthError) as info:
        extract_partition(bad, "calls", DAYS[1], data_dir=tmp_path, settings=SETTINGS)
    message = str(info.value)
    assert "401" in message and "credentials" in message and "not-the-token" not in message
    sandbox.set_faults("ac-broken", FaultSpec(wrong_credentials=True))
    try:
        with pytest.raises(AuthError):
            extract_partition(pipeline_connection(sandbox, "ac-broken"), "calls", DAYS[1], data_dir=tmp_path,
                              settings=SETTINGS)
    finally:
        sandbox.set_faults("ac-broken", FaultSpec())
    path = partition_path(tmp_path, "aircall", "calls", "ac-broken", DAYS[1])
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_calls_still_in_progress_are_not_landed_until_they_end(sandbox, tmp_path):
    # At 10:00 on a day, only the calls that have ended are served; a later run picks up the rest.
    day = DAYS[2]
    conn = pipeline_connection(sandbox, "ac-main")
    sandbox.clock.freeze(datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=10))
    try:
        early = extract_partition(conn, "calls", day, data_dir=tmp_path, settings=SETTINGS)
        assert sorted(landed(tmp_path, "ac-main", day)) == expected(sandbox, "ac-main", day)
    finally:
        sandbox.clock.freeze(NOW)
    late = extract_partition(conn, "calls", day, data_dir=tmp_path, settings=SETTINGS)
    assert 0 < early.landed.rows < late.landed.rows
    assert sorted(landed(tmp_path, "ac-main", day)) == expected(sandbox, "ac-main", day)
