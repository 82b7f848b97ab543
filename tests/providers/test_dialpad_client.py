"""The Dialpad client's windowing and cursor paging against a small in-memory Dialpad (`httpx.MockTransport`),
both int64 encodings, its clear errors on pages it cannot trust, and the rate headers it reads."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from uc_pipeline.connections import Connection, Secret
from uc_pipeline.http import HttpSettings, MalformedResponseError, Quota
from uc_pipeline.http.paging import PagingError
from uc_pipeline.providers.base import ExtractStats, Window
from uc_pipeline.providers.dialpad import source as dialpad

BASE = "https://dialpad.com"
DAY = Window(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC))
DAY_MS = 1_767_571_200_000  # 2026-01-05T00:00:00Z in milliseconds
SETTINGS = HttpSettings(max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.01)
KEY = "dp-admin-key-0123456789"
SAMPLE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "dialpad"
                     / "call_get_200_spec_example.json").read_text(encoding="utf-8"))


def call(call_id: int, started_ms: int, *, numbers: bool = False) -> dict:
    """The spec's example Call with another id and start, its int64 values as strings (as the example) or numbers."""
    record = copy.deepcopy(SAMPLE)
    record.update(call_id=str(call_id), date_started=str(started_ms), date_rang=str(started_ms),
                  date_connected=str(started_ms + 4000), event_timestamp=str(started_ms + 4000))
    if numbers:
        for key in ("call_id", "date_started", "date_rang", "date_connected", "event_timestamp", "entry_point_call_id"):
            record[key] = int(record[key])
    return record


class FakeDialpad:
    """`GET /api/v2/call`: newest first, exclusive ms bounds, `limit`, an offset cursor."""

    def __init__(self, calls: list[dict]) -> None:
        self.calls = sorted(calls, key=lambda c: (int(c["date_started"]), int(c["call_id"])), reverse=True)
        self.requests: list[httpx.Request] = []
        self.tamper: Callable[[dict, int], dict] = lambda body, offset: body

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {KEY}":
            return httpx.Response(401, json={"error": {"code": 401, "message": "invalid api key"}})
        q = request.url.params
        after, before, limit = int(q["started_after"]), int(q["started_before"]), int(q.get("limit", "25"))
        matching = [c for c in self.calls if after < int(c["date_started"]) < before]
        offset = int(q.get("cursor", "0"))
        chunk = matching[offset:offset + limit]
        body: dict = {"items": chunk}
        if offset + limit < len(matching):
            body["cursor"] = str(offset + limit)
        return httpx.Response(200, json=self.tamper(body, offset))


def connection() -> Connection:
    return Connection(provider="dialpad", connection_id="dp-test", base_url=BASE,
                      credentials={"api_key": Secret(KEY)}, quotas={"default": Quota(10_000, 1.0)})


def extract(fake: FakeDialpad, window: Window = DAY) -> tuple[list[tuple[str, dict]], ExtractStats]:
    stats = ExtractStats()
    with dialpad.DialpadSource(connection(), SETTINGS, transport=httpx.MockTransport(fake)) as src:
        return list(src.records("calls", window, stats)), stats


@pytest.fixture(autouse=True)
def small_pages(monkeypatch):
    monkeypatch.setattr(dialpad, "PAGE_LIMIT", 3)


def test_a_day_is_one_query_paged_by_cursor_in_both_encodings():
    starts = [DAY_MS + i * 3_600_000 for i in range(7)]
    calls = [call(1000 + i, s, numbers=i % 2 == 0) for i, s in enumerate(starts)]
    # Just outside the window on both sides: the bounds are exclusive, so they must not be asked for.
    calls += [call(1, DAY_MS - 1), call(2, DAY_MS + 86_400_000)]
    fake = FakeDialpad(calls)
    rows, stats = extract(fake)
    assert [rid for rid, _ in rows] == [str(1000 + i) for i in reversed(range(7))]  # newest first, as served
    assert [r for _, r in rows] == [c for c in fake.calls if 1000 <= int(c["call_id"]) < 1007]  # verbatim
    assert stats.pages == 3 and stats.reported_total is None
    first = fake.requests[0]
    assert first.url.path == "/api/v2/call"
    assert dict(first.url.params) == {"started_after": str(DAY_MS - 1), "started_before": str(DAY_MS + 86_400_000),
                                      "limit": "3"}
    assert [r.url.params.get("cursor") for r in fake.requests] == [None, "3", "6"]
    assert all("apikey" not in r.url.params for r in fake.requests)  # the key never goes into a URL


