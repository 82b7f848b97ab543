"""Zoom Phone's vendor samples through the production path: a fixture server serves the call history
sample behind Zoom's real paths (Server-to-Server token, `GET /v2/phone/call_history`, the call detail,
recordings), the code location's `daily_refresh` job runs the sample's day, and what landed and what the
unified model holds are checked against the payload itself; the Daily-limit 429 sample makes the run
fail with the reset time it names. The fixtures are checked to be the shared samples byte for byte."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dagster as dg
import duckdb
import pytest
import yaml

from uc_pipeline.landing import read_partition
from uc_pipeline.providers.zoomphone import source as zoom_source

from . import payloads
from .harness import failures

PROVIDER = "zoomphone"
CONN = "samples-zoomphone"
FIXTURES = payloads.FIXTURES / PROVIDER
PAGE = json.loads((FIXTURES / "call_history_page_assembled.json").read_text(encoding="utf-8"))
SAMPLE = PAGE["call_history"][0]
DAY = date(2021, 10, 8)
CREDENTIALS = {"account_id": "fixture-account", "client_id": "fixture-client", "client_secret": "fixture-secret"}


def daily_limit_sample() -> tuple[dict[str, str], bytes]:
    """(headers, body) of rate_limit_daily_headers.http."""
    head, _, body = (FIXTURES / "rate_limit_daily_headers.http").read_text(encoding="utf-8").partition("\n\n")
    headers = dict(line.split(": ", 1) for line in head.splitlines()[1:])
    return headers, body.strip().encode()


class Fixture:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.daily_spent = False
        self.requests: list[str] = []


@contextmanager
def serve(fixture: Fixture) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
            return

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
            fixture.requests.append(f"POST {self.path}")
            # Zoom's documented token answer (providers.md section 7 [ZM1]); api_url names this server.
            origin = f"http://{self.headers['Host']}/{PROVIDER}"
            self._send(200, json.dumps({"access_token": "fixture-token", "token_type": "bearer", "expires_in": 3599,
                                        "scope": "phone:read:list_call_logs:admin", "api_url": origin}).encode())

        def do_GET(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            fixture.requests.append(f"GET {path}")
            if self.headers.get("Authorization") != "Bearer fixture-token":
                self._send(401, b'{"code": 124, "message": "Invalid access token."}')
                return
            query = {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}
            if path == f"/{PROVIDER}/v2/phone/call_history":
                if fixture.daily_spent:
                    headers, body = daily_limit_sample()
                    self._send(429, body, headers)
                    return
                low, high = query["from"], query["to"]
                items = [i for i in fixture.items if low <= i["start_time"] <= high]
                self._send(200, json.dumps({"call_history": items, "from": low, "to": high,
                                            "page_size": int(query["page_size"]), "total_records": len(items),
                                            "next_page_token": ""}).encode())
            elif path == f"/{PROVIDER}/v2/phone/recordings":
                self._send(200, json.dumps({"recordings": [], "page_size": 300, "total_records": 0,
                                            "next_page_token": ""}).encode())
            else:
                # No detail sample exists: the call detail answers Zoom's 404 (the call is known only by its item).
                self._send(404, b'{"code": 3001, "message": "Call history does not exist."}')

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[dg.ExecuteInProcessResult]]]:
    tmp = tmp_path_factory.mktemp("zoomphone-samples")
    fixture = Fixture()
    fixture.items = [SAMPLE]
    saved = dict(os.environ)
    patch = pytest.MonkeyPatch()
    # The sample's page was answered on 2021-10-12 (its `to`): Zoom's six months count back from then.
    patch.setattr(zoom_source, "utc_now", lambda: datetime(2021, 10, 12, tzinfo=UTC))
    with serve(fixture) as base:
        env = {f"UC_SAMPLES_ZOOM_{k.upper()}": v for k, v in CREDENTIALS.items()}
        entry = {"provider": PROVIDER, "connection_id": CONN, "base_url": f"{base}/{PROVIDER}",
                 "credentials": {k: f"UC_SAMPLES_ZOOM_{k.upper()}" for k in CREDENTIALS},
                 "history_start": "2021-01-01",
                 "quota": {g: {"requests": 1000, "per_seconds": 1} for g in ("heavy", "light", "medium", "auth")}}
        (tmp / "connections.yaml").write_text(yaml.safe_dump({"connections": [entry]}), encoding="utf-8")
        os.environ.update({**env, "UC_DATA_DIR": str(tmp / "data"),
                           "UC_CONNECTIONS_FILE": str(tmp / "connections.yaml")})
        try:
            from uc_pipeline.definitions import build_definitions

            defs, instance = build_definitions(), dg.DagsterInstance.ephemeral()
            job = defs.resolve_job_def("daily_refresh")
            results = [job.execute_in_process(partition_key=DAY.isoformat(), instance=instance, raise_on_error=False)]
            fixture.daily_spent = True
            results.append(job.execute_in_process(partition_key=date(2021, 10, 9).isoformat(), instance=instance,
                                                  raise_on_error=False))
            yield tmp / "data", results
        finally:
            patch.undo()
            os.environ.clear()
            os.environ.update(saved)


def query(data_dir: Path, sql: str) -> list[dict[str, Any]]:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        cur = con.execute(sql)
        return [dict(zip([d[0] for d in cur.description], row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()


def test_the_vendored_copies_are_the_shared_samples() -> None:
    if not payloads.SHARED_SAMPLES.is_dir():
        pytest.skip(f"{payloads.SHARED_SAMPLES} is absent; the vendored copies in tests/fixtures are used as they are")
    for name in ("call_history_page_assembled.json", "call_history_page_assembled.json.source.txt",
                 "rate_limit_daily_headers.http", "rate_limit_daily_headers.http.source.txt"):
        assert (FIXTURES / name).read_bytes() == (payloads.SHARED_SAMPLES / PROVIDER / name).read_bytes(), name


def test_the_sample_day_runs_and_lands_the_item_verbatim(runs) -> None:
    data_dir, results = runs
    assert results[0].success, failures(results[0])
    table = read_partition(data_dir, PROVIDER, "call_history", CONN, DAY).to_pylist()
    assert [row["_record_id"] for row in table] == ["20211008-48c1dfd4-91ce-4df5-8495-7c9e33d10869"]
    assert json.loads(table[0]["_record"]) == SAMPLE
    assert list(json.loads(table[0]["_record"])) == list(SAMPLE)  # field order kept


def test_the_sample_maps_into_uc_call(runs) -> None:
    data_dir, _ = runs
    rows = query(data_dir, "select * from uc.uc_call where provider = 'zoomphone'")
    assert len(rows) == 1
    row = rows[0]
    # From the payload: connect_type internal (INTERNAL whatever the direction), answered, start 16:12:04,
    # answer 16:12:10, end 16:12:15, duration 20, recording_status recorded; no detail, so no hold, queue or
    # transfers; the callee is a user named "Callee name" without an ext_id.
    ts = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    assert {k: row[k] for k in ("id", "source_id", "type", "outcome", "start_at", "answered_at", "end_at",
                                "duration_s", "wait_s", "talk_s", "hold_s", "transfer_count", "has_recording",
                                "user_id", "user_name", "queue_id", "missed_reason", "telephone")} == {
        "id": "zoomphone:samples-zoomphone:20211008-48c1dfd4-91ce-4df5-8495-7c9e33d10869",
        "source_id": "20211008-48c1dfd4-91ce-4df5-8495-7c9e33d10869", "type": "INTERNAL", "outcome": "ANSWERED",
        "start_at": ts("2021-10-08T16:12:04Z"), "answered_at": ts("2021-10-08T16:12:10Z"),
        "end_at": ts("2021-10-08T16:12:15Z"), "duration_s": 20, "wait_s": 6, "talk_s": 5, "hold_s": None,
        "transfer_count": None, "has_recording": True, "user_id": None, "user_name": "Callee name",
        "queue_id": None, "missed_reason": None, "telephone": None,
    }
    assert row["_unknown_enums"] is None


def test_the_daily_limit_sample_fails_the_run_with_its_reset_time(runs) -> None:
    _, results = runs
    assert not results[1].success
    # rate_limit_daily_headers.http: Retry-After 2020-05-31T00:00:00Z.
    assert "daily quota spent until 2020-05-31T00:00:00Z" in failures(results[1])
