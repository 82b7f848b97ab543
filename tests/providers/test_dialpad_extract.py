"""Dialpad extraction end to end: `extract_partition` against the sandbox on a loopback port lands exactly the
emulator's ground truth (ids once each, records verbatim) whatever the int64 encoding, under the fault matrix
and within the quota, and fails clearly (leaving the previous partition file untouched) on malformed pages and
wrong credentials; calls still in progress land once they have ended."""

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
from uc_pipeline.sandbox import Clock, FaultSpec, QuotaSpec, Sandbox, SandboxConnection

NOW = datetime(2026, 2, 1, tzinfo=UTC)
DAYS = [date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)]
SETTINGS = HttpSettings(timeout_s=5.0, max_attempts=8, backoff_base_s=0.02, backoff_max_s=0.5)
# Every fault the shared FaultInjector draws, at once.
FAULT_MATRIX = FaultSpec(error_5xx_rate=0.2, reset_rate=0.1, truncated_rate=0.05, slow_rate=0.15, slow_s=1.0,
                         storm_429=2, storm_429_no_retry_after=2, seed=3)


def sandbox_connection(connection_id: str, **over) -> SandboxConnection:
    base = dict(provider="dialpad", connection_id=connection_id, seed=7, calls_per_day=150,
                credentials={"api_key": f"key-{connection_id}-secret"}, timezone="America/Chicago",
                quotas={"default": QuotaSpec(20, 0.5), "call_detail": QuotaSpec(10, 1.0)})
    base.update(over)
    return SandboxConnection(**base)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(
        [sandbox_connection("dp-main"), sandbox_connection("dp-faults", calls_per_day=1500, faults=FAULT_MATRIX),
         sandbox_connection("dp-mixed", options={"int64": "mixed"}), sandbox_connection("dp-broken")],
        profile="fast", clock=Clock(frozen=NOW),
    )
    with box.serve(port=0):
        yield box


def pipeline_connection(box: Sandbox, connection_id: str, **credential_over: str) -> Connection:
    conn = box.connection(connection_id)
    credentials = {**conn.credentials, **credential_over}
    return Connection(
        provider="dialpad", connection_id=connection_id, base_url=box.base_url("dialpad"),
        credentials={k: Secret(v) for k, v in credentials.items()},
        quotas={g: Quota(s.requests, s.window_s) for g, s in box.quotas(connection_id).items()},
    )


def landed(data_dir, connection_id: str, day: date) -> list[tuple[str, dict]]:
    table = read_partition(data_dir, "dialpad", "calls", connection_id, day).to_pylist()
    return sorted((row["_record_id"], json.loads(row["_record"])) for row in table)


def expected(box: Sandbox, connection_id: str, day: date) -> list[tuple[str, dict]]:
    window = day_window(day)
    records = box.records(connection_id, "calls", window.start, window.end)
    # Keyed by the call id in decimal, whichever way the API encoded it; compared after the JSON round trip.
    return sorted((str(int(r["call_id"])), json.loads(json.dumps(r))) for r in records)


