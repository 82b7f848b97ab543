"""Zendesk Talk extraction: the incremental call and call-leg exports, one UTC window at a time.

`GET /api/v2/channels/voice/stats/incremental/{calls,legs}?start_time=<window start>` then the
`next_page` links. The cursor is `updated_at`, so a window lands the records whose latest version was
updated inside it (a call commented on the next day lands in the next day's partition). `next_page`
is never null: the export ends when a page's `end_time` reaches the window end, when a page is empty,
or when the cursor stops moving (the page holds only the boundary record). A page shorter than the
export's page size (option `page_size`, Zendesk's 1000) means the export has caught up with the
present: for a window that had ended before the extraction began, only repeats may follow.

Progress guards (`PagingGuard`) fail the partition, naming the cursor values, when `end_time` goes
backwards, when it moves forward over records all read before, when new records of the window keep
coming after a short page (a cursor creeping a second at a time), or when the partition outlives its
time budget. The boundary record repeats on consecutive pages: records are deduplicated by `id`
keeping the latest `updated_at`, then yielded in `(updated_at, id)` order, verbatim. Auth: Basic
`{email}/token:{api_token}`; 10 requests per minute for these endpoints.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx

from uc_pipeline.connections import Connection
from uc_pipeline.http import (
    ApiClient,
    AuthError,
    HttpSettings,
    MalformedResponseError,
    Quota,
    RateHeaders,
)
from uc_pipeline.http.paging import PagingGuard
from uc_pipeline.providers.base import ExtractStats, ProviderSource, Record, Window

EXPORT_PATH = "/api/v2/channels/voice/stats/incremental"
# Zendesk's page size for incremental exports; a page this full whose cursor did not move means
# more records share one second than a page holds, which the time-based cursor cannot page past.
EXPORT_PAGE_SIZE = 1000
CLOSED_AFTER_S = 300
REMEDY = ("Re-run the partition; if it fails again, the account's export is not paging: report it to Zendesk "
          "support with the figures above.")


def _int_header(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


def rate_headers(response: httpx.Response) -> RateHeaders:
    """Zendesk's `X-Rate-Limit`, `X-Rate-Limit-Remaining` and, on a 429, `Retry-After` (seconds)."""
    retry_after: float | None
    try:
        retry_after = float(response.headers["retry-after"])
    except (KeyError, ValueError):
        retry_after = None
    return RateHeaders(
        limit=_int_header(response, "x-rate-limit"),
        remaining=_int_header(response, "x-rate-limit-remaining"),
        retry_after=retry_after,
    )


def parse_time(value: Any) -> datetime:
    """A Zendesk ISO 8601 time (`2020-10-15T14:12:22Z`) as an aware datetime; ValueError otherwise."""
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 string, got {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"time {value!r} has no UTC offset")
    return parsed


