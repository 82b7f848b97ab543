"""Dialpad extraction source: the `calls` stream from `GET /api/v2/call`, by call start time.

Owns Dialpad's auth (a company admin API key sent as `Authorization: Bearer <key>`, never as the
`?apikey=` query parameter, which would leak into logs), its call-list windowing and cursor paging.
Facts from Dialpad's OpenAPI spec (`dialpad_api_spec.json` in
https://github.com/dialpad/dialpad-python-sdk) and https://developers.dialpad.com/docs/rate-limits:

- The list holds concluded calls only, newest first by start. A window `[start, end)` is one query:
  `started_after=<start ms - 1>`, `started_before=<end ms>` (UTC milliseconds; "more recently than" /
  "prior to", i.e. exclusive bounds), `limit=100`, then `cursor=<the page's cursor>` until the cursor
  is absent, null or empty. The API reports no total.
- The spec types ids and timestamps as int64 but its own example sends them as strings: both are
  accepted, and the record id is the call id in its decimal form either way (`"1002"` and `1002`).
- Quotas: 20 requests per second per company overall, 1,200 per minute on the call list (which 20 per
  any second already keeps), 10 per minute on `GET /api/v2/call/{id}` (not used here). Dialpad
  publishes no rate-limit headers, 429 body or `Retry-After`: the common `X-RateLimit-*` /
  `RateLimit-*` headers and `Retry-After` are read when present, otherwise a 429 pauses one window.

Every page is fed to a `PagingGuard`: a page that announces another but brings no call not seen
before, a cursor already followed, a call outside the window or a page that is not the documented
shape fail the partition with the cursor named. Records are yielded verbatim, keyed by call id.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from uc_pipeline.connections import Connection
from uc_pipeline.http import ApiClient, HttpSettings, MalformedResponseError, Quota, RateHeaders
from uc_pipeline.http.paging import PagingGuard
from uc_pipeline.providers.base import ExtractStats, ProviderSource, Record, Window

CALLS_PATH = "/api/v2/call"
# The spec lists no page size; clients send `limit` up to 100 (providers.md, Dialpad).
PAGE_LIMIT = 100
_INTEGER = re.compile(r"-?\d{1,19}")
REMEDY = (
    "Re-run the partition; if it fails again, Dialpad's call list is not paging for this window: report it "
    "to Dialpad support with the figures above."
)


def _header(response: httpx.Response, *names: str) -> float | None:
    for name in names:
        raw = response.headers.get(name)
        if raw is None or not raw.strip():
            continue
        try:
            return float(raw.strip())
        except ValueError:
            continue
    return None


def parse_rate_headers(response: httpx.Response) -> RateHeaders:
    """The usual rate headers, should Dialpad or a gateway send them (Dialpad documents none).

    `X-RateLimit-Reset` may be UNIX seconds or milliseconds; the IETF draft's `RateLimit-Reset` is
    seconds from now. `Retry-After` is read by the HTTP layer itself.
    """
    limit = _header(response, "X-RateLimit-Limit", "RateLimit-Limit")
    remaining = _header(response, "X-RateLimit-Remaining", "RateLimit-Remaining")
    reset_at = _header(response, "X-RateLimit-Reset")
    if reset_at is not None and reset_at > 1e12:
        reset_at /= 1000.0
    if reset_at is None:
        delta = _header(response, "RateLimit-Reset")
        reset_at = time.time() + delta if delta is not None else None
    return RateHeaders(
        limit=int(limit) if limit is not None else None,
        remaining=int(remaining) if remaining is not None else None,
        reset_at=reset_at,
    )


def as_integer(value: Any) -> int | None:
    """An int64 the way Dialpad sends it: a JSON number or its decimal string (`"1356998400000"`); a
    number with a zero fraction (`12.0`) counts. None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    return None


