"""The Zendesk Talk client's paging rules, against pages served through `httpx.MockTransport`: the cursor
on `updated_at`, the never-null `next_page`, the repeated boundary record, every stop condition, and the
errors for what it cannot page through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from uc_pipeline.connections import Connection, Secret
from uc_pipeline.http import ApiError, AuthError, HttpSettings, MalformedResponseError, Quota
from uc_pipeline.providers.base import ExtractStats, Window
from uc_pipeline.providers.zendesk.source import SOURCE
from uc_pipeline.sandbox.zendesk.export import build_page

BASE = "https://acme.zendesk.com"
PATH = "/api/v2/channels/voice/stats/incremental/calls"
DAY = Window(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC))


def at(seconds: float) -> str:
    return (DAY.start + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def record(rid: int, seconds: float, version: int = 1) -> dict:
    return {"id": rid, "updated_at": at(seconds), "completion_status": "completed", "version": version}


class FakeExport:
    """Serves `records` as Zendesk's export does (the sandbox's page builder), logging each start_time."""

    def __init__(self, records: list[dict], size: int) -> None:
        self.records = sorted(records, key=lambda r: (r["updated_at"], r["id"]))
        self.size = size
        self.starts: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["start_time"])
        self.starts.append(start)
        stamped = [dict(r, _ts=int(datetime.fromisoformat(r["updated_at"].replace("Z", "+00:00")).timestamp()))
                   for r in self.records]
        page = [{k: v for k, v in r.items() if k != "_ts"} for r in build_page(stamped, start, self.size)]
        end_time = int(datetime.fromisoformat(page[-1]["updated_at"].replace("Z", "+00:00")).timestamp()) \
            if page else start
        return httpx.Response(200, json={"calls": page, "count": len(page), "end_time": end_time,
                                         "next_page": f"{BASE}{PATH}?start_time={end_time}"})


def source(handler, **options):
    conn = Connection(provider="zendesk", connection_id="zd", base_url=BASE,
                      credentials={"email": Secret("ops@acme.test"), "api_token": Secret("sekrit-token")},
                      quotas={"default": Quota(1000, 1.0)}, options=options)
    settings = HttpSettings(max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.02)
    return SOURCE(conn, settings, transport=httpx.MockTransport(handler))


def extract(handler, window: Window = DAY, **options) -> tuple[list[tuple[str, dict]], ExtractStats]:
    """What lands: the client's records with the landing zone's rule (the last copy of an id wins).
    A `FakeExport`'s page size is the connection's `page_size` unless given."""
    if isinstance(handler, FakeExport):
        options.setdefault("page_size", handler.size)
    stats = ExtractStats()
    with source(handler, **options) as src:
        landed: dict[str, dict] = {}
        for rid, record in src.records("calls", window, stats):
            landed.pop(rid, None)
            landed[rid] = record
        return list(landed.items()), stats


def test_pages_until_the_window_end_and_dedupes_the_boundary_record() -> None:
    records = [record(i, 600 * i) for i in range(1, 20)] + [record(100, 86400 + 5), record(101, 86400 + 9)]
    export = FakeExport(records, size=4)
    got, stats = extract(export)
    assert [rid for rid, _ in got] == [str(i) for i in range(1, 20)]
    # The boundary record starts each next page; the page reaching past the window end is the last.
    assert export.starts[0] == int(DAY.start.timestamp())
    assert all(b > a for a, b in zip(export.starts, export.starts[1:], strict=False))
    assert stats.pages == len(export.starts) and export.starts[-1] < int(DAY.end.timestamp())


def test_keeps_the_latest_version_of_a_record_updated_while_paging_an_open_window() -> None:
    # Only a window that has not ended can see a record again with a newer updated_at.
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    live = Window(today, today + timedelta(days=1))
    base = int(today.timestamp())

    def rec(rid: int, seconds: int, version: int = 1) -> dict:
        stamp = datetime.fromtimestamp(base + seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"id": rid, "updated_at": stamp, "version": version}

    pages = iter([
        {"calls": [rec(1, 10), rec(2, 20)], "count": 2, "end_time": base + 20},
        {"calls": [rec(2, 20), rec(1, 30, version=2)], "count": 2, "end_time": base + 30},
        {"calls": [rec(1, 30, version=2)], "count": 1, "end_time": base + 30},
    ])

    def handler(request: httpx.Request) -> httpx.Response:
        body = next(pages)
        return httpx.Response(200, json={**body, "next_page": f"{BASE}{PATH}?start_time={body['end_time']}"})

    got, stats = extract(handler, live, page_size=2)
    assert [(rid, r["version"]) for rid, r in got] == [("2", 1), ("1", 2)]
    assert stats.pages == 3


def test_a_closed_window_whose_pages_only_bring_new_versions_of_read_records_fails() -> None:
    pages = iter([
        {"calls": [record(1, 10), record(2, 20)], "count": 2, "end_time": int(DAY.start.timestamp()) + 20},
        {"calls": [record(2, 20), record(1, 30, version=2)], "count": 2, "end_time": int(DAY.start.timestamp()) + 30},
    ])

    def handler(request: httpx.Request) -> httpx.Response:
        body = next(pages)
        return httpx.Response(200, json={**body, "next_page": f"{BASE}{PATH}?start_time={body['end_time']}"})

    with pytest.raises(ApiError, match="only records already read"):
        extract(handler, page_size=2)


def test_stops_when_the_export_is_exhausted() -> None:
    export = FakeExport([record(1, 100), record(2, 200), record(3, 300)], size=2)
    got, _ = extract(export)
    assert [rid for rid, _ in got] == ["1", "2", "3"]
    # Pages: [1, 2], then [2, 3], then just the boundary record 3 (count 1): the end of the export.
    assert len(export.starts) == 3


def test_an_empty_export_is_one_request() -> None:
    export = FakeExport([], size=5)
    got, stats = extract(export)
    assert got == [] and export.starts == [int(DAY.start.timestamp())] and stats.pages == 1
    # An empty page may carry no end_time at all.
    got, stats = extract(lambda request: httpx.Response(200, json={"calls": [], "count": 0, "end_time": None,
                                                                   "next_page": None}))
    assert got == [] and stats.pages == 1


def test_a_cursor_that_stops_moving_on_a_small_page_ends_the_export() -> None:
    # Two records share the last second: the final page repeats both and end_time does not move.
    export = FakeExport([record(1, 100), record(2, 500), record(3, 500)], size=1)
    got, _ = extract(export)
    assert [rid for rid, _ in got] == ["1", "2", "3"]


def test_a_full_page_on_one_second_is_an_error_not_a_truncation() -> None:
    stamp = int(DAY.start.timestamp()) + 50

    def handler(request: httpx.Request) -> httpx.Response:
        page = [record(i, 50) for i in range(3)]
        return httpx.Response(200, json={"calls": page, "count": 3, "end_time": stamp,
                                         "next_page": f"{BASE}{PATH}?start_time={stamp}"})

    with pytest.raises(ApiError, match="share the second"):
        extract(handler, page_size=3)


def creeping(fresh: bool, size: int = 2):
    """An export whose end_time creeps one second per page, with new records (or the same ones) on each."""
    counter = iter(range(1, 10_000))
    served: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        n = next(counter)
        served.append(int(request.url.params["start_time"]))
        ids = range(size * n, size * n + size) if fresh else range(size)
        page = [record(i, n) for i in ids]
        end = int(DAY.start.timestamp()) + n
        return httpx.Response(200, json={"calls": page, "count": len(page), "end_time": end,
                                         "next_page": f"{BASE}{PATH}?start_time={end}"})

    return handler, served


def test_new_records_after_a_short_page_are_a_creeping_cursor() -> None:
    handler, served = creeping(fresh=True)
    with pytest.raises(ApiError, match="creeping") as info:
        extract(handler)
    # The first page (2 records of 1000) said the export had caught up; the second one proves it wrong.
    assert len(served) == 2
    text = str(info.value)
    assert "[zd]" in text and "Zendesk Talk calls" in text and f"start_time={served[0] + 1}" in text
    assert DAY.start.isoformat() in text and "sekrit" not in text


def test_full_pages_creeping_over_records_already_read_fail_at_once() -> None:
    handler, served = creeping(fresh=False, size=3)
    with pytest.raises(ApiError, match="only records already read"):
        extract(handler, page_size=3)
    assert len(served) == 2


def test_an_end_time_going_backwards_fails_instead_of_landing_part_of_the_window() -> None:
    base = int(DAY.start.timestamp())
    pages = iter([([record(1, 100), record(2, 200)], 200), ([record(3, 300), record(4, 400)], 150)])

    def handler(request: httpx.Request) -> httpx.Response:
        page, end = next(pages)
        return httpx.Response(200, json={"calls": page, "count": 2, "end_time": base + end,
                                         "next_page": f"{BASE}{PATH}?start_time={base + end}"})

    with pytest.raises(ApiError, match="backwards") as info:
        extract(handler, page_size=2)
    assert f"from {base + 200} to {base + 150}" in str(info.value)


def test_a_page_size_option_that_is_not_a_positive_integer_is_refused() -> None:
    with pytest.raises(ValueError, match="page_size"):
        source(FakeExport([], 1), page_size="many")


@pytest.mark.parametrize(("body", "problem"), [
    ({"legs": [], "count": 0, "end_time": 1, "next_page": f"{BASE}{PATH}"}, "no `calls` list"),
    ({"calls": [], "count": 0, "end_time": "soon", "next_page": f"{BASE}{PATH}"}, "end_time"),
    ({"calls": [], "count": 0, "end_time": 1, "next_page": "https://evil.example/x"}, "not a URL of this account"),
    ({"calls": [record(1, 5)], "count": 1, "end_time": 1, "next_page": None}, "next_page"),
    ({"calls": [{"id": 1}], "count": 1, "end_time": 1, "next_page": f"{BASE}{PATH}"}, "updated_at"),
    ({"calls": [record(1, 5)], "count": 7, "end_time": 1, "next_page": f"{BASE}{PATH}"}, "count"),
    ([1, 2], "JSON object"),
])
def test_unexpected_pages_raise_a_clear_error(body, problem) -> None:
    with pytest.raises(MalformedResponseError, match=problem) as info:
        extract(lambda request: httpx.Response(200, json=body))
    assert "base_url" in str(info.value)


def test_a_page_that_is_not_json_is_malformed() -> None:
    with pytest.raises(MalformedResponseError, match="malformed"):
        extract(lambda request: httpx.Response(200, content=b'{"calls": [{"id"'))


def test_wrong_credentials_say_what_to_check_without_the_secret() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "Couldn't authenticate you"})

    with pytest.raises(AuthError) as info:
        extract(handler)
    message = str(info.value)
    assert "api_token" in message and "Couldn't authenticate you" in message
    assert "sekrit-token" not in message


def test_unknown_stream_is_refused() -> None:
    with pytest.raises(ValueError, match="no stream"), source(FakeExport([], 1)) as src:
        list(src.records("tickets", DAY, ExtractStats()))