class ZendeskSource(ProviderSource):
    """Zendesk Talk incremental exports for one account (`https://<subdomain>.zendesk.com`)."""

    provider_id: ClassVar[str] = "zendesk"
    title: ClassVar[str] = "Zendesk Talk"
    default_base_url: ClassVar[str | None] = None  # per account: https://<subdomain>.zendesk.com
    credential_fields: ClassVar[tuple[str, ...]] = ("email", "api_token")
    option_names: ClassVar[tuple[str, ...]] = (*ProviderSource.option_names, "page_size")
    # `default`: the incremental exports (10/min). `api`: every other endpoint, under the account's
    # Support API plan limit (Team: 200/min), e.g. Talk Partner Edition call records.
    default_quotas: ClassVar[Mapping[str, Quota]] = {
        "default": Quota(requests=10, per_seconds=60.0),
        "api": Quota(requests=200, per_seconds=60.0),
    }
    streams: ClassVar[Mapping[str, str]] = {
        "calls": "Zendesk Talk calls (incremental calls export), by the UTC day of their last update",
        "legs": "Zendesk Talk call legs, one per participant (incremental legs export), by the UTC day of "
                "their last update",
    }

    def __init__(
        self, connection: Connection, settings: HttpSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        """`transport` replaces the network (tests)."""
        super().__init__(connection, settings)
        creds = connection.credentials
        self._base_url = connection.base_url.rstrip("/")
        size = connection.options.get("page_size", EXPORT_PAGE_SIZE)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"[{connection.connection_id}] options.page_size must be a positive integer (Zendesk's "
                             f"export page size, {EXPORT_PAGE_SIZE}), got {size!r}")
        self._page_size = size
        self._client = ApiClient(
            connection.connection_id,
            self._base_url,
            quotas={"default": connection.quota("default")},
            settings=settings,
            auth=httpx.BasicAuth(f"{creds['email']}/token", str(creds["api_token"])),
            rate_headers=rate_headers,
            secrets=connection.secret_values,
            headers={"Accept": "application/json"},
            transport=transport,
        )

    def http_stats(self) -> Mapping[str, int]:
        return self._client.stats.as_dict()

    def close(self) -> None:
        self._client.close()

    def _malformed(self, url: str, problem: str) -> MalformedResponseError:
        return MalformedResponseError(
            self._client.redact(
                f"[{self.connection.connection_id}] {url.split('?')[0]}: {problem}. Nothing of this partition "
                "was landed; check that base_url points at the Zendesk account (https://<subdomain>.zendesk.com) "
                "and re-run; report it if it persists."
            ),
            connection_id=self.connection.connection_id,
        )

    def _fetch(self, url: str, params: dict[str, Any] | None) -> Any:
        try:
            response = self._client.get(url, params=params)
        except AuthError as exc:
            raise AuthError(
                f"{exc} Zendesk: check the connection's email and api_token (an API token from Admin Center > "
                "Apps and integrations > Zendesk API, with token access enabled) and that the user is an admin "
                "with Talk access.",
                connection_id=exc.connection_id, status=exc.status,
            ) from None
        return self._client.parse_json(response)

    def _page(self, stream: str, url: str, body: Any) -> tuple[list[Record], int, int, str]:
        """The records, count, end_time and next_page of one export page, or a clear error."""
        if not isinstance(body, dict):
            raise self._malformed(url, f"expected a JSON object page, got {type(body).__name__}")
        items, count, end_time, next_page = (body.get(k) for k in (stream, "count", "end_time", "next_page"))
        if not isinstance(items, list) or not all(isinstance(r, dict) for r in items):
            raise self._malformed(url, f"the page has no `{stream}` list of objects (keys: {sorted(body)})")
        if count is not None and (not isinstance(count, int) or count != len(items)):
            raise self._malformed(url, f"`count` is {count!r} but the page holds {len(items)} records")
        if not items and end_time is None:
            return items, 0, 0, ""  # an empty export; nothing to follow
        if not isinstance(end_time, int) or isinstance(end_time, bool):
            raise self._malformed(url, f"`end_time` is {end_time!r}, not UNIX seconds")
        if not isinstance(next_page, str) or not next_page.startswith(self._base_url + "/"):
            raise self._malformed(url, f"`next_page` {next_page!r} is not a URL of this account")
        return items, len(items), end_time, next_page

    def _key(self, url: str, record: Record) -> tuple[int, str]:
        """`(updated_at UNIX seconds, id)` of a record, or a clear error."""
        rid = record.get("id")
        if not isinstance(rid, int | str) or isinstance(rid, bool) or rid == "":
            raise self._malformed(url, f"a record has no usable `id` ({rid!r})")
        try:
            updated = parse_time(record.get("updated_at"))
        except ValueError as exc:
            raise self._malformed(url, f"record {rid} has no valid `updated_at` ({exc})") from None
        return int(updated.timestamp()), str(rid)

    def records(self, stream: str, window: Window, stats: ExtractStats) -> Iterator[tuple[str, Record]]:
        if stream not in self.streams:
            raise ValueError(f"zendesk has no stream {stream!r}; streams: {', '.join(self.streams)}")
        start, end = int(window.start.timestamp()), int(window.end.timestamp())
        guard = PagingGuard(self.title, self.connection, stream, window, remedy=REMEDY)
        # A window that had ended when the extraction began can gain no record: a page shorter than
        # the export's page size is then the whole rest of it, and only repeats may follow. Zendesk holds
        # back the last minute's changes; the margin covers that and a skewed clock.
        closed = window.end.timestamp() + CLOSED_AFTER_S <= time.time()
        url: str = f"{EXPORT_PATH}/{stream}"
        params: dict[str, Any] | None = {"start_time": start}
        cursor, caught_up = start, False
        ids: set[str] = set()
        # Pages come in (updated_at, id) order, so the last copy of an id is its latest version; the
        # landing zone keeps the last one seen, which makes the repeated boundary record harmless. Only
        # the keys are held, to tell a page that brings something new from one that repeats.
        while True:
            items, count, end_time, next_page = self._page(stream, url, self._fetch(url, params))
            stats.pages += 1
            where = f"start_time={cursor} end_time={end_time} count={count}"
            keys = [self._key(url, record) for record in items]
            known = len(ids)
            ids.update(rid for _, rid in keys)
            # A closed window's export is a snapshot: each record comes once, at its latest version (an
            # update made while paging moves it past the window end). Only while the window is open may an
            # id come back with a newer `updated_at`.
            added = guard.page(keys, where, more=False)
            fresh = len(ids) - known if closed else added
            for (updated, rid), record in zip(keys, items, strict=True):
                if start <= updated < end:
                    yield rid, record
            if end_time >= end or count == 0:
                break
            if end_time < cursor:
                raise guard.fail(
                    f"end_time went backwards, from {cursor} to {end_time}; following it would page through "
                    "records already read, and stopping would land part of the window", where)
            if end_time == cursor:
                # Nothing newer than the cursor: the page repeats the boundary record(s) (`count <= 1` in
                # Zendesk's words). A first page with one new record still moves the cursor, so `count` alone
                # cannot say that the export is over. Zendesk keeps a page's last second whole, past the page
                # size if need be; exactly a page of one second may have been cut, and cannot be paged past.
                if count > 1 and count == self._page_size:
                    raise guard.fail(
                        f"{count} records share the second {end_time}, a full page, and the time-based cursor "
                        "cannot page past them", where, "Extract this window again later or ask Zendesk support.")
                break  # the cursor stopped moving: the export is exhausted
            if fresh == 0:
                raise guard.fail(
                    "end_time moved forward but the page holds only records already read; the export is creeping "
                    "instead of paging", where)
            if caught_up:
                if closed:
                    raise guard.fail(
                        f"a page shorter than the page size ({self._page_size}) said the export had caught up, yet "
                        f"the next one brought {fresh} new record(s) of this window: the cursor is creeping (or "
                        "options.page_size is larger than the account's export page)", where)
                break  # a window still open: what was there when the export caught up is landed
            caught_up = count < self._page_size
            cursor, url, params = end_time, next_page, None

SOURCE = ZendeskSource
