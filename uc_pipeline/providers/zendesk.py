"""Zendesk Talk extraction: the incremental call and call-leg exports, one UTC window at a time.

`GET /api/v2/channels/voice/stats/incremental/{calls,legs}?start_time=<window start>` then the
`next_page` links. The cursor is `updated_at`, so a window lands the records whose latest version was
updated inside it (a call commented on the next day lands in the next day's partition). `next_page`
is never null: the export ends when a page's `end_time` reaches the window end, when a page is empty,
or when the cursor stops moving (the page holds only the boundary record); a hard page limit turns a
cursor that never ends into an error. The boundary record repeats on consecutive pages: records are
deduplicated by `id` keeping the latest `updated_at`, then yielded in `(updated_at, id)` order,
verbatim. Auth: Basic `{email}/token:{api_token}`; 10 requests per minute for these endpoints.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import httpx

from uc_pipeline.connections import Connection
from uc_pipeline.http import (
    ApiClient,
    ApiError,
    AuthError,
    HttpSettings,
    MalformedResponseError,
    Quota,
    RateHeaders,
)
from uc_pipeline.providers.base import ExtractStats, ProviderSource, Record, Window

EXPORT_PATH = "/api/v2/channels/voice/stats/incremental"
# Zendesk's page size for incremental exports; a page this full whose cursor did not move means
# more records share one second than a page holds, which the time-based cursor cannot page past.
EXPORT_PAGE_SIZE = 1000
DEFAULT_MAX_PAGES = 5000


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
        self._page_size = int(connection.options.get("page_size", EXPORT_PAGE_SIZE))
        self._max_pages = int(connection.options.get("max_pages", DEFAULT_MAX_PAGES))
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
        url: str = f"{EXPORT_PATH}/{stream}"
        params: dict[str, Any] | None = {"start_time": start}
        cursor = start
        # Pages come in (updated_at, id) order, so the last copy of an id is its latest version; the
        # landing zone keeps the last one seen, which makes the repeated boundary record harmless
        # without holding the window in memory.
        for _ in range(self._max_pages):
            items, count, end_time, next_page = self._page(stream, url, self._fetch(url, params))
            stats.pages += 1
            for record in items:
                updated, rid = self._key(url, record)
                if start <= updated < end:
                    yield rid, record
            if end_time >= end or count == 0:
                break
            # Nothing newer than the cursor: the page repeats the boundary record(s) (`count <= 1` in
            # Zendesk's words). A first page with one new record still moves the cursor, so `count` alone
            # cannot say that the export is over.
            if end_time <= cursor:
                if count > 1 and count >= self._page_size:
                    raise ApiError(
                        f"[{self.connection.connection_id}] {stream} export: {count} records share the second "
                        f"{end_time}, a full page, and the time-based cursor cannot page past them. Extract this "
                        "window again later or ask Zendesk support.",
                        connection_id=self.connection.connection_id,
                    )
                break  # the cursor stopped moving: the export is exhausted
            cursor, url, params = end_time, next_page, None
        else:
            raise ApiError(
                f"[{self.connection.connection_id}] {stream} export: still not past {window.end.isoformat()} "
                f"after {self._max_pages} pages (cursor at {cursor}). The export does not end; raise the "
                "connection option max_pages if the window really holds that many records.",
                connection_id=self.connection.connection_id,
            )


SOURCE = ZendeskSource
