"""Aircall extraction source: the `calls` stream from `GET /v1/calls`, by call creation time.

Owns Aircall's auth (HTTP Basic `api_id:api_token`), its rate headers (`X-AircallApi-*`), windowed
paging and the 10,000-records-per-query cap. A window `[start, end)` is queried as `from=start`,
`to=end-1s` (both inclusive, UNIX seconds), `order=asc`, `per_page=50`, following
`meta.next_page_link`. `meta.total` of the first page decides whether the window fits under the cap;
if not, the window is halved (`Window.split`) until every piece fits, so nothing is ever truncated.
Records are yielded verbatim, keyed by the call `id`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from uc_pipeline.connections import Connection
from uc_pipeline.http import ApiClient, HttpSettings, MalformedResponseError, Quota, RateHeaders
from uc_pipeline.providers.base import ExtractStats, ProviderSource, Record, Window

CALLS_PATH = "/v1/calls"
PER_PAGE = 50
# Aircall serves at most 10,000 records per query; a window reporting this many or more is split.
MAX_RECORDS_PER_QUERY = 10_000


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
        pending = [window]
        while pending:
            piece = pending.pop(0)
            first = self._page(piece, CALLS_PATH, self._params(piece, 1), 1, stats)
            total = first["meta"]["total"]
            if total >= MAX_RECORDS_PER_QUERY:
                try:
                    halves = piece.split()
                except ValueError:
                    raise self._fail(
                        CALLS_PATH,
                        f"{total} calls were created within one second ({piece.start.isoformat()}); the "
                        f"{MAX_RECORDS_PER_QUERY}-record cap per query cannot be worked around by splitting",
                    ) from None
                stats.windows_split += 1
                pending[:0] = halves  # keep chronological order
                continue
            stats.add_reported_total(total)
            yield from self._walk(piece, first, total, stats)

    @staticmethod
    def _params(window: Window, page: int) -> dict[str, str]:
        return {
            "from": str(int(window.start.timestamp())),
            "to": str(int(window.end.timestamp()) - 1),
            "order": "asc",
            "per_page": str(PER_PAGE),
            "page": str(page),
        }

    def _walk(
        self, window: Window, first: dict[str, Any], total: int, stats: ExtractStats
    ) -> Iterator[tuple[str, Record]]:
        """Every call of a window that fits under the cap, page by page from `first`."""
        page_body, page_no, seen = first, 1, set()
        while True:
            for call in page_body["calls"]:
                started = call["started_at"]
                if not window.start.timestamp() <= started < window.end.timestamp():
                    raise self._fail(
                        CALLS_PATH,
                        f"call {call['id']} has started_at={started}, outside the requested window "
                        f"[{window.start.isoformat()}, {window.end.isoformat()})",
                    )
                seen.add(call["id"])
                yield str(call["id"]), call
            link = page_body["meta"].get("next_page_link")
            if not link:
                break
            page_no += 1
            url, params = self._next_url(link, window, page_no)
            page_body = self._page(window, url, params, page_no, stats)
        if len(seen) < total:
            raise self._fail(
                CALLS_PATH,
                f"meta.total said {total} calls for [{window.start.isoformat()}, {window.end.isoformat()}) but "
                f"the pages held {len(seen)} distinct calls before next_page_link ran out",
            )

    def _next_url(self, link: str, window: Window, page_no: int) -> tuple[str, dict[str, str]]:
        """The next page's URL from `next_page_link`, checked to be the same origin and query."""
        parts = urlsplit(link)
        if parts[:2] != self._origin:
            raise self._fail(
                link.split("?")[0],
                f"next_page_link points to another origin than {self.connection.base_url}; "
                "refusing to send the credentials there",
            )
        query = dict(parse_qsl(parts.query))
        expected = self._params(window, page_no)
        for key in ("from", "to", "order", "page"):
            if key in query and query[key] != expected[key]:
                raise self._fail(
                    link.split("?")[0],
                    f"next_page_link has {key}={query[key]!r} where {expected[key]!r} was expected",
                )
        # A link that dropped the window or order parameters would page through another query.
        query.update({k: v for k, v in expected.items() if k not in query})
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), query

    def _page(self, window: Window, url: str, params: dict[str, str], page_no: int, stats: ExtractStats) -> dict:
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
