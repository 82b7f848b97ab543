"""Hostile providers against the production path: a Dagster materialization of one extract asset
partition, with a connections file pointing at a loopback server that answers badly. Each case ends
in its documented failure within a bounded number of requests; for each failing run, everything
written (the Dagster instance's storage with its event log and compute logs, the data directory,
captured stdout/stderr and log records) holds no form of any secret: raw, base64 of the Basic pair
(standard or URL-safe, padded or not), percent- or JSON-escaped, or a token issued at run time.

The figures of each case (requests, seconds, peak memory of the run) are printed (`pytest -s`).
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

import dagster as dg
import pytest
import yaml

from uc_pipeline.assets.extract import build_extract_asset
from uc_pipeline.assets.partitions import daily_partitions
from uc_pipeline.assets.resources import PipelineResource

from .http_servers import (
    MB,
    Behaviour,
    Seen,
    echo_401,
    echo_503,
    fake_jwt,
    hostile_server,
    huge_page,
    maintenance_page,
    nested_json,
    ringcentral_tokens,
)

DAY = (datetime.now(UTC) - timedelta(days=1)).date()
PARTITIONS = daily_partitions(DAY - timedelta(days=3))
STREAMS = {"aircall": "calls", "ringcentral": "call_log"}
FIGURES: dict[str, dict[str, float]] = {}


def _credentials(provider: str) -> dict[str, str]:
    if provider == "aircall":
        # "<15 characters>:" is not 3-aligned, so the base64 of the pair holds no base64 of the token alone.
        return {"api_id": f"id{secrets.token_hex(6)}x", "api_token": secrets.token_urlsafe(24)}
    return {"client_id": secrets.token_urlsafe(16), "client_secret": secrets.token_urlsafe(24), "jwt": fake_jwt()}


def _forms(value: str) -> set[str]:
    """`value` as a careless server or a serializer may write it."""
    found = {value, quote(value, safe=""), quote_plus(value)}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(value.encode()).decode()
        found |= {encoded, encoded.rstrip("=")}
        # Base64 of any text holding `value` (e.g. `id:token`) holds one of these, by alignment.
        found |= {encode(b"\0" * shift + value.encode()).decode()[4 if shift else 0:-4] for shift in (0, 1, 2)}
    found |= {f.replace("/", "\\/") for f in found}
    return {f for f in found if len(f) >= 8}


def _secret_forms(provider: str, creds: dict[str, str], seen: Seen) -> set[str]:
    pair = (creds["api_id"], creds["api_token"]) if provider == "aircall" else (creds["client_id"],
                                                                                 creds["client_secret"])
    found = _forms(f"{pair[0]}:{pair[1]}")
    for value in [*creds.values(), *seen.tokens_issued]:
        found |= _forms(value)
    return found


@dataclass
class Run:
    result: dg.ExecuteInProcessResult
    message: str
    seen: Seen
    seconds: float
    peak_mb: float


def _rss_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/self/status")


@contextmanager
def _peak_memory() -> Iterator[dict[str, float]]:
    """The run's peak resident memory above the resident memory before it, in MB."""
    out: dict[str, float] = {}
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM, the peak, to the current RSS
    before = _rss_kb("VmRSS")
    yield out
    out["peak_mb"] = (_rss_kb("VmHWM") - before) / 1024