def test_three_days_land_exactly_the_ground_truth(sandbox, tmp_path):
    conn = pipeline_connection(sandbox, "dp-main")
    for day in DAYS:
        result = extract_partition(conn, "calls", day, data_dir=tmp_path, settings=SETTINGS)
        rows = landed(tmp_path, "dp-main", day)
        truth = expected(sandbox, "dp-main", day)
        assert len(truth) > 50
        assert rows == truth
        assert result.landed.rows == len(truth) and result.landed.duplicates_removed == 0
        assert result.stats.pages == -(-len(truth) // 100)
    assert sandbox.request_log.violations("dp-main") == []
    assert sandbox.request_log.duplicate_pages("dp-main") == {}
    queries = [e.query for e in sandbox.request_log.entries("dp-main")]
    assert all("started_after=" in q and "started_before=" in q and "limit=100" in q for q in queries)


def test_ids_and_times_as_strings_or_numbers_land_the_same_calls(sandbox, tmp_path):
    conn = pipeline_connection(sandbox, "dp-mixed")
    for day in DAYS:
        extract_partition(conn, "calls", day, data_dir=tmp_path, settings=SETTINGS)
        rows = landed(tmp_path, "dp-mixed", day)
        assert rows == expected(sandbox, "dp-mixed", day)
        kinds = {type(record["call_id"]) for _, record in rows}
        assert kinds == {str, int}  # verbatim: each call as it was served


def test_the_fault_matrix_still_lands_exactly_the_ground_truth(sandbox, tmp_path):
    conn = pipeline_connection(sandbox, "dp-faults")
    settings = replace(SETTINGS, timeout_s=0.5)  # below the 1 s slow answers
    for day in DAYS:
        extract_partition(conn, "calls", day, data_dir=tmp_path, settings=settings)
        rows = landed(tmp_path, "dp-faults", day)
        assert rows == expected(sandbox, "dp-faults", day)
        assert len({rid for rid, _ in rows}) == len(rows)
    counts = sandbox.fault_counts("dp-faults")
    assert counts.get("storm_429", 0) == 2 and counts.get("storm_429_no_retry_after", 0) == 2
    assert counts.get("reset", 0) > 0 and counts.get("slow", 0) > 0
    assert sum(n for kind, n in counts.items() if kind.startswith("http_5")) > 0
    assert sandbox.request_log.violations("dp-faults") == []
    # A slow answer is logged as a clean 200 although the client had already given up on it and asked
    # again; every other page was fetched successfully once.
    repeats = sum(n - 1 for n in sandbox.request_log.duplicate_pages("dp-faults").values())
    assert repeats <= counts["slow"]


def _land_once(box: Sandbox, data_dir, connection_id: str, day: date) -> tuple[bytes, int]:
    extract_partition(pipeline_connection(box, connection_id), "calls", day, data_dir=data_dir, settings=SETTINGS)
    path = partition_path(data_dir, "dialpad", "calls", connection_id, day)
    return path.read_bytes(), path.stat().st_mtime_ns


def test_a_malformed_page_raises_and_keeps_the_landed_file(sandbox, tmp_path):
    before = _land_once(sandbox, tmp_path, "dp-broken", DAYS[0])
    sandbox.set_faults("dp-broken", FaultSpec(malformed_rate=1.0))
    try:
        with pytest.raises(MalformedResponseError, match=r"dp-broken.*(malformed|JSON)"):
            extract_partition(pipeline_connection(sandbox, "dp-broken"), "calls", DAYS[0], data_dir=tmp_path,
                              settings=SETTINGS)
    finally:
        sandbox.set_faults("dp-broken", FaultSpec())
    path = partition_path(tmp_path, "dialpad", "calls", "dp-broken", DAYS[0])
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["part.parquet"]


def test_wrong_credentials_raise_a_clear_error_and_keep_the_landed_file(sandbox, tmp_path):
    before = _land_once(sandbox, tmp_path, "dp-broken", DAYS[1])
    with pytest.raises(AuthError) as info:
        extract_partition(pipeline_connection(sandbox, "dp-broken", api_key="not-the-key"), "calls", DAYS[1],
                          data_dir=tmp_path, settings=SETTINGS)
    message = str(info.value)
    assert "401" in message and "credentials" in message and "not-the-key" not in message
    sandbox.set_faults("dp-broken", FaultSpec(wrong_credentials=True))
    try:
        with pytest.raises(AuthError) as info:
            extract_partition(pipeline_connection(sandbox, "dp-broken"), "calls", DAYS[1], data_dir=tmp_path,
                              settings=SETTINGS)
    finally:
        sandbox.set_faults("dp-broken", FaultSpec())
    assert "key-dp-broken-secret" not in str(info.value)
    path = partition_path(tmp_path, "dialpad", "calls", "dp-broken", DAYS[1])
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_calls_still_in_progress_are_not_landed_until_they_end(sandbox, tmp_path):
    # At 10:00 on a day only the concluded calls are listed; a later run picks up the rest.
    day = DAYS[2]
    conn = pipeline_connection(sandbox, "dp-main")
    sandbox.clock.freeze(datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=10))
    try:
        early = extract_partition(conn, "calls", day, data_dir=tmp_path, settings=SETTINGS)
        assert landed(tmp_path, "dp-main", day) == expected(sandbox, "dp-main", day)
    finally:
        sandbox.clock.freeze(NOW)
    late = extract_partition(conn, "calls", day, data_dir=tmp_path, settings=SETTINGS)
    assert 0 < early.landed.rows < late.landed.rows
    assert landed(tmp_path, "dp-main", day) == expected(sandbox, "dp-main", day)