def millis(moment: datetime) -> int:
    """UTC milliseconds of an aware datetime, exactly."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


class DialpadSource(ProviderSource):
    provider_id: ClassVar[str] = "dialpad"
    title: ClassVar[str] = "Dialpad"
    default_base_url: ClassVar[str | None] = "https://dialpad.com"
    credential_fields: ClassVar[tuple[str, ...]] = ("api_key",)
    # https://developers.dialpad.com/docs/rate-limits: 20 requests/second per company overall and 1,200/min
    # on the call list; 20 in any second keeps both. `call_detail` is GET /api/v2/call/{id} (10/min).
    default_quotas: ClassVar[Mapping[str, Quota]] = {
        "default": Quota(requests=20, per_seconds=1.0),
        "call_detail": Quota(requests=10, per_seconds=60.0),
    }
    streams: ClassVar[Mapping[str, str]] = {
        "calls": "Dialpad calls (GET /api/v2/call) by start time, verbatim Call objects keyed by call_id",
    }

    def __init__(
        self, connection: Connection, settings: HttpSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        super().__init__(connection, settings)
        self.client = ApiClient(
            connection.connection_id,
            connection.base_url,
            quotas={"default": connection.quota("default")},
            settings=settings,
            rate_headers=parse_rate_headers,
            secrets=connection.secret_values,
            headers={"Accept": "application/json", "Authorization": f"Bearer {connection.credentials['api_key']}"},
            transport=transport,
        )

    def http_stats(self) -> Mapping[str, int]:
        return self.client.stats.as_dict()

    def close(self) -> None:
        self.client.close()

    def _fail(self, where: str, problem: str) -> MalformedResponseError:
        return MalformedResponseError(
            self.client.redact(
                f"[{self.connection.connection_id}] {where}: {problem}. Nothing of this partition was landed; "
                "check that the connection's base_url points at the Dialpad API (https://dialpad.com), re-run the "
                "partition, and report it to Dialpad support if it persists."
            ),
            connection_id=self.connection.connection_id,
        )

    def records(self, stream: str, window: Window, stats: ExtractStats) -> Iterator[tuple[str, Record]]:
        if stream not in self.streams:
            raise ValueError(f"dialpad has no stream {stream!r}; streams: {sorted(self.streams)}")
        guard = PagingGuard(self.title, self.connection, stream, window, remedy=REMEDY)
        start_ms, end_ms = millis(window.start), millis(window.end)
        query = {"started_after": str(start_ms - 1), "started_before": str(end_ms), "limit": str(PAGE_LIMIT)}
        followed: set[str] = set()
        cursor: str | None = None
        page_no = 0
        while True:
            page_no += 1
            params = {**query, **({"cursor": cursor} if cursor else {})}
            where = f"page {page_no} cursor={_short(cursor) if cursor else '(first page)'}"
            items, next_cursor = self._page(params, where, stats)
            keys = []
            for call in items:
                call_id, started = self._identify(call, where)
                if not start_ms <= started < end_ms:
                    raise self._fail(
                        f"{CALLS_PATH} {where}",
                        f"call {call_id} has date_started={started} ms, outside the requested window "
                        f"[{start_ms}, {end_ms}) ms",
                    )
                keys.append(call_id)
                yield call_id, call
            guard.page(keys, where, more=bool(next_cursor))
            if not next_cursor:
                return
            if next_cursor in followed or next_cursor == cursor:
                raise guard.fail(
                    f"the page hands back cursor {_short(next_cursor)}, which was already followed", where)
            followed.add(next_cursor)
            cursor = next_cursor

    def _page(self, params: dict[str, str], where: str, stats: ExtractStats) -> tuple[list[dict], str | None]:
        body = self.client.parse_json(self.client.get(CALLS_PATH, params=params))
        stats.pages += 1
        at = f"{CALLS_PATH} {where}"
        if not isinstance(body, dict):
            raise self._fail(at, "expected a JSON object with an `items` list and a `cursor`")
        items = body.get("items", [])
        if items is None:  # the spec marks `items` nullable: an empty page
            items = []
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise self._fail(at, "`items` is not a list of Call objects")
        cursor = body.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise self._fail(at, f"`cursor` is {cursor!r}, expected a string, null or absent")
        return items, cursor or None

    def _identify(self, call: dict, where: str) -> tuple[str, int]:
        """(record id, date_started ms) of a Call object; ids and times come as numbers or strings."""
        call_id = as_integer(call.get("call_id"))
        if call_id is None:
            raise self._fail(f"{CALLS_PATH} {where}",
                             f"a call has call_id={call.get('call_id')!r}, expected an integer")
        started = as_integer(call.get("date_started"))
        if started is None:
            raise self._fail(
                f"{CALLS_PATH} {where}",
                f"call {call_id} has date_started={call.get('date_started')!r}, expected UTC milliseconds")
        return str(call_id), started


def _short(cursor: str) -> str:
    return cursor if len(cursor) <= 48 else f"{cursor[:45]}..."


SOURCE = DialpadSource
