"""The Aircall client's paging and window splitting against a small in-memory Aircall (`httpx.MockTransport`),
and its clear errors on pages it cannot trust."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest

import uc_pipeline.providers.aircall.source as aircall
from uc_pipeline.connections import Connection, Secret
from uc_pipeline.http import HttpSettings, MalformedResponseError, Quota
from uc_pipeline.providers.base import ExtractStats, Window

BASE = "https://api.aircall.io"
DAY = Window(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC))
SETTINGS = HttpSettings(max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.01)
CAP = 10


class FakeAircall:
    """`GET /v1/calls` over a list of creation times, with Aircall's paging and a small query cap."""

    def __init__(self, starts: list[int], cap: int = CAP) -> None:
        self.calls = [{"id": 1000 + i, "started_at": s, "direction": "inbound"} for i, s in enumerate(sorted(starts))]
        self.cap = cap
        self.requests: list[httpx.URL] = []
        self.tamper: Callable[[dict], dict] = lambda body: body

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url)
        q = request.url.params
        lo, hi = int(q["from"]), int(q["to"])
        page, per_page = int(q.get("page", "1")), min(int(q.get("per_page", "20")), 50)
        matching = [c for c in self.calls if lo <= c["started_at"] <= hi]
        offset = (page - 1) * per_page
        if offset >= self.cap:
            return httpx.Response(400, json={"error": "Bad Request", "troubleshoot": "narrow the query"})
        chunk = matching[offset:min(offset + per_page, self.cap)]
        more = offset + len(chunk) < len(matching) and chunk
        meta = {"count": len(chunk), "total": len(matching), "current_page": page, "per_page": per_page,
                "next_page_link": str(request.url.copy_set_param("page", page + 1)) if more else None,
                "previous_page_link": None}
        return httpx.Response(200, json=self.tamper({"calls": chunk, "meta": meta}))


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    monkeypatch.setattr(aircall, "PER_PAGE", 4)
    monkeypatch.setattr(aircall, "MAX_RECORDS_PER_QUERY", CAP)


def connection(connection_id: str) -> Connection:
    return Connection(provider="aircall", connection_id=connection_id, base_url=BASE,
                      credentials={"api_id": Secret("the-id"), "api_token": Secret("the-token")},
                      quotas={"default": Quota(10_000, 1.0)})


def extract(fake: FakeAircall, window: Window = DAY, name: str = "unit") -> tuple[list[tuple[str, dict]], ExtractStats]:
    stats = ExtractStats()
    with aircall.SOURCE(connection(name), SETTINGS, transport=httpx.MockTransport(fake)) as source:
        return list(source.records("calls", window, stats)), stats


def starts_in_day(n: int, step: int = 60) -> list[int]:
    return [int(DAY.start.timestamp()) + i * step for i in range(n)]


def test_pages_follow_next_links_with_the_window_parameters():
    fake = FakeAircall(starts_in_day(7) + [int(DAY.end.timestamp())])  # the last one belongs to the next day
    rows, stats = extract(fake)
    assert [rid for rid, _ in rows] == [str(1000 + i) for i in range(7)]
    assert (stats.pages, stats.reported_total, stats.windows_split) == (2, 7, 0)
    first = dict(fake.requests[0].params)
    assert first == {"from": str(int(DAY.start.timestamp())), "to": str(int(DAY.end.timestamp()) - 1),
                     "order": "asc", "per_page": "4", "page": "1"}
    assert fake.requests[0].path == "/v1/calls"
    assert fake.requests[1].params["page"] == "2"


