"""Dialpad's published Call example through the production path: a loopback server serves it behind Dialpad's
real path (`GET /api/v2/call`, Bearer API key, exclusive millisecond bounds, newest first, `cursor`), the code
location's `daily_refresh` job runs its day as one partition, and the landed records and unified rows are
checked against what the payloads say (expectations written from the payloads and `/work/shared/providers.md`
section 6, not from the code's output).

Served that day, besides the example verbatim (ids and times as strings; an answered call still connected:
no `date_ended`, no `duration`), two calls built from it the way `payloads.one_call_days` builds its own (only
the fields named changed): the call concluded, recorded and sent the way the schema types it (int64 values as
JSON numbers), and a call to a call center that nobody answered, where the caller left a voicemail.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dagster as dg
import pytest
import yaml

from . import payloads
from .harness import Pipeline, failures

DAY = date(2013, 1, 1)  # the example's date_started, 1356998400000 ms
CONNECTION = "samples-dialpad"
API_KEY = "fixture-dialpad-key"
EXAMPLE = "call_get_200_spec_example.json"


def uid(source_id: object) -> str:
    return f"dialpad:{CONNECTION}:{source_id}"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def ms(text: str) -> int:
    return int(at(text).timestamp() * 1000)


def example() -> dict[str, Any]:
    return payloads.fixture_json("dialpad", EXAMPLE)


def concluded_as_numbers() -> dict[str, Any]:
    call = example()
    start = ms("2013-01-01T10:00:00")
    call.update(call_id=1003, entry_point_call_id=1001, date_started=start, date_rang=start,
                date_connected=start + 4000, date_ended=start + 64000, event_timestamp=start + 64000,
                duration=60000.0, total_duration=64000.0, state="hangup", was_recorded=True,
                recording_details=[{"duration": 59000, "id": "5734120448", "recording_type": "callrecording",
                                    "start_time": start + 5000, "url": "https://dialpad.com/r/5734120448"}])
    return call


def voicemail_to_a_call_center() -> dict[str, Any]:
    call = example()
    start = ms("2013-01-01T11:00:00")
    center = {"email": "", "id": "300", "name": "Support", "phone": "+14155551300", "type": "callcenter"}
    del call["date_connected"]
    call.update(call_id="1004", entry_point_call_id="1004", date_started=str(start), date_rang=str(start),
                date_ended=str(start + 40000), event_timestamp=str(start + 40000), state="voicemail",
                target=center, entry_point_target=center, group_id="CallCenter:300",
                recording_details=[{"duration": "15000", "id": "5734120449", "recording_type": "voicemail",
                                    "start_time": str(start + 25000), "url": "https://dialpad.com/r/5734120449"}])
    return call


class DialpadFixture:
    """Serves `objects` at `/dialpad/api/v2/call` as Dialpad pages them; swap them with `load`."""

    def __init__(self) -> None:
        self.objects: list[dict[str, Any]] = []
        self.requests: list[str] = []

    def load(self, objects: dict[payloads.Stream, list[Any]]) -> None:
        self.objects = list(objects.get(("dialpad", "calls"), []))

    @contextmanager
    def serve(self) -> Iterator[str]:
        fixture = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
                return

            def _json(self, status: int, doc: Any) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                url = urlsplit(self.path)
                fixture.requests.append(self.path)
                if url.path != "/dialpad/api/v2/call":
                    return self._json(404, {"error": {"code": 404, "message": f"no GET {url.path}"}})
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    return self._json(401, {"error": {"code": 401, "message": "invalid api key"}})
                q = {k: v[-1] for k, v in parse_qs(url.query).items()}
                after, before = int(q["started_after"]), int(q["started_before"])
                calls = [c for c in fixture.objects if after < int(c["date_started"]) < before]
                calls.sort(key=lambda c: (int(c["date_started"]), int(c["call_id"])), reverse=True)
                offset, limit = int(q.get("cursor", "0")), int(q.get("limit", "25"))
                body: dict[str, Any] = {"items": calls[offset:offset + limit]}
                if offset + limit < len(calls):
                    body["cursor"] = str(offset + limit)
                self._json(200, body)

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
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pipeline, dict[str, Any], str]]:
    tmp = tmp_path_factory.mktemp("dialpad-samples")
    served = [example(), concluded_as_numbers(), voicemail_to_a_call_center()]
    server = DialpadFixture()
    saved = dict(os.environ)
    with server.serve() as base:
        entry = {"provider": "dialpad", "connection_id": CONNECTION, "base_url": f"{base}/dialpad",
                 "credentials": {"api_key": "UC_SAMPLES_DIALPAD_API_KEY"}, "history_start": "2012-12-01",
                 "quota": {"default": {"requests": 1000, "per_seconds": 1}}}
        (tmp / "connections.yaml").write_text(yaml.safe_dump({"connections": [entry]}), encoding="utf-8")
        os.environ.update({"UC_SAMPLES_DIALPAD_API_KEY": API_KEY, "UC_DATA_DIR": str(tmp / "data"),
                           "UC_CONNECTIONS_FILE": str(tmp / "connections.yaml")})
        try:
            from uc_pipeline.definitions import build_definitions

            pipeline = Pipeline(server, build_definitions(), dg.DagsterInstance.ephemeral(), tmp / "data")
            result = pipeline.run_day(DAY, {("dialpad", "calls"): served})
            yield pipeline, {str(int(c["call_id"])): c for c in served}, "" if result.success else (
                failures(result) or "the run failed")
        finally:
            os.environ.clear()
            os.environ.update(saved)


def test_the_day_runs_green(run) -> None:
    _, _, failed = run
    assert not failed, f"daily_refresh {DAY} failed:\n{failed}"


def test_every_served_call_lands_verbatim_once(run) -> None:
    pipeline, served, _ = run
    landed = {rid: json.loads(text) for rid, text in pipeline.landed("dialpad", "calls", DAY).items()}
    assert landed == served  # keyed by the call id in decimal, whichever way the API encoded it
    for rid, record in landed.items():
        assert list(record) == list(served[rid])  # field order kept too
    assert isinstance(landed["1003"]["call_id"], int) and landed["1002"]["call_id"] == "1002"


def calls(pipeline: Pipeline) -> dict[str, dict[str, Any]]:
    return {r["source_id"]: r for r in pipeline.query("select * from uc.uc_call where provider = 'dialpad'")}


def assert_fields(row: dict[str, Any], expected: dict[str, Any], what: str) -> None:
    assert {k: row[k] for k in expected} == expected, what


def test_the_example_maps_as_it_reads(run) -> None:
    # Inbound, connected at 1356998400000 ms (2013-01-01 00:00 UTC), the moment it rang and started; still
    # connected (no date_ended): its end, talk and length are not known yet. The target is the user 2 who
    # answered; the caller is contact 1001 at +14155557777; it came in on an office's main line, not a queue.
    assert_fields(calls(run[0])["1002"], {
        "id": uid(1002), "connection_id": CONNECTION, "type": "INBOUND", "outcome": "ANSWERED",
        "start_at": at("2013-01-01T00:00:00"), "answered_at": at("2013-01-01T00:00:00"), "end_at": None,
        "wait_s": 0, "talk_s": None, "duration_s": None, "hold_s": None, "wrap_up_s": None,
        "user_id": uid(2), "user_name": "テÉst Bot", "user_phone": "+14155551001", "contact_id": uid(1001),
        "telephone": "+14155557777", "queue_id": None, "queue_name": None, "has_recording": False,
        "transfer_count": 0, "missed_reason": None, "record_source": "call_log",
    }, "1002")


def test_a_concluded_recorded_call_sent_as_numbers(run) -> None:
    # Connected 4 s after it rang, hung up 60 s later (duration 60000 ms), 64 s in all (total_duration).
    assert_fields(calls(run[0])["1003"], {
        "type": "INBOUND", "outcome": "ANSWERED", "start_at": at("2013-01-01T10:00:00"),
        "answered_at": at("2013-01-01T10:00:04"), "end_at": at("2013-01-01T10:01:04"), "wait_s": 4, "talk_s": 60,
        "duration_s": 64, "user_id": uid(2), "has_recording": True,
    }, "1003")
    (rec,) = run[0].query("select * from uc.uc_recording where call_id = ?", [uid(1003)])
    assert_fields(rec, {"id": uid(5734120448), "kind": "recording", "start_at": at("2013-01-01T10:00:05"),
                        "end_at": at("2013-01-01T10:01:04"), "duration_s": 59, "user_id": uid(2),
                        "web_url": None}, "recording of 1003")


def test_a_voicemail_left_at_a_call_center(run) -> None:
    # Nobody connected; the caller waited 40 s at call center 300 ("Support") and left a 15 s voicemail.
    assert_fields(calls(run[0])["1004"], {
        "type": "INBOUND", "outcome": "VOICEMAIL", "answered_at": None, "end_at": at("2013-01-01T11:00:40"),
        "wait_s": 40, "talk_s": 0, "duration_s": 40, "queue_id": uid(300), "queue_name": "Support",
        "user_id": None, "has_recording": False, "missed_reason": None, "missed_reason_group": None,
    }, "1004")
    (rec,) = run[0].query("select * from uc.uc_recording where call_id = ?", [uid(1004)])
    assert (rec["kind"], rec["duration_s"], rec["start_at"]) == ("voicemail", 15, at("2013-01-01T11:00:25"))


def test_the_agent_and_the_caller_become_a_user_and_a_contact(run) -> None:
    pipeline = run[0]
    assert_fields(pipeline.row("uc_user", uid(2)), {"name": "テÉst Bot", "email": "bot@fuzz-ball.com",
                                                    "phone": "+14155551001", "extension": None}, "user 2")
    assert_fields(pipeline.row("uc_contact", uid(1001)), {"name": "(415) 555-7777", "email": None,
                                                          "telephone": "+14155557777"}, "contact 1001")
    # A call center is a queue, not a user.
    assert not pipeline.query("select id from uc.uc_user where id = ?", [uid(300)])
    kpi = pipeline.query("select * from reporting.kpi_daily where provider = 'dialpad' and day = ?", [DAY])
    assert len(kpi) == 1 and kpi[0]["offered_calls"] == 3


def test_the_vendored_copy_is_the_shared_sample() -> None:
    """The fixture is a byte-for-byte copy of the shared vendor sample (checked where that is present)."""
    if not payloads.SHARED_SAMPLES.is_dir():
        pytest.skip(f"{payloads.SHARED_SAMPLES} is absent; the vendored copy in tests/fixtures is used as it is")
    for name in (EXAMPLE, f"{EXAMPLE}.source.txt"):
        shared = (payloads.SHARED_SAMPLES / "dialpad" / name).read_bytes()
        assert (payloads.FIXTURES / "dialpad" / name).read_bytes() == shared, name


def test_served_examples_stay_examples() -> None:
    """Each built call changes only the fields its docstring names; everything else is the example's."""
    base = example()
    for built, changed in ((concluded_as_numbers(), {"call_id", "entry_point_call_id", "date_started", "date_rang",
                                                     "date_connected", "date_ended", "event_timestamp", "duration",
                                                     "total_duration", "state", "was_recorded", "recording_details"}),
                           (voicemail_to_a_call_center(), {"call_id", "entry_point_call_id", "date_started",
                                                           "date_rang", "date_connected", "date_ended",
                                                           "event_timestamp", "state", "target",
                                                           "entry_point_target", "group_id", "recording_details"})):
        differing = {k for k in set(base) | set(built) if base.get(k) != built.get(k)}
        assert differing == changed
