"""The Zendesk Talk emulator's contract, spoken to over HTTP on a loopback port: API-token auth, the
incremental export cursor on `updated_at` (page size, `end_time`, a `next_page` that is never null and
repeats the boundary record, exhaustion), rate limiting with `Retry-After`, Zendesk's error bodies,
and the Talk Partner Edition call records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from uc_pipeline.sandbox.clock import Clock
from uc_pipeline.sandbox.model import FaultSpec, QuotaSpec, SandboxConnection
from uc_pipeline.sandbox.server import Sandbox

NOW = datetime(2026, 1, 8, 12, 0, tzinfo=UTC)
DAY = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
PAGE = 7
CALLS = "/api/v2/channels/voice/stats/incremental/calls"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "zendesk"


def zendesk_connection(connection_id: str = "zd", **over) -> SandboxConnection:
    conn = Sandbox.default_connections(["zendesk"], calls_per_day=40, history_start=date(2026, 1, 1))[0]
    conn.connection_id = connection_id
    conn.options = {"page_size": PAGE}
    for key, value in over.items():
        setattr(conn, key, value)
    return conn


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str, SandboxConnection]]:
    conn = zendesk_connection()
    sandbox = Sandbox([conn], profile="fast", clock=Clock(frozen=NOW))
    with sandbox.serve() as _:
        yield sandbox, sandbox.base_url("zendesk"), conn


def client(conn: SandboxConnection, token: str | None = None) -> httpx.Client:
    auth = httpx.BasicAuth(f"{conn.credentials['email']}/token", token or conn.credentials["api_token"])
    return httpx.Client(auth=auth, timeout=10)


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def get_page(http: httpx.Client, url: str, sandbox: Sandbox) -> dict:
    sandbox.reset_quotas()  # pages are read faster than the export's quota allows
    response = http.get(url)
    assert response.status_code == 200, response.text
    assert int(response.headers["X-Rate-Limit"]) == 10 and "X-Rate-Limit-Remaining" in response.headers
    return response.json()


def test_auth_failures_answer_zendesk_401(served) -> None:
    sandbox, base, conn = served
    url = f"{base}{CALLS}?start_time={int(DAY.timestamp())}"
    for response in (httpx.get(url), client(conn, token="wrong").get(url),
                     httpx.get(url, auth=(conn.credentials["email"], conn.credentials["api_token"]))):
        assert response.status_code == 401
        assert response.json() == {"error": "Couldn't authenticate you"}


def test_wrong_credentials_fault_fails_good_credentials() -> None:
    conn = zendesk_connection(faults=FaultSpec(wrong_credentials=True))
    sandbox = Sandbox([conn], clock=Clock(frozen=NOW))
    with sandbox.serve(), client(conn) as http:
        response = http.get(f"{sandbox.base_url('zendesk')}{CALLS}?start_time=0")
    assert response.status_code == 401 and response.json()["error"] == "Couldn't authenticate you"
    assert sandbox.request_log.entries()[-1].connection_id == conn.connection_id


def test_exports_are_for_admins_only() -> None:
    conn = zendesk_connection(options={"page_size": PAGE, "role": "agent"})
    sandbox = Sandbox([conn], clock=Clock(frozen=NOW))
    with sandbox.serve(), client(conn) as http:
        response = http.get(f"{sandbox.base_url('zendesk')}{CALLS}?start_time=0")
    assert response.status_code == 403 and response.json()["error"]["title"] == "Forbidden"


def test_cursor_pages_by_updated_at_and_repeats_the_boundary_record(served) -> None:
    sandbox, base, conn = served
    start = int(DAY.timestamp())
    with client(conn) as http:
        first = get_page(http, f"{base}{CALLS}?start_time={start}", sandbox)
        second = get_page(http, first["next_page"], sandbox)
    assert list(first) == ["calls", "count", "end_time", "next_page"]
    keys = [(ts(c["updated_at"]), c["id"]) for c in first["calls"]]
    assert keys == sorted(keys) and keys[0][0] >= start
    assert first["count"] == len(first["calls"]) >= PAGE  # more only to keep one second together
    assert first["end_time"] == keys[-1][0]
    assert first["next_page"] == f"{base}{CALLS}?start_time={first['end_time']}"
    assert second["calls"][0]["id"] == first["calls"][-1]["id"]  # the boundary record, again
    # Every record updated at or after start_time, in order: what records() says from the same start.
    truth = sandbox.records(conn.connection_id, "calls", DAY, datetime.fromtimestamp(second["end_time"] + 1, UTC))
    assert [c["id"] for c in truth][: len(first["calls"])] == [c["id"] for c in first["calls"]]


def test_export_is_exhausted_with_the_boundary_record_and_a_non_null_next_page(served) -> None:
    sandbox, base, conn = served
    with client(conn) as http:
        page = get_page(http, f"{base}{CALLS}?start_time={int((NOW - timedelta(hours=3)).timestamp())}", sandbox)
        for _ in range(100):
            if page["count"] <= 1:
                break
            url = page["next_page"]
            page = get_page(http, url, sandbox)
        assert page["count"] == 1 and page["next_page"] is not None
        again = get_page(http, page["next_page"], sandbox)
    assert again == page  # polling the same next_page gives the same single boundary record
    assert ts(page["calls"][0]["updated_at"]) == page["end_time"] <= int(NOW.timestamp())


def test_legs_export_and_json_suffix(served) -> None:
    sandbox, base, conn = served
    with client(conn) as http:
        page = get_page(http, f"{base}/api/v2/channels/voice/stats/incremental/legs.json?start_time="
                              f"{int(DAY.timestamp())}", sandbox)
    assert list(page) == ["legs", "count", "end_time", "next_page"] and page["count"] >= PAGE
    assert {leg["type"] for leg in page["legs"]} <= {"customer", "agent"}
    assert page["next_page"].startswith(f"{base}/api/v2/channels/voice/stats/incremental/legs.json?")


def test_bad_start_time_is_a_400(served) -> None:
    sandbox, base, conn = served
    sandbox.reset_quotas()
    with client(conn) as http:
        for query in ("", "?start_time=yesterday"):
            response = http.get(f"{base}{CALLS}{query}")
            assert response.status_code == 400 and response.json()["error"] == "InvalidValue"


def test_quota_429_with_retry_after() -> None:
    conn = zendesk_connection(quotas={"default": QuotaSpec(2, 60.0)})
    sandbox = Sandbox([conn], clock=Clock(frozen=NOW))
    with sandbox.serve(), client(conn) as http:
        url = f"{sandbox.base_url('zendesk')}{CALLS}?start_time={int(DAY.timestamp())}"
        statuses = [http.get(url) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    limited = statuses[-1]
    assert limited.json()["error"] == "APIRateLimitExceeded"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60 and limited.headers["X-Rate-Limit-Remaining"] == "0"
    assert len(sandbox.request_log.violations(conn.connection_id)) == 1


def test_storms_and_server_errors_use_zendesk_bodies() -> None:
    conn = zendesk_connection(faults=FaultSpec(storm_429=1, storm_429_no_retry_after=1))
    sandbox = Sandbox([conn], clock=Clock(frozen=NOW))
    with sandbox.serve(), client(conn) as http:
        url = f"{sandbox.base_url('zendesk')}{CALLS}?start_time={int(DAY.timestamp())}"
        storm, bare = http.get(url), http.get(url)
        sandbox.set_faults(conn.connection_id, {"error_5xx_rate": 1.0})
        errors = [http.get(url) for _ in range(8)]
    assert storm.status_code == bare.status_code == 429
    assert "Retry-After" in storm.headers and "Retry-After" not in bare.headers
    assert {r.status_code for r in errors} <= {500, 502, 503}
    for response in errors:
        if response.status_code != 502:
            assert set(response.json()["error"]) == {"title", "message"}


def test_records_land_on_the_day_of_their_last_update(served) -> None:
    sandbox, _, conn = served
    calls = sandbox.calls(conn.connection_id, DAY, DAY + timedelta(days=1))
    late = [c for c in calls if c.updated_at >= DAY + timedelta(days=1)]
    assert late, "the generated day should hold calls commented on later days"
    day_ids = {r["id"] for r in sandbox.records(conn.connection_id, "calls", DAY, DAY + timedelta(days=1))}
    later = {r["id"] for r in sandbox.records(conn.connection_id, "calls", DAY + timedelta(days=1), NOW)}
    for call in late:
        native = 360_000_000_000 + call.call_id
        assert native not in day_ids and native in later


def test_partner_edition_create_get_patch(served) -> None:
    sandbox, base, conn = served
    request = json.loads((FIXTURES / "talk_partner_edition_create_call_request_recorded.json").read_text())
    recorded = json.loads((FIXTURES / "talk_partner_edition_create_call_201_response_recorded.json").read_text())
    with client(conn) as http:
        created = http.post(f"{base}/api/v2/calls.json", json=request)
        assert created.status_code == 201, created.text
        call = created.json()["call"]
        assert list(call) == list(recorded["call"])
        for key in ("call_started_at", "call_ended_at", "from_line", "to_line", "direction", "app_id"):
            assert call[key] == recorded["call"][key]
        fetched = http.get(f"{base}/api/v2/calls/{call['id']}")
        assert fetched.status_code == 200 and fetched.json() == {"call": call}
        patched = http.patch(f"{base}/api/v2/calls/{call['id']}", json={"call": {
            "call_ended_at": "2022-01-27T15:40:00+01", "duration": 500, "completion_status": "completed"}})
        assert patched.status_code == 200
        assert patched.json()["call"]["call_ended_at"] == "2022-01-27T14:40:00Z"
        assert patched.json()["call"]["duration"] == 500
        missing = http.post(f"{base}/api/v2/calls", json={"call": {"from_line": "+1"}})
        assert missing.status_code == 422 and missing.json()["error"] == "RecordInvalid"
        assert {"app_id", "to_line", "call_started_at", "direction"} <= set(missing.json()["details"])
        assert http.get(f"{base}/api/v2/calls/999").status_code == 404
        assert http.get(f"{base}/api/v2/calls/999").json()["error"] == "RecordNotFound"
    stored = sandbox.emulator("zendesk").partner_calls(sandbox.ctx, conn)
    assert [c["id"] for c in stored] == [call["id"]] and stored[0]["duration"] == 500