def _materialize(tmp: Path, provider: str, base_url: str, creds: dict[str, str], seen: Seen,
                 **resource: object) -> Run:
    env = {f"HOSTILE_{provider.upper()}_{k.upper()}": v for k, v in creds.items()}
    entry = {"provider": provider, "connection_id": f"hostile-{provider}", "base_url": base_url,
             "credentials": {k: f"HOSTILE_{provider.upper()}_{k.upper()}" for k in creds},
             "history_start": PARTITIONS.start.date().isoformat()}
    connections = tmp / "connections.yaml"
    connections.write_text(yaml.safe_dump({"connections": [entry]}), encoding="utf-8")
    os.environ.update(env)
    asset = build_extract_asset(provider, STREAMS[provider], PARTITIONS)
    uc = PipelineResource(data_dir=str(tmp / "data"), connections_file=str(connections), **resource)
    (tmp / "dagster").mkdir()
    started = time.monotonic()
    try:
        with _peak_memory() as memory, dg.DagsterInstance.local_temp(tempdir=str(tmp / "dagster")) as instance:
            result = dg.materialize([asset], partition_key=DAY.isoformat(), resources={"uc": uc}, instance=instance,
                                    raise_on_error=False)
    finally:
        for name in env:
            os.environ.pop(name, None)
    seconds = time.monotonic() - started
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    return Run(result, message, seen, seconds, memory["peak_mb"])


def _assert_no_secret_written(tmp: Path, forms: set[str], captured: str) -> list[str]:
    """Every file under `tmp` (instance storage, event log, compute logs, landing, state) and the
    captured output hold no form of a secret; returns the files searched."""
    needles = sorted(forms, key=len, reverse=True)
    files = []
    for path in tmp.rglob("*"):
        if not path.is_file() or path.name == "connections.yaml":
            continue
        if path.parent.name == "ringcentral" and path.parent.parent.name == "state":
            # The token cache is where tokens are meant to be (mode 0600, see providers/ringcentral/auth.py).
            assert path.stat().st_mode & 0o077 == 0, path
            continue
        data = path.read_bytes()
        files.append(path.relative_to(tmp).as_posix())
        for needle in needles:
            assert needle.encode() not in data, f"a form of a secret is written in {path.relative_to(tmp)}"
    for needle in needles:
        assert needle not in captured, "a form of a secret reached stdout/stderr or a log record"
    return files


def _case(name: str, tmp: Path, provider: str, behave: Behaviour, capfd: pytest.CaptureFixture[str],
          caplog: pytest.LogCaptureFixture, **resource: object) -> Run:
    caplog.set_level(logging.DEBUG)
    creds = _credentials(provider)
    with hostile_server(behave) as (base_url, seen):
        run = _materialize(tmp, provider, f"{base_url}/{provider}", creds, seen, **resource)
    out, err = capfd.readouterr()
    captured = "\n".join([out, err, run.message, *(r.getMessage() for r in caplog.records)])
    files = _assert_no_secret_written(tmp, _secret_forms(provider, creds, seen), captured)
    # The run's event log and compute logs were written, and searched.
    assert any(f.startswith("dagster/history/runs/") for f in files), files
    assert any("/compute_logs/" in f and f.endswith(".err") for f in files), files
    FIGURES[name] = {"requests": seen.count(), "seconds": round(run.seconds, 2), "peak_mb": round(run.peak_mb, 1)}
    print(f"\nhostile {name}: {seen.count()} requests, {run.seconds:.2f}s, peak memory +{run.peak_mb:.0f} MB, "
          f"{seen.bytes_sent / MB:.1f} MB sent; {len(files)} files searched")
    return run


def test_a_100_mb_page_hits_the_cap_with_bounded_memory(tmp_path, capfd, caplog) -> None:
    run = _case("100 MB page", tmp_path, "aircall", huge_page(100 * MB), capfd, caplog)
    assert "cap of 33,554,432 bytes" in run.message and "/aircall/v1/calls" in run.message
    assert "hostile-aircall" in run.message and "http_max_response_mb" in run.message
    assert run.seen.count() == 1  # not retried: the same page would come back
    assert run.seen.bytes_sent < 100 * MB  # the client stopped reading
    assert run.peak_mb < 200  # 32 MB read, held once (2.2 GB before the cap)


