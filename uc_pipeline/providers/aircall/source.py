"""Aircall extraction source: the `calls` stream from `GET /v1/calls`, by call creation time.

Owns Aircall's auth (HTTP Basic `api_id:api_token`), its rate headers (`X-AircallApi-*`), windowed
paging and the 10,000-records-per-query cap. A window `[start, end)` is queried as `from=start`,
`to=end-1s` (both inclusive, UNIX seconds), `order=asc`, `per_page=50`, following
`meta.next_page_link`. A query that reaches the 10,000-record cap is continued by a new query from the
second of the last call it served (`from=<that second>`), so the window is split exactly where the
cap fell, no page already read is asked for again (only that second's calls repeat, deduplicated by
the landing zone), and nothing is ever truncated. Every page is fed to a `PagingGuard`: a page that
announces another but brings no call new to its query, pages past what `meta.total` justifies, or
more distinct calls than `meta.total` fail the partition; the largest `meta.total` of a query counts
(calls created while paging raise it). Records are yielded verbatim, keyed by the call `id`.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from uc_pipeline.connections import Connection
from uc_pipeline.http import ApiClient, HttpSettings, MalformedResponseError, Quota, RateHeaders
from uc_pipeline.http.paging import PagingGuard
from uc_pipeline.providers.base import ExtractStats, ProviderSource, Record, Window

CALLS_PATH = "/v1/calls"
PER_PAGE = 50
# Aircall serves at most 10,000 records per query; a window reporting this many or more is split.
MAX_RECORDS_PER_QUERY = 10_000
REMEDY = (
    "Check that the connection's base_url points at the Aircall Public API (https://api.aircall.io) and re-run "
    "the partition; if it fails again, Aircall's paging is broken for this query: report it to Aircall support "
    "with the figures above."
)


def _number(raw: str | None) -> float | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        return float(raw.strip())
    except ValueError:
        return None


def parse_rate_headers(response: httpx.Response) -> RateHeaders:
    """`X-AircallApi-Limit`, `-Remaining` and `-Reset` (UNIX seconds; milliseconds are accepted too).

    Aircall documents no `Retry-After`; one is honoured if a proxy adds it.
    """
    limit = _number(response.headers.get("X-AircallApi-Limit"))
    remaining = _number(response.headers.get("X-AircallApi-Remaining"))
    reset_at = _number(response.headers.get("X-AircallApi-Reset"))
    if reset_at is not None and reset_at > 1e12:  # no UNIX-seconds value is this large: milliseconds
        reset_at /= 1000.0
    return RateHeaders(
        limit=int(limit) if limit is not None else None,
        remaining=int(remaining) if remaining is not None else None,
        reset_at=reset_at,
        retry_after=_number(response.headers.get("Retry-After")),
    )


class AircallSource(ProviderSource):
    provider_id: ClassVar[str] = "aircall"
    title: ClassVar[str] = "Aircall"
    default_base_url: ClassVar[str | None] = "https://api.aircall.io"
    credential_fields: ClassVar[tuple[str, ...]] = ("api_id", "api_token")
    # 60 requests per minute per company (Aircall's "logging calls" tutorial); lower it per
    # connection when other integrations share the company's budget.
    default_quotas: ClassVar[Mapping[str, Quota]] = {"default": Quota(requests=60, per_seconds=60.0)}
    streams: ClassVar[Mapping[str, str]] = {
        "calls": "Aircall calls (GET /v1/calls) by creation time, verbatim Call objects keyed by call id",
    }
    reports_total: ClassVar[bool] = True


    def __init__(
        self, connection: Connection, settings: HttpSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        super().__init__(connection, settings)
        self._origin = urlsplit(connection.base_url)[:2]
        self.client = ApiClient(
            connection.connection_id,
            connection.base_url,
            quotas={"default": connection.quota("default")},
            settings=settings,
            auth=httpx.BasicAuth(str(connection.credentials["api_id"]), str(connection.credentials["api_token"])),
            rate_headers=parse_rate_headers,
            secrets=connection.secret_values,
            headers={"Accept": "application/json"},
            transport=transport,
        )

    def http_stats(self) -> Mapping[str, int]:
        return self.client.stats.as_dict()

    def close(self) -> None:
        self.client.close()

    def _fail(self, url: str, problem: str) -> MalformedResponseError:
        return MalformedResponseError(
            self.client.redact(
                f"[{self.connection.connection_id}] {url}: {problem}. Nothing of this partition was landed; "
                "check the connection's base_url points at the Aircall Public API (https://api.aircall.io), "
                "re-run the partition, and report it if it persists."
            ),
            connection_id=self.connection.connection_id,
        )

    def records(self, stream: str, window: Window, stats: ExtractStats) -> Iterator[tuple[str, Record]]:
        if stream not in self.streams:
            raise ValueError(f"aircall has no stream {stream!r}; streams: {sorted(self.streams)}")
        guard = PagingGuard(self.title, self.connection, stream, window, remedy=REMEDY)
        landed: dict[int, int] = {}  # call id -> started_at, for the whole window
        since = int(window.start.timestamp())
        while True:
            capped, last_started = yield from self._query(window, since, landed, guard, stats)
            if not capped:
                return
            if last_started <= since:
                raise guard.fail(
                    f"more than {MAX_RECORDS_PER_QUERY} calls were created within one second ({since}); the "
                    "cap per query cannot be worked around by narrowing the window",
                    f"from={since}",
                    "Extract this day again later or ask Aircall support for an export of that second.",
                )
            # The capped query stopped at `last_started`: the rest of the window is queried from that
            # second on, so no page already read is asked for again (only that second's calls repeat).
            since = last_started
            stats.windows_split += 1

    @staticmethod
    def _params(window: Window, page: int, since: int | None = None) -> dict[str, str]:
        return {
            "from": str(int(window.start.timestamp()) if since is None else since),
            "to": str(int(window.end.timestamp()) - 1),
            "order": "asc",
            "per_page": str(PER_PAGE),
            "page": str(page),
        }

    def _query(
        self, window: Window, since: int, landed: dict[int, int], guard: PagingGuard, stats: ExtractStats
    ) -> Generator[tuple[str, Record], None, tuple[bool, int]]:
        """Every call of the query `from=since`, up to Aircall's cap; returns (capped, last started_at).

        Each page announcing another must bring a call new to this query (the guard keys calls by
        query); pages past what meta.total justifies, or more calls than it reports, fail the partition.
        """
        url, params = CALLS_PATH, self._params(window, 1, since)
        in_query: set[int] = set()
        top_total, page_no, last_started = 0, 1, since
        while True:
            body = self._page(url, params, page_no, stats)
            total, link = body["meta"]["total"], body["meta"].get("next_page_link")
            # A call created while paging raises meta.total on later pages: the largest figure counts.
            top_total = max(top_total, total)
            cursor = f"from={since} page={page_no} meta.total={total}"
            for call in body["calls"]:
                started = call["started_at"]
                if not since <= started < window.end.timestamp():
                    raise self._fail(
                        CALLS_PATH,
                        f"call {call['id']} has started_at={started}, outside the requested window "
                        f"[{datetime.fromtimestamp(since, UTC).isoformat()}, {window.end.isoformat()})",
                    )
                in_query.add(call["id"])
                last_started = max(last_started, started)
                landed[call["id"]] = started
                yield str(call["id"]), call
            # At the cap, more calls are announced by a link or by meta.total (a link may stop at the cap).
            capped = page_no * PER_PAGE >= MAX_RECORDS_PER_QUERY and (bool(link) or len(in_query) < top_total)
            guard.page(((since, call["id"]) for call in body["calls"]), cursor, more=bool(link) and not capped)
            guard.pages_justified(top_total, PER_PAGE, page_no, cursor)
            guard.not_above_total(len(in_query), top_total, cursor)
            if not link or capped:
                break
            page_no += 1
            url, params = self._next_url(link, window, page_no, since)
        if not capped and len(in_query) < top_total:
            raise guard.fail(
                f"meta.total said {top_total} calls but the pages held {len(in_query)} distinct calls before "
                "next_page_link ran out",
                f"from={since} page={page_no}",
            )
        # The window's total as of this query: the calls landed before its first second, plus its own.
        before = sum(1 for started in landed.values() if started < since)
        stats.reported_total = max(stats.reported_total or 0, before + top_total)
        return capped, last_started

    def _next_url(self, link: str, window: Window, page_no: int, since: int) -> tuple[str, dict[str, str]]:
        """The next page's URL from `next_page_link`, checked to be the same origin and query."""
        parts = urlsplit(link)
        if parts[:2] != self._origin:
            raise self._fail(
                link.split("?")[0],
                f"next_page_link points to another origin than {self.connection.base_url}; "
                "refusing to send the credentials there",
            )
        query = dict(parse_qsl(parts.query))
        expected = self._params(window, page_no, since)
        for key in ("from", "to", "order", "page"):
            if key in query and query[key] != expected[key]:
                raise self._fail(
                    link.split("?")[0],
                    f"next_page_link has {key}={query[key]!r} where {expected[key]!r} was expected",
                )
        # A link that dropped the window or order parameters would page through another query.
        query.update({k: v for k, v in expected.items() if k not in query})
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), query

    def _page(self, url: str, params: dict[str, str], page_no: int, stats: ExtractStats) -> dict:
        response = self.client.get(url, params=params)
        body = self.client.parse_json(response)
        stats.pages += 1
        where = f"{url.split('?')[0]} page {page_no}"
        shaped = isinstance(body, dict) and isinstance(body.get("calls"), list) and isinstance(body.get("meta"), dict)
        if not shaped:
            raise self._fail(where, "expected a JSON object with a `calls` list and a `meta` object")
        total = body["meta"].get("total")
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            raise self._fail(where, f"meta.total is {total!r}, expected a non-negative integer")
        for call in body["calls"]:
            if not isinstance(call, dict):
                raise self._fail(where, f"a calls entry is {type(call).__name__}, expected an object")
            for key in ("id", "started_at"):
                value = call.get(key)
                if not isinstance(value, int) or isinstance(value, bool):
                    raise self._fail(where, f"a call has {key}={value!r}, expected an integer")
        link = body["meta"].get("next_page_link")
        if link is not None and not isinstance(link, str):
            raise self._fail(where, f"meta.next_page_link is {link!r}, expected a URL or null")
        return body


SOURCE = AircallSource
