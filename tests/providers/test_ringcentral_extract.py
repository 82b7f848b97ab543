"""RingCentral extraction end to end: `extract_partition` against the sandbox on a loopback port lands
exactly the emulator's ground truth (several days, several pages, schema drift), still does under
5xx, resets, slow answers, a 429 storm and tokens dying mid-run, shares its token through the
state directory, and fails clearly (leaving the previous partition file untouched) on malformed
pages and wrong credentials."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from uc_pipeline.connections import Connection, Secret
from uc_pipeline.extract import day_window, extract_partition
from uc_pipeline.http import AuthError, HttpSettings, MalformedResponseError, Quota
from uc_pipeline.landing import partition_path, read_partition
from uc_pipeline.sandbox import Clock, FaultSpec, Sandbox, SandboxConnection

NOW = datetime(2026, 2, 1, tzinfo=UTC)
DAYS = [date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)]
SETTINGS = HttpSettings(timeout_s=10.0, max_attempts=8, backoff_base_s=0.02, backoff_max_s=0.5)
TOKEN_PATH = "/ringcentral/restapi/oauth/token"


def rc(connection_id: str, **over) -> SandboxConnection:
    fields = dict(provider="ringcentral", connection_id=connection_id, seed=11, calls_per_day=120,
                  credentials={"client_id": f"cid-{connection_id}", "client_secret": f"secret-{connection_id}-x",
                               "jwt": f"eyJhbGciOiJSUzI1NiJ9.{connection_id}.signature"},
                  timezone="America/New_York")
    fields.update(over)
    return SandboxConnection(**fields)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(
        [
            rc("rc-main"),
            rc("rc-faults", faults=FaultSpec(error_5xx_rate=0.2, reset_rate=0.05, slow_rate=0.05, slow_s=2.0,
                                             storm_429=3, token_expiry_after=2, seed=3)),
            rc("rc-big", calls_per_day=2600, faults=FaultSpec(drift_extra_fields=True, drift_missing_optional=True,
                                                              token_expiry_after=1, seed=5)),
            rc("rc-malformed"),
            rc("rc-denied"),
            rc("rc-cache"),
        ],
        profile="fast",
        clock=Clock(frozen=NOW),
    )
    with box.serve(port=0):
        yield box


def pipeline_connection(box: Sandbox, connection_id: str, options: dict | None = None,
                        **credential_over: str) -> Connection:
    conn = box.connection(connection_id)
    credentials = {**conn.credentials, **credential_over}
    return Connection(
        provider="ringcentral", connection_id=connection_id, base_url=box.base_url("ringcentral"),
        credentials={k: Secret(v) for k, v in credentials.items()},
        quotas={g: Quota(s.requests, s.window_s, s.penalty_s) for g, s in box.quotas(connection_id).items()},
        options=options or {},
    )


def landed(data_dir, connection_id: str, day: date) -> list[tuple[str, dict]]:
    table = read_partition(data_dir, "ringcentral", "call_log", connection_id, day).to_pylist()
    # The landing zone keeps records in the order they were fetched; compare as sets of (id, record).
    return sorted(((row["_record_id"], json.loads(row["_record"])) for row in table), key=lambda pair: pair[0])


def expected(box: Sandbox, connection_id: str, day: date) -> list[tuple[str, dict]]:
    window = day_window(day)
    records = box.records(connection_id, "call_log", window.start, window.end)
    # The landing zone stores JSON text: compare after the same round trip.
    return sorted((r["id"], json.loads(json.dumps(r))) for r in records)


def token_requests(box: Sandbox, connection_id: str) -> int:
    return sum(1 for e in box.request_log.entries(connection_id) if e.path == TOKEN_PATH)


def test_three_days_land_exactly_the_ground_truth(sandbox: Sandbox, tmp_path) -> None:
    conn = pipeline_connection(sandbox, "rc-main")
    for day in DAYS:
        result = extract_partition(conn, "call_log", day, data_dir=tmp_path, settings=SETTINGS)
        rows = landed(tmp_path, "rc-main", day)
        truth = expected(sandbox, "rc-main", day)
        assert len(truth) > 50
        assert sorted(rows) == truth
        assert len({rid for rid, _ in rows}) == len(rows)
        assert result.stats.reported_total == len(truth) == result.landed.rows
        assert result.stats.pages == 1 and result.landed.duplicates_removed == 0
        assert result.http["throttled"] == 0
    assert token_requests(sandbox, "rc-main") == 1  # one token for the three partitions
    assert sandbox.request_log.violations("rc-main") == []
    assert sandbox.request_log.duplicate_pages("rc-main") == {}


def test_many_pages_with_drift_and_a_token_dying_on_every_other_request(sandbox: Sandbox, tmp_path) -> None:
    day = DAYS[0]
    result = extract_partition(pipeline_connection(sandbox, "rc-big"), "call_log", day, data_dir=tmp_path,
                               settings=SETTINGS)
    truth = expected(sandbox, "rc-big", day)
    assert len(truth) > 2000
    assert landed(tmp_path, "rc-big", day) == truth
    assert result.stats.pages == -(-len(truth) // 1000) and result.stats.reported_total == len(truth)
    assert any("sentiment_score" in r or "ai_summary" in r or "labels_v2" in r for _, r in truth)  # drift is on
    counts = sandbox.fault_counts("rc-big")
    assert counts.get("token_expiry", 0) >= 1
    assert token_requests(sandbox, "rc-big") == 1 + counts["token_expiry"]  # one renewal per dead token
    assert sandbox.request_log.violations("rc-big") == []
    assert sandbox.request_log.duplicate_pages("rc-big") == {}


def test_faults_still_land_exactly_the_ground_truth(sandbox: Sandbox, tmp_path) -> None:
    conn = pipeline_connection(sandbox, "rc-faults", options={"per_page": 15})  # many pages: many draws
    settings = replace(SETTINGS, timeout_s=0.8)  # below the 2 s slow answers
    for day in DAYS:
        result = extract_partition(conn, "call_log", day, data_dir=tmp_path, settings=settings)
        truth = expected(sandbox, "rc-faults", day)
        assert sorted(landed(tmp_path, "rc-faults", day)) == truth
        assert result.stats.pages == -(-len(truth) // 15)
    counts = sandbox.fault_counts("rc-faults")
    assert counts.get("storm_429", 0) == 3 and counts.get("reset", 0) >= 1 and counts.get("slow", 0) >= 1
    assert counts.get("token_expiry", 0) >= 1
    assert sum(n for kind, n in counts.items() if kind.startswith("http_5")) > 0
    assert sandbox.request_log.violations("rc-faults") == []
    # A page answered after the client gave up waiting (a slow fault) is fetched again; nothing else is.
    extra = sum(n - 1 for n in sandbox.request_log.duplicate_pages("rc-faults").values())
    assert extra <= counts.get("slow", 0)


def _land_once(box: Sandbox, data_dir, connection_id: str, day: date) -> tuple[bytes, int]:
    extract_partition(pipeline_connection(box, connection_id), "call_log", day, data_dir=data_dir,
                      settings=SETTINGS)
    path = partition_path(data_dir, "ringcentral", "call_log", connection_id, day)
    return path.read_bytes(), path.stat().st_mtime_ns


def test_malformed_page_raises_and_keeps_the_landed_file(sandbox: Sandbox, tmp_path) -> None:
    day = DAYS[1]
    before = _land_once(sandbox, tmp_path, "rc-malformed", day)
    sandbox.set_faults("rc-malformed", FaultSpec(malformed_rate=1.0))
    try:
        with pytest.raises(MalformedResponseError, match="rc-malformed"):
            extract_partition(pipeline_connection(sandbox, "rc-malformed"), "call_log", day, data_dir=tmp_path,
                              settings=SETTINGS)
    finally:
        sandbox.set_faults("rc-malformed", FaultSpec())
    path = partition_path(tmp_path, "ringcentral", "call_log", "rc-malformed", day)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert [p.name for p in path.parent.iterdir()] == ["part.parquet"]  # no scratch files left behind


def test_wrong_credentials_raise_a_clear_error_and_keep_the_landed_file(sandbox: Sandbox, tmp_path) -> None:
    day = DAYS[2]
    before = _land_once(sandbox, tmp_path, "rc-denied", day)
    path = partition_path(tmp_path, "ringcentral", "call_log", "rc-denied", day)
    wrong_jwt = pipeline_connection(sandbox, "rc-denied", jwt="eyJhbGciOiJSUzI1NiJ9.stolen.sig")
    with pytest.raises(AuthError, match="jwt") as info:
        extract_partition(wrong_jwt, "call_log", day, data_dir=tmp_path, settings=SETTINGS)
    assert "stolen" not in str(info.value) and "secret-rc-denied" not in str(info.value)
    wrong_secret = pipeline_connection(sandbox, "rc-denied", client_secret="not-the-secret")
    with pytest.raises(AuthError, match="client_secret") as info:
        extract_partition(wrong_secret, "call_log", day, data_dir=tmp_path, settings=SETTINGS)
    assert "not-the-secret" not in str(info.value)
    # The account refuses everything (revoked app): the cached token dies and no new one is issued.
    sandbox.set_faults("rc-denied", FaultSpec(wrong_credentials=True))
    try:
        with pytest.raises(AuthError, match="rc-denied"):
            extract_partition(pipeline_connection(sandbox, "rc-denied"), "call_log", day, data_dir=tmp_path,
                              settings=SETTINGS)
    finally:
        sandbox.set_faults("rc-denied", FaultSpec())
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_tokens_are_shared_through_the_state_directory(sandbox: Sandbox, tmp_path) -> None:
    state = tmp_path / "state"
    settings = replace(SETTINGS, state_dir=str(state))
    conn = pipeline_connection(sandbox, "rc-cache")
    for day in DAYS[:2]:
        extract_partition(conn, "call_log", day, data_dir=tmp_path, settings=settings)
        assert sorted(landed(tmp_path, "rc-cache", day)) == expected(sandbox, "rc-cache", day)
    assert token_requests(sandbox, "rc-cache") == 1
    (cache,) = (state / "ringcentral").glob("rc-cache-*.json")
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert "secret-rc-cache" not in cache.read_text() and "signature" not in cache.read_text()
