"""The 8x8 VCC extraction client against the sandbox: whole days land exactly the ground truth, in
XML and CSV, under injected faults, within the quota and without fetching a page twice; broken
pages and revoked credentials fail clearly and leave the earlier landed file untouched."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from uc_pipeline.connections import Connection, Secret
from uc_pipeline.extract import extract_partition
from uc_pipeline.http import AuthError, HttpSettings, MalformedResponseError, Quota
from uc_pipeline.landing import partition_path, read_partition
from uc_pipeline.sandbox import Clock, FaultSpec, Sandbox, SandboxConnection

NOW = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)
DAYS = [date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)]
# Under the sandbox's fast quota (10 per 1 s) with a margin for arrival jitter.
CLIENT_QUOTA = Quota(requests=8, per_seconds=1.0)
SETTINGS = HttpSettings(timeout_s=5.0, max_attempts=8, backoff_base_s=0.02, backoff_max_s=0.2)
CONNECTION_IDS = ("e-xml", "e-csv", "e-faults", "e-drift", "e-broken", "e-revoked")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[Sandbox, str]]:
    conns = [
        SandboxConnection(
            provider="eightbyeight", connection_id=cid,
            credentials={"tenant": cid.replace("-", ""), "token": f"t-{cid}", "api_key": f"k-{cid}",
                         "api_secret": f"s-{cid}"}, seed=3, calls_per_day=140,
            history_start=date(2026, 1, 1), timezone="America/Los_Angeles",
        )
        for cid in CONNECTION_IDS
    ]
    sbx = Sandbox(conns, profile="fast", clock=Clock(frozen=NOW))
    with sbx.serve(port=0) as base:
        yield sbx, base


def connection(sandbox: tuple[Sandbox, str], cid: str, token: str | None = None, **options: Any) -> Connection:
    sbx, base = sandbox
    creds = sbx.connection(cid).credentials
    return Connection(
        provider="eightbyeight", connection_id=cid, base_url=f"{base}/eightbyeight",
        credentials={"tenant": Secret(creds["tenant"]), "token": Secret(token or creds["token"])},
        quotas={"default": CLIENT_QUOTA}, options=options,
    )


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def assert_landed_exactly(sandbox: tuple[Sandbox, str], cid: str, day: date, data_dir: Path) -> int:
    sbx, _ = sandbox
    expected = sbx.records(cid, "recordings", *day_bounds(day))
    table = read_partition(data_dir, "eightbyeight", "recordings", cid, day).to_pylist()
    ids = [row["_record_id"] for row in table]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(sbx.record_ids(cid, "recordings", *day_bounds(day)))
    landed = {row["_record_id"]: json.loads(row["_record"]) for row in table}
    assert landed == {r["filename"]: json.loads(json.dumps(r)) for r in expected}
    return len(ids)


def assert_clean_log(sandbox: tuple[Sandbox, str], cid: str) -> None:
    log = sandbox[0].request_log
    assert log.violations(cid) == []
    assert log.duplicate_pages(cid) == {}


def test_three_days_land_exactly_the_ground_truth_xml(sandbox, tmp_path: Path) -> None:
    conn = connection(sandbox, "e-xml")
    for day in DAYS:
        result = extract_partition(conn, "recordings", day, data_dir=tmp_path, settings=SETTINGS)
        n = assert_landed_exactly(sandbox, "e-xml", day, tmp_path)
        assert n > 50  # more than one page each day
        assert result.landed.rows == n and result.stats.records == n and result.landed.duplicates_removed == 0
        assert result.stats.pages == n // 50 + 1
        assert result.stats.reported_total is None
    assert_clean_log(sandbox, "e-xml")
    queries = [e.query for e in sandbox[0].request_log.entries("e-xml")]
    assert "d=20260105T0000Z%2C20260106T0000Z&n=1&tz=UTC" in queries
    assert all(e.path == "/eightbyeight/api/recordings/files.xml" for e in sandbox[0].request_log.entries("e-xml"))


def test_csv_format_lands_the_same_records(sandbox, tmp_path: Path) -> None:
    conn = connection(sandbox, "e-csv", format="csv")
    for day in DAYS[:2]:
        extract_partition(conn, "recordings", day, data_dir=tmp_path, settings=SETTINGS)
        assert_landed_exactly(sandbox, "e-csv", day, tmp_path)
    assert_clean_log(sandbox, "e-csv")
    assert {e.path for e in sandbox[0].request_log.entries("e-csv")} == {"/eightbyeight/api/recordings/files.csv"}


def test_unknown_format_option_is_refused_with_the_fix() -> None:
    conn = Connection(provider="eightbyeight", connection_id="x", base_url="http://127.0.0.1:9",
                      credentials={"tenant": Secret("t"), "token": Secret("k")}, options={"format": "json"})
    with pytest.raises(ValueError, match="format: csv"):
        extract_partition(conn, "recordings", DAYS[0], data_dir="/nonexistent", settings=SETTINGS)


def test_faults_5xx_resets_slow_answers_and_429_storms_still_land_exactly(sandbox, tmp_path: Path) -> None:
    sbx, _ = sandbox
    sbx.set_faults("e-faults", FaultSpec(error_5xx_rate=0.2, reset_rate=0.1, truncated_rate=0.05, slow_rate=0.1,
                                         slow_s=1.0, storm_429=1, storm_429_no_retry_after=2, seed=11))
    settings = HttpSettings(timeout_s=0.5, max_attempts=10, backoff_base_s=0.02, backoff_max_s=0.2)
    conn = connection(sandbox, "e-faults")
    for day in DAYS:
        result = extract_partition(conn, "recordings", day, data_dir=tmp_path, settings=settings)
        assert_landed_exactly(sandbox, "e-faults", day, tmp_path)
        assert result.http["requests"] >= result.stats.pages
    counts = sbx.fault_counts("e-faults")
    assert counts.get("storm_429") == 1 and counts.get("storm_429_no_retry_after") == 2
    assert sum(counts.get(k, 0) for k in ("http_500", "http_502", "http_503")) >= 1
    log = sbx.request_log
    assert log.violations("e-faults") == []
    # A slow answer the client gave up on is still logged as a delivered 200 (the sandbox cannot know
    # the client left), so its page shows up twice: allow exactly those, nothing else.
    again = sum(n - 1 for n in log.duplicate_pages("e-faults").values())
    assert again <= counts.get("slow", 0)


def test_schema_drift_lands_the_drifted_records_verbatim(sandbox, tmp_path: Path) -> None:
    sbx, _ = sandbox
    sbx.set_faults("e-drift", FaultSpec(drift_extra_fields=True, drift_missing_optional=True, seed=5))
    extract_partition(connection(sandbox, "e-drift"), "recordings", DAYS[0], data_dir=tmp_path, settings=SETTINGS)
    assert_landed_exactly(sandbox, "e-drift", DAYS[0], tmp_path)
    records = sbx.records("e-drift", "recordings", *day_bounds(DAYS[0]))
    assert any("sentiment_score" in r or "ai_summary" in r or "region_code" in r for r in records)


def _land_then_break(sandbox: tuple[Sandbox, str], cid: str, tmp_path: Path, spec: FaultSpec,
                     conn: Connection | None = None) -> tuple[Exception, bytes, Path]:
    sbx, _ = sandbox
    sbx.set_faults(cid, FaultSpec())
    extract_partition(connection(sandbox, cid), "recordings", DAYS[0], data_dir=tmp_path, settings=SETTINGS)
    path = partition_path(tmp_path, "eightbyeight", "recordings", cid, DAYS[0])
    before = path.read_bytes()
    sbx.set_faults(cid, spec)
    with pytest.raises(Exception) as caught:
        extract_partition(conn or connection(sandbox, cid), "recordings", DAYS[0], data_dir=tmp_path,
                          settings=SETTINGS)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["part.parquet"]  # no scratch files left
    return caught.value, before, path


def test_malformed_page_fails_clearly_and_keeps_the_earlier_file(sandbox, tmp_path: Path) -> None:
    error, _, _ = _land_then_break(sandbox, "e-broken", tmp_path, FaultSpec(malformed_rate=1.0))
    assert isinstance(error, MalformedResponseError)
    message = str(error)
    assert "e-broken" in message and "not the documented XML" in message and "Nothing of this partition" in message
    assert "t-e-broken" not in message  # no secret in the message


def test_wrong_credentials_fail_clearly_and_keep_the_earlier_file(sandbox, tmp_path: Path) -> None:
    error, _, _ = _land_then_break(sandbox, "e-revoked", tmp_path, FaultSpec(wrong_credentials=True))
    assert isinstance(error, AuthError) and error.status == 403
    assert "tenant name" in str(error) and "Data Request Token" in str(error)
    assert "t-e-revoked" not in str(error)
    wrong = connection(sandbox, "e-revoked", token="t-not-the-token")
    error, _, _ = _land_then_break(sandbox, "e-revoked", tmp_path, FaultSpec(), conn=wrong)
    assert isinstance(error, AuthError) and "t-not-the-token" not in str(error)
