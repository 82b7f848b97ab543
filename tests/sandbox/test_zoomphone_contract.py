"""Contract of the Zoom Phone emulator, over HTTP on a loopback port: Server-to-Server OAuth (grant, bad
client or account, token in the query string, expiry), the call history's query rules (full timestamps and
dates, one month at most, six months back, page_size up to 300), next_page_token paging and its 15-minute
expiry, the call detail and its elements, recordings, the per-second and daily quotas with Zoom's headers
and bodies, and sparsity as tabled in render.py (values the call lacks are absent, never null)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from uc_pipeline.sandbox import Clock, QuotaSpec, Sandbox, SandboxConnection
from uc_pipeline.sandbox.zoomphone import render

NOW = datetime(2026, 2, 1, 12, tzinfo=UTC)
DAY = {"from": "2026-01-06T00:00:00Z", "to": "2026-01-06T23:59:59Z"}
HISTORY = "/v2/phone/call_history"
ROOMY = {"heavy": QuotaSpec(1000, 1.0), "light": QuotaSpec(1000, 1.0), "medium": QuotaSpec(1000, 1.0)}
QPS_MESSAGE = "You have reached the maximum per-second rate limit for this API. Try again later."


def zoom(connection_id: str, **over: object) -> SandboxConnection:
    fields: dict = dict(provider="zoomphone", connection_id=connection_id, seed=9, calls_per_day=90,
                        credentials={"account_id": f"acct-{connection_id}", "client_id": f"cid-{connection_id}",
                                     "client_secret": f"sec-{connection_id}"}, quotas=dict(ROOMY))
    fields.update(over)
    return SandboxConnection(**fields)


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    sandbox = Sandbox([zoom("zp-main"), zoom("zp-daily", options={"daily_limit": 2}),
                       zoom("zp-ttl", options={"page_token_ttl_s": 900}), zoom("zp-qps", quotas={})],
                      profile="fast", clock=Clock(frozen=NOW))
    with sandbox.serve(port=0):
        yield sandbox


@pytest.fixture()
def web(box: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=box.base_url("zoomphone"), timeout=10) as client:
        yield client


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def grant(web: httpx.Client, connection_id: str, *, secret: str | None = None,
          account: str | None = None) -> httpx.Response:
    return web.post("/oauth/token", data={"grant_type": "account_credentials",
                                          "account_id": account or f"acct-{connection_id}"},
                    headers=basic(f"cid-{connection_id}", secret or f"sec-{connection_id}"))


def bearer(web: httpx.Client, connection_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {grant(web, connection_id).json()['access_token']}"}


def test_the_grant_answers_a_one_hour_token_with_the_api_url(web: httpx.Client, box: Sandbox) -> None:
    answer = grant(web, "zp-main")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope", "api_url"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 3599 and "refresh_token" not in body
    assert body["api_url"] == box.base_url("zoomphone")


def test_refused_grants_answer_the_oauth_error_body(web: httpx.Client) -> None:
    wrong = grant(web, "zp-main", secret="nope")
    assert wrong.status_code == 400 and wrong.json() == {"reason": "Invalid client_id or client_secret",
                                                          "error": "invalid_client"}
    account = grant(web, "zp-main", account="someone-else")
    assert account.status_code == 400 and account.json()["error"] == "invalid_request"


def test_a_token_in_the_query_string_or_expired_is_401_code_124(web: httpx.Client, box: Sandbox) -> None:
    token = grant(web, "zp-main").json()["access_token"]
    in_query = web.get(HISTORY, params={**DAY, "access_token": token})
    assert in_query.status_code == 401 and in_query.json()["code"] == 124
    box.clock.advance(timedelta(seconds=3600))
    try:
        expired = web.get(HISTORY, params=DAY, headers={"Authorization": f"Bearer {token}"})
    finally:
        box.clock.freeze(NOW)
    assert expired.status_code == 401 and expired.json() == {"code": 124, "message": "Access token is expired."}


def test_pages_follow_next_page_token_to_an_empty_string(web: httpx.Client, box: Sandbox) -> None:
    headers = bearer(web, "zp-main")
    seen, token, pages = [], "", 0
    while True:
        body = web.get(HISTORY, params={**DAY, "page_size": 10, **({"next_page_token": token} if token else {})},
                       headers=headers).json()
        pages += 1
        assert list(body)[:1] == ["call_history"] and body["page_size"] == 10
        seen += [item["call_history_uuid"] for item in body["call_history"]]
        token = body["next_page_token"]
        if token == "":
            break
    start, end = datetime(2026, 1, 6, tzinfo=UTC), datetime(2026, 1, 7, tzinfo=UTC)
    truth = [r["call_history_uuid"] for r in box.records("zp-main", "call_history", start, end)]
    assert seen == truth and body["total_records"] == len(truth) and pages == -(-len(truth) // 10)


def test_a_page_token_expires_after_fifteen_minutes(web: httpx.Client, box: Sandbox) -> None:
    headers = bearer(web, "zp-ttl")
    first = web.get(HISTORY, params={**DAY, "page_size": 5}, headers=headers).json()
    box.clock.advance(timedelta(minutes=16))
    try:
        late = web.get(HISTORY, params={**DAY, "page_size": 5, "next_page_token": first["next_page_token"]},
                       headers=bearer(web, "zp-ttl"))
    finally:
        box.clock.freeze(NOW)
    assert late.status_code == 400 and late.json()["code"] == 300


@pytest.mark.parametrize(("params", "problem"), [
    ({"from": "2026-01-01T00:00:00Z", "to": "2026-02-15T00:00:00Z"}, "one month"),
    ({"from": "2025-06-01", "to": "2025-06-02"}, "6 months"),
    ({"from": "2026-01-06"}, "to"),
    ({**DAY, "page_size": 301}, "page_size"),
    ({"from": "06/01/2026", "to": "2026-01-07"}, "from"),
])
def test_refused_queries_answer_code_300(web: httpx.Client, params: dict, problem: str) -> None:
    answer = web.get(HISTORY, params=params, headers=bearer(web, "zp-main"))
    assert answer.status_code == 400
    assert answer.json()["code"] == 300 and problem in answer.json()["message"]


def test_a_date_means_the_whole_utc_day(web: httpx.Client, box: Sandbox) -> None:
    by_date = web.get(HISTORY, params={"from": "2026-01-06", "to": "2026-01-06", "page_size": 300},
                      headers=bearer(web, "zp-main")).json()
    by_time = web.get(HISTORY, params={**DAY, "page_size": 300}, headers=bearer(web, "zp-main")).json()
    assert by_date["call_history"] == by_time["call_history"]


def test_the_detail_carries_the_elements_and_unknown_uuids_answer_3001(web: httpx.Client, box: Sandbox) -> None:
    headers = bearer(web, "zp-main")
    start, end = datetime(2026, 1, 6, tzinfo=UTC), datetime(2026, 1, 7, tzinfo=UTC)
    calls = box.calls("zp-main", start, end)
    queued = next(c for c in calls if c.queue is not None and c.outcome == "ANSWERED")
    conn = box.connection("zp-main")
    detail = web.get(f"{HISTORY}/{render.history_uuid(conn, queued)}", headers=headers)
    assert detail.status_code == 200 and detail.headers["X-RateLimit-Category"] == "Light"
    elements = detail.json()["call_elements"]
    assert elements[0]["callee_ext_type"] == "call_queue" and elements[0]["callee_name"] == queued.queue.name
    agent = next(e for e in elements if e["callee_ext_type"] == "user")
    assert agent["result"] == "answered" and agent["callee_name"] == queued.agent.name
    assert agent.get("hold_time", 0) == queued.hold_s
    missing = web.get(f"{HISTORY}/20260106-00000000-0000-4000-8000-000000000000", headers=headers)
    assert missing.status_code == 404 and missing.json()["code"] == 3001


def test_recordings_list_the_recorded_calls(web: httpx.Client, box: Sandbox) -> None:
    body = web.get("/v2/phone/recordings", params={**DAY, "page_size": 300}, headers=bearer(web, "zp-main"))
    assert body.headers["X-RateLimit-Category"] == "Medium"
    start, end = datetime(2026, 1, 6, tzinfo=UTC), datetime(2026, 1, 7, tzinfo=UTC)
    recorded = {render.native_call_id(c) for c in box.calls("zp-main", start - timedelta(days=1), end)
                if c.recording is not None and start <= c.recording.start_at < end}
    assert {r["call_id"] for r in body.json()["recordings"]} == recorded


def test_the_per_second_quota_answers_429_with_zoom_headers(web: httpx.Client, box: Sandbox) -> None:
    headers = bearer(web, "zp-qps")
    answers = [web.get(HISTORY, params=DAY, headers=headers) for _ in range(12)]  # Heavy: 10 per second (fast)
    ok, refused = answers[0], [a for a in answers if a.status_code == 429]
    assert ok.headers["X-RateLimit-Category"] == "Heavy" and ok.headers["X-RateLimit-Type"] == "QPS"
    assert ok.headers["X-RateLimit-Limit"] == "10"
    assert refused and refused[0].json() == {"code": 429, "message": QPS_MESSAGE}
    assert int(refused[0].headers["Retry-After"]) >= 1
    assert box.request_log.violations("zp-qps")  # a client that sends these is over the quota


def test_the_daily_quota_answers_the_daily_limit_headers(web: httpx.Client, box: Sandbox) -> None:
    headers = bearer(web, "zp-daily")
    answers = [web.get(HISTORY, params=DAY, headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    spent = answers[2]
    # As in vendor-samples/zoomphone/rate_limit_daily_headers.http: the reset as a timestamp.
    assert spent.headers["X-RateLimit-Type"] == "Daily-limit" and spent.headers["X-RateLimit-Remaining"] == "0"
    assert spent.headers["X-RateLimit-Category"] == "Heavy" and spent.headers["X-RateLimit-Limit"] == "2"
    assert spent.headers["Retry-After"] == "2026-02-02T00:00:00Z"
    assert "maximum daily rate limit" in spent.json()["message"]
    # Light requests do not count in the Heavy pool.
    uuid = answers[0].json()["call_history"][0]["call_history_uuid"]
    assert web.get(f"{HISTORY}/{uuid}", headers=headers).status_code == 200
    box.clock.advance(timedelta(hours=12))  # past midnight UTC: a new day's budget
    try:
        assert web.get(HISTORY, params=DAY, headers=bearer(web, "zp-daily")).status_code == 200
    finally:
        box.clock.freeze(NOW)


def test_values_a_call_lacks_are_absent_and_waiting_time_is_sometimes_missing(box: Sandbox) -> None:
    start, end = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 12, tzinfo=UTC)
    details = box.records("zp-main", "call_history", start, end)
    assert details
    for detail in details:
        assert None not in detail.values()
        assert all(None not in e.values() for e in detail["call_elements"])
        assert ("answer_time" in detail) == (detail["call_result"] == "answered")
    queue_elements = [e for d in details for e in d["call_elements"] if e.get("callee_ext_type") == "call_queue"]
    without = sum("waiting_time" not in e for e in queue_elements) / len(queue_elements)
    assert 0.03 < without < 0.2  # render.ZOOMPHONE_NO_WAITING_TIME = 0.1
    assert box.records("zp-main", "call_history", start, end) == details  # the same for the same seed