@pytest.mark.parametrize("last_page", [{}, {"cursor": None}, {"cursor": ""}])
def test_paging_stops_when_the_cursor_is_absent_null_or_empty(last_page):
    fake = FakeDialpad([call(1000 + i, DAY_MS + i * 1000) for i in range(5)])
    fake.tamper = lambda body, offset: {**{k: v for k, v in body.items() if k != "cursor"}, **last_page} \
        if "cursor" not in body else body
    rows, stats = extract(fake)
    assert len(rows) == 5 and stats.pages == 2


def test_a_cursor_handed_back_twice_fails_the_partition():
    fake = FakeDialpad([call(1000 + i, DAY_MS + i * 1000) for i in range(9)])
    # The second page hands back the first page's cursor: following it would loop.
    fake.tamper = lambda body, offset: {**body, "cursor": "3"} if offset == 3 else body
    with pytest.raises(PagingError, match=r"dp-test.*Dialpad calls.*cursor 3.*already followed"):
        extract(fake)


def test_a_page_without_a_new_call_that_announces_another_fails_the_partition():
    fake = FakeDialpad([call(1000 + i, DAY_MS + i * 1000) for i in range(9)])
    first = {}

    def same_items(body: dict, offset: int) -> dict:
        first.setdefault("items", body["items"])
        return {**body, "items": first["items"]}  # every page repeats the first page's calls

    fake.tamper = same_items
    with pytest.raises(PagingError, match="no record not already seen"):
        extract(fake)


def test_a_call_outside_the_window_fails_clearly():
    stray = call(77, DAY_MS + 10)
    fake = FakeDialpad([stray])
    fake.tamper = lambda body, offset: {"items": [{**stray, "date_started": str(DAY_MS - 5000)}]}
    with pytest.raises(MalformedResponseError, match=r"call 77 has date_started=.*outside the requested window"):
        extract(fake)


@pytest.mark.parametrize("body, problem", [
    ([], "expected a JSON object"),
    ({"items": {"call_id": "1"}}, "`items` is not a list"),
    ({"items": [{"call_id": "x1", "date_started": str(DAY_MS)}]}, "call_id='x1'"),
    ({"items": [{"call_id": True, "date_started": str(DAY_MS)}]}, "call_id=True"),
    ({"items": [{"call_id": "5", "date_started": "soon"}]}, "date_started='soon'"),
    ({"items": [], "cursor": 4}, "`cursor` is 4"),
])
def test_pages_of_the_wrong_shape_fail_clearly(body, problem):
    fake = FakeDialpad([])
    fake.tamper = lambda _body, offset: body
    with pytest.raises(MalformedResponseError, match=problem) as info:
        extract(fake)
    assert KEY not in str(info.value)


def test_a_null_items_page_is_empty():
    fake = FakeDialpad([])
    fake.tamper = lambda body, offset: {"items": None}
    assert extract(fake)[0] == []


def test_integers_arrive_as_strings_or_numbers():
    assert [dialpad.as_integer(v) for v in ("1356998400000", 1356998400000, 1356998400000.0, " 42 ", "-3")] == [
        1356998400000, 1356998400000, 1356998400000, 42, -3]
    assert [dialpad.as_integer(v) for v in (True, None, "1.5", 1.5, "", "12a", {"x": 1})] == [None] * 7
    assert dialpad.millis(datetime(2013, 1, 1, tzinfo=UTC)) == 1356998400000


def test_rate_headers_are_read_when_present():
    reset_s = httpx.Response(200, headers={"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0",
                                           "X-RateLimit-Reset": "1767571260"})
    info = dialpad.parse_rate_headers(reset_s)
    assert (info.limit, info.remaining, info.reset_at) == (20, 0, 1767571260.0)
    reset_ms = dialpad.parse_rate_headers(httpx.Response(200, headers={"X-RateLimit-Reset": "1767571260500"}))
    assert reset_ms.reset_at == 1767571260.5
    draft = dialpad.parse_rate_headers(httpx.Response(200, headers={"RateLimit-Limit": "1200",
                                                                    "RateLimit-Remaining": "7",
                                                                    "RateLimit-Reset": "30"}))
    assert (draft.limit, draft.remaining) == (1200, 7)
    assert draft.reset_at is not None and 25 < draft.reset_at - datetime.now(UTC).timestamp() <= 30
    assert dialpad.parse_rate_headers(httpx.Response(200)) == dialpad.RateHeaders()


def test_the_documented_quotas_are_the_defaults():
    quotas = dialpad.DialpadSource.default_quotas
    # 20 per second per company; 1,200 per minute on the call list is the same pace; 10 per minute by id.
    assert (quotas["default"].requests, quotas["default"].per_seconds) == (20, 1.0)
    assert (quotas["call_detail"].requests, quotas["call_detail"].per_seconds) == (10, 60.0)
