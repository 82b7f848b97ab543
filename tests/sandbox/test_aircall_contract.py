"""Contract of the Aircall emulator, over HTTP on a loopback port: auth, every pagination path, the
10,000-records-per-query cap, quota headers and 429s, injected 5xx/storms, single calls and users, and
the canonical -> native mapping of every served call."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from uc_pipeline.sandbox.aircall.emulator import EMULATOR
from uc_pipeline.sandbox.aircall.render import MISSED_CALL_REASON, format_number
from uc_pipeline.sandbox.clock import Clock
from uc_pipeline.sandbox.model import FaultSpec, QuotaSpec, SandboxConnection

try:
    from uc_pipeline.sandbox import Sandbox
except ImportError:  # the package may not re-export it
    from uc_pipeline.sandbox.server import Sandbox

NOW = datetime(2026, 2, 1, tzinfo=UTC)
DAY = datetime(2026, 1, 6, tzinfo=UTC)  # a Tuesday
ROOMY = {"default": QuotaSpec(requests=10_000, window_s=1.0)}
RATE_HEADERS = ("X-AircallApi-Limit", "X-AircallApi-Remaining", "X-AircallApi-Reset")


def conn(connection_id: str, **over) -> SandboxConnection:
    base = dict(provider="aircall", connection_id=connection_id, seed=11, calls_per_day=150, quotas=dict(ROOMY),
                credentials={"api_id": f"id-{connection_id}", "api_token": f"tok-{connection_id}"})
    base.update(over)
    return SandboxConnection(**base)


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    sandbox = Sandbox(
        [conn("ct-main"), conn("ct-auth", faults=FaultSpec(wrong_credentials=True)),
         conn("ct-quota", quotas={"default": QuotaSpec(requests=3, window_s=60.0)}),
         conn("ct-faults"), conn("ct-cap", calls_per_day=6_000)],
        profile="fast", clock=Clock(frozen=NOW),
    )
    with sandbox.serve(port=0):
        yield sandbox


def client(box: Sandbox, connection_id: str | None = None, token: str | None = None) -> httpx.Client:
    auth = None
    if connection_id is not None:
        auth = (f"id-{connection_id}", token or f"tok-{connection_id}")
    return httpx.Client(base_url=box.base_url("aircall"), auth=auth, timeout=30)


def day_params(start: datetime = DAY, days: int = 1, **extra) -> dict:
    return {"from": int(start.timestamp()), "to": int((start + timedelta(days=days)).timestamp()) - 1, **extra}


def truth(box: Sandbox, connection_id: str, start: datetime = DAY, days: int = 1) -> list[dict]:
    return box.records(connection_id, "calls", start, start + timedelta(days=days))


def test_authentication_failures_answer_aircall_401(box):
    cases = [client(box), client(box, "ct-main", token="wrong"), client(box, "ct-auth")]
    with httpx.Client(base_url=box.base_url("aircall"), auth=("nobody", "x")) as unknown:
        cases.append(unknown)
        for c in cases:
            r = c.get("/v1/calls", params=day_params())
            assert r.status_code == 401
            assert set(r.json()) == {"error", "troubleshoot"}
    log = box.request_log.entries()
    assert [e.connection_id for e in log if e.status == 401][-4:] == [None, "ct-main", "ct-auth", None]
    assert box.fault_counts("ct-auth").get("wrong_credentials", 0) >= 1


def test_every_pagination_path(box):
    expected = truth(box, "ct-main")
    assert len(expected) > 100
    with client(box, "ct-main") as c:
        first = c.get("/v1/calls", params=day_params(per_page=50)).json()
        meta = first["meta"]
        assert (meta["count"], meta["total"], meta["current_page"], meta["per_page"]) == (50, len(expected), 1, 50)
        assert meta["previous_page_link"] is None
        assert meta["next_page_link"].startswith(box.base_url("aircall") + "/v1/calls?")
        middle = c.get(meta["next_page_link"]).json()
        assert middle["meta"]["current_page"] == 2
        assert httpx.URL(middle["meta"]["previous_page_link"]).params["page"] == "1"
        assert httpx.URL(middle["meta"]["next_page_link"]).params["page"] == "3"
        last_page = -(-len(expected) // 50)
        last = c.get("/v1/calls", params=day_params(per_page=50, page=last_page)).json()
        assert last["meta"]["next_page_link"] is None and last["meta"]["count"] == len(expected) - 50 * (last_page - 1)
        beyond = c.get("/v1/calls", params=day_params(per_page=50, page=last_page + 1)).json()
        assert beyond["calls"] == [] and beyond["meta"]["count"] == 0 and beyond["meta"]["next_page_link"] is None
        assert first["calls"] + middle["calls"] == expected[:100]
        # Links are followed unchanged to the end, whatever the page size.
        url, ids = "/v1/calls", []
        params: dict | None = day_params(per_page=30)
        while url:
            page = c.get(url, params=params).json()
            ids += [call["id"] for call in page["calls"]]
            url, params = page["meta"]["next_page_link"], None
        assert ids == [r["id"] for r in expected]
        capped = c.get("/v1/calls", params=day_params(per_page=500)).json()["meta"]
        assert (capped["per_page"], capped["count"]) == (50, 50)
        assert c.get("/v1/calls", params=day_params()).json()["meta"]["per_page"] == 20
        desc = c.get("/v1/calls", params=day_params(per_page=50, order="desc")).json()["calls"]
        assert [r["id"] for r in desc] == [r["id"] for r in reversed(expected)][:50]
        empty = c.get("/v1/calls", params={"from": 100, "to": 200}).json()
        assert empty["calls"] == [] and empty["meta"]["total"] == 0 and empty["meta"]["next_page_link"] is None
        for bad in ({"page": 0}, {"per_page": "many"}, {"order": "sideways"}, {"from": "yesterday"},
                    {"to": 10**15}):
            r = c.get("/v1/calls", params=day_params(**bad))
            assert r.status_code == 400 and set(r.json()) == {"error", "troubleshoot"}


def test_from_and_to_are_inclusive_creation_times(box):
    expected = truth(box, "ct-main")
    probe = expected[len(expected) // 2]["started_at"]
    with client(box, "ct-main") as c:
        same = c.get("/v1/calls", params={"from": probe, "to": probe, "per_page": 50}).json()["calls"]
        after = c.get("/v1/calls", params={"from": probe + 1, "to": probe + 3600, "per_page": 50}).json()["calls"]
    assert same and all(r["started_at"] == probe for r in same)
    assert all(r["started_at"] > probe for r in after)


def test_pages_past_ten_thousand_records_answer_400(box):
    params = day_params(datetime(2026, 1, 7, tzinfo=UTC), days=2, per_page=50)
    with client(box, "ct-cap") as c:
        page200 = c.get("/v1/calls", params={**params, "page": 200})
        assert page200.status_code == 200
        meta = page200.json()["meta"]
        assert meta["total"] > 10_000 and meta["count"] == 50 and meta["next_page_link"]
        r = c.get(meta["next_page_link"])
        assert r.status_code == 400
        assert "10000" in r.json()["troubleshoot"] and "from" in r.json()["troubleshoot"]
        assert all(h in r.headers for h in RATE_HEADERS)


def test_quota_headers_and_429(box):
    with client(box, "ct-quota") as c:
        answers = [c.get("/v1/calls", params=day_params(per_page=1)) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["X-AircallApi-Remaining"] for r in answers] == ["2", "1", "0", "0"]
    assert {r.headers["X-AircallApi-Limit"] for r in answers} == {"3"}
    reset = int(answers[-1].headers["X-AircallApi-Reset"])
    assert time.time() < reset <= time.time() + 61
    assert "Retry-After" not in answers[-1].headers
    assert answers[-1].json()["error"] == "Too Many Requests"
    assert len(box.request_log.violations("ct-quota")) == 1


def test_injected_5xx_and_storms_use_aircall_bodies_and_headers(box):
    box.set_faults("ct-faults", FaultSpec(error_5xx_rate=1.0, seed=2))
    try:
        with client(box, "ct-faults") as c:
            r = c.get("/v1/calls", params=day_params())
            assert r.status_code in (500, 502, 503)
            assert set(r.json()) == {"error", "troubleshoot"} and all(h in r.headers for h in RATE_HEADERS)
            box.set_faults("ct-faults", FaultSpec(storm_429=2))
            statuses = [c.get("/v1/calls", params=day_params()).status_code for _ in range(3)]
    finally:
        box.set_faults("ct-faults", FaultSpec())
    assert statuses == [429, 429, 200]
    assert box.request_log.violations("ct-faults") == []


def test_single_call_and_users(box):
    expected = truth(box, "ct-main")
    with client(box, "ct-main") as c:
        one = c.get(f"/v1/calls/{expected[3]['id']}")
        assert one.status_code == 200 and one.json() == {"call": expected[3]}
        missing = c.get("/v1/calls/42")
        assert missing.status_code == 404 and set(missing.json()) == {"error", "troubleshoot"}
        assert all(h in missing.headers for h in RATE_HEADERS)
        users = c.get("/v1/users", params={"per_page": 50}).json()
    agents = box.ctx.truth.directory(box.connection("ct-main")).agents
    assert users["meta"]["total"] == len(agents) == len(users["users"])
    assert {u["id"] for u in users["users"]} == {a.agent_id for a in agents}


def test_served_records_follow_the_mapping_table(box):
    calls = box.calls("ct-main", DAY, DAY + timedelta(days=1))
    records = {r["id"]: r for r in truth(box, "ct-main")}
    assert set(records) == {c.call_id for c in calls if c.direction != "INTERNAL"}
    assert not EMULATOR.profile.internal_calls and not EMULATOR.profile.hold
    for call in calls:
        r = records[call.call_id]
        assert r["direction"] == call.direction.lower() and r["status"] == "done"
        assert r["started_at"] == int(call.start_at.timestamp()) and r["ended_at"] == int(call.end_at.timestamp())
        assert r["duration"] == r["ended_at"] - r["started_at"]
        assert (r["answered_at"] is not None) == (call.outcome == "ANSWERED")
        if call.direction == "INBOUND" and call.outcome != "ANSWERED":
            assert r["missed_call_reason"] == MISSED_CALL_REASON[call.missed_reason]
            assert "user" not in r
        else:
            assert r["missed_call_reason"] is None
        assert (r["voicemail"] is not None) == (call.outcome == "VOICEMAIL")
        assert (r["recording"] is not None) == (call.recording is not None)
        assert r["raw_digits"] == format_number(call.external_number)
        assert [c["id"] for c in r["comments"]] == [c.comment_id for c in call.comments]
        assert len(r["tags"]) == len(call.tags)
        assert ("transferred_to" in r) == bool(call.transfers)


def test_drift_is_served_as_the_ground_truth_says(box):
    box.set_faults("ct-main", FaultSpec(drift_extra_fields=True, drift_missing_optional=True))
    try:
        with client(box, "ct-main") as c:
            served = c.get("/v1/calls", params=day_params(per_page=50)).json()["calls"]
        expected = truth(box, "ct-main")[:50]
    finally:
        box.set_faults("ct-main", FaultSpec())
    assert served == expected
    plain = truth(box, "ct-main")[:50]
    assert served != plain