def test_an_html_maintenance_page_is_retried_then_named(tmp_path, capfd, caplog) -> None:
    run = _case("200 HTML page", tmp_path, "aircall", maintenance_page, capfd, caplog, http_max_attempts=3)
    assert run.seen.count() == 3
    assert "gave up after 3 attempts" in run.message and "HTML page (text/html)" in run.message
    assert "Down for scheduled maintenance" in run.message and "<h1>" not in run.message


def test_deeply_nested_json_is_a_malformed_response(tmp_path, capfd, caplog) -> None:
    run = _case("nested JSON", tmp_path, "aircall", nested_json, capfd, caplog)
    assert run.seen.count() == 1
    assert "malformed JSON page" in run.message and "nested too deeply" in run.message
    assert "RecursionError" not in run.message


def test_a_401_echoing_the_basic_credentials_leaks_nothing(tmp_path, capfd, caplog) -> None:
    run = _case("401 echoing Basic credentials", tmp_path, "aircall", echo_401, capfd, caplog)
    assert run.seen.count() == 1  # a 401 is not retried
    assert "answered HTTP 401" in run.message and "credentials" in run.message and "***" in run.message


def test_a_401_echoing_the_bearer_and_refresh_tokens_leaks_nothing(tmp_path, capfd, caplog) -> None:
    run = _case("401 echoing bearer tokens", tmp_path, "ringcentral", ringcentral_tokens(echo_401), capfd, caplog)
    # One JWT grant and one call-log request, one renewal (refresh grant) and one retry after the 401.
    assert run.seen.count("/oauth/token") == 2 and run.seen.count("/call-log") == 2
    assert len(run.seen.tokens_issued) == 4
    assert "answered HTTP 401" in run.message and "***" in run.message


def test_a_5xx_echoing_the_request_headers_leaks_nothing(tmp_path, capfd, caplog) -> None:
    run = _case("503 echoing headers", tmp_path, "aircall", echo_503, capfd, caplog, http_max_attempts=3)
    assert run.seen.count() == 3
    assert "gave up after 3 attempts (last: HTTP 503)" in run.message


def test_a_refused_local_port_points_at_base_url_and_the_sandbox(tmp_path, capfd, caplog) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    creds = _credentials("aircall")
    run = _materialize(tmp_path, "aircall", f"http://127.0.0.1:{port}/aircall", creds, Seen())
    assert f"connection refused by 127.0.0.1:{port} (3 attempts)" in run.message
    assert "base_url of connection 'hostile-aircall'" in run.message and "uc-pipeline sandbox" in run.message
    assert "status page" not in run.message
    FIGURES["refused local port"] = {"requests": 3, "seconds": round(run.seconds, 2), "peak_mb": round(run.peak_mb, 1)}
    print(f"\nhostile refused local port: 3 attempts, {run.seconds:.2f}s")


def test_a_limiter_store_that_never_answers_fails_the_partition_clearly(tmp_path, monkeypatch) -> None:
    from uc_pipeline.http import limiter_store as http_limiter_store

    monkeypatch.setattr(http_limiter_store, "PG_CONNECT_TIMEOUT_S", 2)
    silent = socket.create_server(("127.0.0.1", 0))  # accepts (in the backlog) and never answers
    try:
        url = f"postgresql+psycopg2://postgres@127.0.0.1:{silent.getsockname()[1]}/postgres"
        with hostile_server(maintenance_page) as (base_url, seen):
            run = _materialize(tmp_path, "aircall", f"{base_url}/aircall", _credentials("aircall"), seen,
                               limiter_url=url)
        assert seen.count() == 0  # nothing is sent without a slot
        assert "cannot open the shared rate limiter" in run.message and "timeout expired" in run.message
        assert "UC_LIMITER_URL" in run.message and "hostile-aircall" in run.message
        FIGURES["silent limiter store"] = {"requests": 0, "seconds": round(run.seconds, 2)}
        print(f"\nhostile silent limiter store: 0 requests, {run.seconds:.2f}s")
    finally:
        silent.close()