def test_windows_over_the_cap_are_continued_from_where_the_cap_fell():
    fake = FakeAircall(starts_in_day(45, step=1800) + starts_in_day(3, step=7))  # 48 calls, clustered at 00:00
    rows, stats = extract(fake)
    ids = [rid for rid, _ in rows]
    # Only the calls of the second where a query was capped come twice (the landing zone keeps one).
    assert len(set(ids)) == 48 and len(ids) - 48 <= stats.windows_split
    assert [r["started_at"] for _, r in rows] == sorted(r["started_at"] for _, r in rows)
    assert stats.windows_split >= 4 and stats.reported_total == 48
    assert all(int(u.params.get("page", 1)) <= -(-CAP // 4) for u in fake.requests)
    # No page is asked for twice: each query starts at the second of the last call the previous one served.
    asked = [(u.params["from"], u.params["page"]) for u in fake.requests]
    assert len(asked) == len(set(asked))
    froms = [int(u.params["from"]) for u in fake.requests]
    assert froms == sorted(froms) and froms[0] == int(DAY.start.timestamp())
    # 48 calls at 4 per page need 12 pages; each continuation re-reads at most one page of its first second.
    assert len(fake.requests) <= 12 + stats.windows_split


def test_a_query_whose_links_stop_at_the_cap_is_continued_on_meta_total():
    fake = FakeAircall(starts_in_day(30, step=900))

    def no_link_at_the_cap(body: dict) -> dict:
        if body["meta"]["current_page"] * 4 >= CAP:
            body["meta"]["next_page_link"] = None
        return body

    fake.tamper = no_link_at_the_cap
    rows, stats = extract(fake)
    assert len({rid for rid, _ in rows}) == 30 and stats.reported_total == 30 and stats.windows_split >= 2


def test_a_second_holding_more_than_the_cap_fails_clearly():
    fake = FakeAircall([int(DAY.start.timestamp()) + 5] * (CAP + 1))
    with pytest.raises(MalformedResponseError, match="within one second"):
        extract(fake)


def test_records_outside_the_window_are_a_provider_bug():
    fake = FakeAircall(starts_in_day(3))
    fake.tamper = lambda body: {**body, "calls": [*body["calls"], {"id": 1, "started_at": 0}]}
    with pytest.raises(MalformedResponseError, match="outside the requested window"):
        extract(fake)


def test_a_next_link_to_another_origin_is_refused():
    fake = FakeAircall(starts_in_day(6))

    def elsewhere(body: dict) -> dict:
        if body["meta"]["next_page_link"]:
            body["meta"]["next_page_link"] = body["meta"]["next_page_link"].replace(BASE, "https://evil.example")
        return body

    fake.tamper = elsewhere
    with pytest.raises(MalformedResponseError, match="another origin"):
        extract(fake)
    assert all(u.host == "api.aircall.io" for u in fake.requests)


def test_a_next_link_without_the_window_keeps_the_window():
    fake = FakeAircall(starts_in_day(6))

    def bare(body: dict) -> dict:
        if body["meta"]["next_page_link"]:
            body["meta"]["next_page_link"] = f"{BASE}/v1/calls?page={body['meta']['current_page'] + 1}&per_page=4"
        return body

    fake.tamper = bare
    rows, _ = extract(fake)
    assert len(rows) == 6
    assert fake.requests[1].params["from"] == fake.requests[0].params["from"]


@pytest.mark.parametrize(("tamper", "message"), [
    (lambda body: {"data": body["calls"]}, "`calls` list"),
    (lambda body: {**body, "meta": {**body["meta"], "total": "7"}}, "meta.total"),
    (lambda body: {**body, "calls": [{"id": "x", "started_at": 1}]}, "id='x'"),
    (lambda body: {**body, "meta": {**body["meta"], "next_page_link": None}}, "meta.total said 6"),
])
def test_untrustworthy_pages_fail_with_what_to_check(tamper, message):
    fake = FakeAircall(starts_in_day(6))
    fake.tamper = tamper
    with pytest.raises(MalformedResponseError) as info:
        extract(fake, name="tamper")
    text = str(info.value)
    assert message in text and "[tamper]" in text and "base_url" in text
    assert "the-token" not in text


def test_a_page_that_is_not_json_fails_clearly():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b'{"calls": [', headers={"content-type": "application/json"})

    with pytest.raises(MalformedResponseError, match="unit"):
        stats = ExtractStats()
        with aircall.SOURCE(connection("unit"), SETTINGS, transport=httpx.MockTransport(handler)) as source:
            list(source.records("calls", DAY, stats))


def test_unknown_stream_and_basic_auth():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200, json={"calls": [], "meta": {"total": 0, "next_page_link": None}})

    with aircall.SOURCE(connection("unit"), SETTINGS, transport=httpx.MockTransport(handler)) as source:
        with pytest.raises(ValueError, match="no stream"):
            list(source.records("users", DAY, ExtractStats()))
        assert list(source.records("calls", Window(DAY.start, DAY.start + timedelta(hours=1)), ExtractStats())) == []
    assert seen == ["Basic " + base64.b64encode(b"the-id:the-token").decode()]
