"""Zoom Phone extraction end to end: `extract_partition` against the sandbox on a loopback port lands exactly
the emulator's ground truth for every stream (several days and pages), still does under 5xx, resets,
truncated bodies, slow answers, 429 storms, tokens dying mid-run and expired page tokens, never sends a
request over a quota, clamps history to Zoom's six months, and stops cleanly on a spent daily quota, to
resume once it resets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from uc_pipeline.connections import Connection, Secret
from uc_pipeline.extract import day_window, extract_partition
from uc_pipeline.http import HttpSettings, Quota, QuotaSpentError
from uc_pipeline.http.limiter import get_limiter
from uc_pipeline.landing import partition_path, read_partition
from uc_pipeline.providers.zoomphone import source as zoom_source
from uc_pipeline.sandbox import Clock, FaultSpec, Sandbox, SandboxConnection

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)
DAYS = [date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)]
STREAMS = ("call_history", "recordings")
SETTINGS = HttpSettings(timeout_s=10.0, max_attempts=8, backoff_base_s=0.02, backoff_max_s=0.5)


def zoom(connection_id: str, **over: object) -> SandboxConnection:
    fields: dict = dict(provider="zoomphone", connection_id=connection_id, seed=17, calls_per_day=80,
                        credentials={"account_id": f"acct-{connection_id}", "client_id": f"cid-{connection_id}",
                                     "client_secret": f"secret-{connection_id}-x"},
                        timezone="America/New_York", history_start=date(2026, 1, 1))
    fields.update(over)
    return SandboxConnection(**fields)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(
        [
            zoom("zp-main"),
            zoom("zp-faults", faults=FaultSpec(error_5xx_rate=0.15, reset_rate=0.04, truncated_rate=0.04,
                                               slow_rate=0.03, slow_s=1.5, storm_429=3, storm_429_no_retry_after=2,
                                               token_expiry_after=30, drift_extra_fields=True, seed=4),
                 options={"expire_page_tokens": 1}),
            zoom("zp-small-pages", calls_per_day=120),
            zoom("zp-daily", calls_per_day=40, options={"daily_limit": 4}),
        ],
        profile="fast",
        clock=Clock(frozen=NOW),
    )
    with box.serve(port=0):
        yield box


@pytest.fixture(autouse=True)
def zoom_now(monkeypatch: pytest.MonkeyPatch, sandbox: Sandbox) -> None:
    # Zoom's six months count back from Zoom's own clock, which in the sandbox is the sandbox clock.
    monkeypatch.setattr(zoom_source, "utc_now", sandbox.clock.now)


def connection(box: Sandbox, connection_id: str, options: dict | None = None) -> Connection:
    conn = box.connection(connection_id)
    return Connection(
        provider="zoomphone", connection_id=connection_id, base_url=box.base_url("zoomphone"),
        credentials={k: Secret(v) for k, v in conn.credentials.items()},
        quotas={g: Quota(s.requests, s.window_s, s.penalty_s) for g, s in box.quotas(connection_id).items()},
        options=options or {},
    )


def landed(data_dir, connection_id: str, stream: str, day: date) -> list[tuple[str, dict]]:
    table = read_partition(data_dir, "zoomphone", stream, connection_id, day).to_pylist()
    return sorted(((row["_record_id"], json.loads(row["_record"])) for row in table), key=lambda pair: pair[0])


def expected(box: Sandbox, connection_id: str, stream: str, day: date) -> list[tuple[str, dict]]:
    window = day_window(day)
    records = box.records(connection_id, stream, window.start, window.end)
    key = "id" if stream == "recordings" else "call_history_uuid"
    return sorted(((r[key], json.loads(json.dumps(r))) for r in records), key=lambda pair: pair[0])


@pytest.mark.parametrize("connection_id", ["zp-main", "zp-faults"])
def test_every_stream_lands_the_ground_truth(sandbox: Sandbox, tmp_path, connection_id: str) -> None:
    conn = connection(sandbox, connection_id)
    settings = HttpSettings(**{**SETTINGS.__dict__, "state_dir": str(tmp_path / "state")})
    for day in DAYS:
        for stream in STREAMS:
            result = extract_partition(conn, stream, day, data_dir=tmp_path, settings=settings)
            truth = expected(sandbox, connection_id, stream, day)
            assert truth, f"the sandbox generated no {stream} on {day}"
            assert landed(tmp_path, connection_id, stream, day) == truth
            assert result.landed.rows == len(truth)
    assert not sandbox.request_log.violations(connection_id)
    if connection_id == "zp-faults":
        faults = sandbox.fault_counts(connection_id)
        assert faults.get("http_5xx", 0) + sum(v for k, v in faults.items() if k.startswith("http_")) > 0
        assert faults.get("token_expiry", 0) > 0


def test_small_pages_follow_every_next_page_token(sandbox: Sandbox, tmp_path) -> None:
    conn = connection(sandbox, "zp-small-pages", options={"page_size": 7})
    day = DAYS[0]
    result = extract_partition(conn, "call_history", day, data_dir=tmp_path, settings=SETTINGS)
    truth = expected(sandbox, "zp-small-pages", "call_history", day)
    assert landed(tmp_path, "zp-small-pages", "call_history", day) == truth
    # Seven per page, the last page short; the reported total is the day's count.
    assert result.stats.pages == -(-len(truth) // 7)
    assert result.stats.reported_total == len(truth)
    entries = [e for e in sandbox.request_log.entries("zp-small-pages") if e.path.endswith("/call_history")]
    assert all("page_size=7" in e.query for e in entries)
    assert sum("next_page_token=" in e.query for e in entries) == result.stats.pages - 1


def test_history_older_than_six_months_is_skipped_with_a_note(sandbox: Sandbox, tmp_path, caplog) -> None:
    conn = connection(sandbox, "zp-main")
    old = (NOW - timedelta(days=200)).date()
    before = len(sandbox.request_log.entries("zp-main"))
    result = extract_partition(conn, "call_history", old, data_dir=tmp_path, settings=SETTINGS)
    assert result.landed.rows == 0
    assert any("six months" in note for note in result.stats.notes)
    assert "six months" in caplog.text
    # Nothing was asked of Zoom for it (it would refuse the range).
    assert all(e.path.endswith("/oauth/token") for e in sandbox.request_log.entries("zp-main")[before:])


def test_a_spent_daily_quota_stops_cleanly_and_resumes_after_the_reset(sandbox: Sandbox, tmp_path) -> None:
    # The account's Heavy budget is 4 requests a day, and the connection is told so: the client stops
    # itself before Zoom would refuse, with the reset time, and resumes once the day has turned.
    conn = connection(sandbox, "zp-daily", options={"daily_quota": 4})
    settings = HttpSettings(**{**SETTINGS.__dict__, "limiter_url": f"sqlite:///{tmp_path / 'limiter.sqlite'}"})
    limiter = get_limiter(settings.limiter_url)
    for day in DAYS:  # three partitions of one page each: three Heavy requests
        extract_partition(conn, "call_history", day, data_dir=tmp_path, settings=settings)
    extract_partition(conn, "call_history", date(2026, 1, 8), data_dir=tmp_path, settings=settings)
    stale = partition_path(tmp_path, "zoomphone", "call_history", "zp-daily", date(2026, 1, 9))
    with pytest.raises(QuotaSpentError) as spent:
        extract_partition(conn, "call_history", date(2026, 1, 9), data_dir=tmp_path, settings=settings)
    message = str(spent.value)
    assert "daily quota spent until" in message and "T00:00:00Z" in message
    assert not stale.exists()
    assert spent.value.until is not None and spent.value.until > 0
    # Zoom never saw a request over its budget, nor a single 429.
    log = sandbox.request_log
    assert not log.violations("zp-daily")
    assert not [e for e in log.entries("zp-daily") if e.status == 429]
    # The day turns, for Zoom (the sandbox clock) and for the limiter's day: the backfill resumes.
    sandbox.clock.advance(timedelta(days=1))
    limiter.day_offset_s = 86400.0
    try:
        result = extract_partition(conn, "call_history", date(2026, 1, 9), data_dir=tmp_path, settings=settings)
    finally:
        limiter.day_offset_s = 0.0
        sandbox.clock.freeze(NOW)
    assert result.landed.rows == len(expected(sandbox, "zp-daily", "call_history", date(2026, 1, 9)))
    assert not log.violations("zp-daily")


def test_zoom_saying_the_day_is_spent_fails_once_without_retrying(tmp_path) -> None:
    # Another app of the account spent the shared budget (here: Zoom allows 1, the client believes 15,000):
    # one Daily-limit 429, then the partition fails with Zoom's reset time; no loop of 429s. Zoom's reset is
    # a moment on its clock: this sandbox runs on the wall clock, as Zoom does.
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=n) for n in (3, 2, 1)]
    box = Sandbox([zoom("zp-shared-day", calls_per_day=40, history_start=today - timedelta(days=5),
                        options={"daily_limit": 1})], profile="fast")
    settings = HttpSettings(**{**SETTINGS.__dict__, "limiter_url": f"sqlite:///{tmp_path / 'limiter.sqlite'}"})
    with box.serve(port=0):
        conn = connection(box, "zp-shared-day")
        extract_partition(conn, "call_history", days[0], data_dir=tmp_path, settings=settings)
        reset = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z")
        with pytest.raises(QuotaSpentError, match=f"daily quota spent until {reset}"):
            extract_partition(conn, "call_history", days[1], data_dir=tmp_path, settings=settings)
        with pytest.raises(QuotaSpentError):  # the next partition stops before sending anything
            extract_partition(conn, "call_history", days[2], data_dir=tmp_path, settings=settings)
        throttled = [e for e in box.request_log.entries("zp-shared-day") if e.status == 429]
    assert len(throttled) == 1
