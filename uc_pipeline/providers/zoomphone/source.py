"""Zoom Phone extraction (provider id `zoomphone`): the account's call history, each call's detail with its
`call_elements` (the legs: queue, agent, `waiting_time`, `hold_time`), and the recordings list.

Streams (providers.md section 7 [ZM2], https://developers.zoom.us/docs/api/phone/):
- `call_history`: the items of `GET /v2/phone/call_history` (Heavy), each landed as its detail `GET
  /v2/phone/call_history/{uuid}` (Light): the call's fields and its `call_elements`, verbatim, keyed by
  `call_history_uuid`. Landing the detail instead of the item walks the list once (the Heavy requests count
  in the daily quota); a call whose detail answers 404 (deleted in between) lands as its item, so that no
  call is lost, and is noted.
- `recordings`: `GET /v2/phone/recordings` (Medium) items verbatim, keyed by `id`.

Queries send `from`/`to` as full UTC timestamps (the bounds' inclusivity and the time zone of a date are not
documented), `to` the window's last second, `page_size=300` (the maximum; option `page_size`), and follow
`next_page_token` until it is empty. A token expires after 15 minutes: a walk whose token is refused starts
again from its first page (at most MAX_RESTARTS times; the landing keeps one copy of a record seen twice).
A query may span one month at most (longer windows are split) and must fall within the last six months:
a window older than that is skipped, one that starts before it is cut, each with a warning and a note.

Quotas (Pro plan, [ZM3]): Heavy 5/s plus 15,000 requests per day shared with Resource-intensive APIs
(option `daily_quota`, e.g. 30,000 on Business+), Light 20/s, Medium 10/s; a per-second 429 is honoured
and retried, a daily one fails the partition with the reset time (`QuotaSpentError`). A day of N calls costs
ceil(N/300) Heavy requests and N Light requests for `call_history`, and ceil(R/300) Medium requests for
R recordings.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

import httpx

from uc_pipeline.http import (
    ApiClient,
    AuthError,
    BadRequestError,
    HttpSettings,
    MalformedResponseError,
    PagingGuard,
    Quota,
)
from uc_pipeline.providers.base import ExtractStats, ProviderSource, Record, Window
from uc_pipeline.providers.zoomphone.auth import TokenGrantError, ZoomAuth, api_base
from uc_pipeline.providers.zoomphone.rates import rate_headers

if TYPE_CHECKING:
    from uc_pipeline.connections import Connection

log = logging.getLogger("uc_pipeline.providers.zoomphone")
HISTORY_PATH = "/v2/phone/call_history"
RECORDINGS_PATH = "/v2/phone/recordings"
PAGE_SIZE = 300
DAILY_HEAVY = 15_000
MAX_RESTARTS = 3
DETAIL_THREADS = 4  # details in flight at once within one partition (option `detail_threads`)
DETAIL_BATCH = 64  # items whose details are fetched together (their order is kept)
HISTORY_MONTHS = 6
MARGIN = timedelta(hours=1)  # kept off the six-month edge: Zoom's clock and ours differ a little
MAX_QUERY = timedelta(days=28)  # within "one month" whatever the month
REMEDY = ("Re-run the partition; if it fails again, Zoom's paging is broken for this window: report it to Zoom "
          "with the figures above.")


def batched(items: Iterator[tuple[str, Record]], size: int) -> Iterator[list[tuple[str, Record]]]:
    while batch := list(islice(items, size)):
        yield batch


def utc_now() -> datetime:
    """Now, for the six-month limit (a module function so that tests can move it)."""
    return datetime.now(UTC)


def months_before(value: datetime, months: int) -> datetime:
    month = value.month - 1 - months
    year, month = value.year + month // 12, month % 12 + 1
    for day in (value.day, 30, 29, 28):
        try:
            return value.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PageTokenExpired(Exception):
    """Zoom refused a `next_page_token` (expired after 15 minutes): the walk starts again."""


class ZoomPhoneSource(ProviderSource):
    provider_id = "zoomphone"
    title = "Zoom Phone"
    default_base_url = "https://api.zoom.us"
    credential_fields = ("account_id", "client_id", "client_secret")
    option_names = (*ProviderSource.option_names, "daily_quota", "page_size", "detail_threads")
    default_quotas: Mapping[str, Quota] = {
        "heavy": Quota(requests=5, per_seconds=1.0, per_day=DAILY_HEAVY, day_pool="heavy"),
        "light": Quota(requests=20, per_seconds=1.0),
        "medium": Quota(requests=10, per_seconds=1.0),
        # The token endpoint's limit is not documented; a grant is needed about once an hour.
        "auth": Quota(requests=5, per_seconds=1.0),
    }
    streams = {
        "call_history": "Each call of GET /phone/call_history as its detail (GET /phone/call_history/{uuid}): the "
                        "call and its call_elements (legs), verbatim.",
        "recordings": "Recording metadata (GET /phone/recordings), one per recording.",
    }
    reports_total = True

    def __init__(self, connection: Connection, settings: HttpSettings, *,
                 transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(connection, settings)
        missing = [f for f in self.credential_fields if not connection.credentials.get(f)]
        if missing:
            raise ValueError(f"[{connection.connection_id}] Zoom Phone needs the credential(s) {missing}; name "
                             "their environment variables under `credentials:` in the connections file")
        self._page_size = self._option_int(connection, "page_size", PAGE_SIZE, PAGE_SIZE)
        daily = self._option_int(connection, "daily_quota", DAILY_HEAVY, 10**9)
        self._detail_threads = self._option_int(connection, "detail_threads", DETAIL_THREADS, 32)
        quotas = {group: connection.quota(group) for group in self.default_quotas}
        quotas["heavy"] = dataclasses.replace(quotas["heavy"], per_day=daily, day_pool="heavy")
        self._auth = ZoomAuth(connection, settings)
        self._client = ApiClient(connection.connection_id, connection.base_url, quotas=quotas, settings=settings,
                                 auth=self._auth, rate_headers=rate_headers, secrets=connection.secret_values,
                                 headers={"Accept": "application/json"}, transport=transport)
        self._auth.bind(self._client)

    @staticmethod
    def _option_int(connection: Connection, name: str, default: int, highest: int) -> int:
        raw = connection.options.get(name, default)
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= highest:
            raise ValueError(f"[{connection.connection_id}] options.{name} must be an integer from 1 to {highest}, "
                             f"got {raw!r}")
        return raw

    # -- streams ---------------------------------------------------------------------------------------

    def records(self, stream: str, window: Window, stats: ExtractStats) -> Iterator[tuple[str, Record]]:
        if stream not in self.streams:
            raise ValueError(f"zoomphone has no stream {stream!r}; streams: {sorted(self.streams)}")
        clamped = self._clamp(window, stream, stats)
        if clamped is None:
            return
        if stream == "recordings":
            yield from self._walk(RECORDINGS_PATH, "recordings", "id", "date_time", "medium", clamped, window,
                                  stream, stats)
            return
        items = self._walk(HISTORY_PATH, "call_history", "call_history_uuid", "start_time", "heavy", clamped,
                           window, stream, stats)
        missing = 0
        with ThreadPoolExecutor(self._detail_threads, thread_name_prefix="zoom-detail") as pool:
            for batch in batched(items, DETAIL_BATCH):
                # Details come a few at a time: one request at a time, a partition could not use the Light
                # quota (20/s) in full; the shared limiter keeps the threads within it.
                details = pool.map(self._detail, [history_uuid for history_uuid, _ in batch])
                for (history_uuid, item), detail in zip(batch, details, strict=True):
                    if detail is None:
                        missing += 1
                    yield history_uuid, item if detail is None else detail
        if missing:
            stats.notes.append(f"{missing} call(s) had no detail (404): landed as their call history item")

    def _clamp(self, window: Window, stream: str, stats: ExtractStats) -> Window | None:
        """The part of `window` within Zoom's six months of history, or None (each cut warned and noted)."""
        oldest = months_before(utc_now(), HISTORY_MONTHS) + MARGIN
        if window.end <= oldest:
            note = (f"{stream} [{window.start.isoformat()}, {window.end.isoformat()}) is older than the six months "
                    f"Zoom serves (oldest {oldest.isoformat()}): skipped, nothing landed")
        elif window.start < oldest:
            note = f"{stream}: only from {oldest.isoformat()} on, the oldest moment Zoom serves (six months back)"
        else:
            return window
        log.warning("[%s] %s", self.connection.connection_id, note)
        stats.notes.append(note)
        return None if window.end <= oldest else Window(oldest.replace(microsecond=0) + timedelta(seconds=1),
                                                        window.end)

    def _walk(self, path: str, field: str, key: str, time_field: str, group: str, query: Window, window: Window,
              stream: str, stats: ExtractStats) -> Iterator[tuple[str, Record]]:
        """Every item of `field` in `query`, month by month, yielded once its time is in `window`."""
        start = query.start
        outside = 0
        while start < query.end:
            end = min(start + MAX_QUERY, query.end)
            for record in self._walk_query(path, field, key, group, Window(start, end), stream, stats):
                when = self._time(record, key, time_field, path)
                if window.start <= when < window.end:
                    yield str(record[key]), record
                else:
                    outside += 1
            start = end
        if outside:
            stats.notes.append(f"{outside} record(s) outside the window were left to their own day")

    def _walk_query(self, path: str, field: str, key: str, group: str, query: Window, stream: str,
                    stats: ExtractStats) -> Iterator[Record]:
        params = {"from": ts(query.start), "to": ts(query.end - timedelta(seconds=1)),
                  "page_size": str(self._page_size)}
        for attempt in range(MAX_RESTARTS + 1):
            guard = PagingGuard(self.title, self.connection, stream, query, remedy=REMEDY)
            token = ""
            try:
                while True:
                    body = self._get(path, {**params, **({"next_page_token": token} if token else {})}, group,
                                     continuing=bool(token))
                    records, total, token = self._check_page(body, field, key, path)
                    stats.pages += 1
                    cursor = f"page {guard.pages + 1} total_records={total}"
                    guard.page((r[key] for r in records), cursor, more=bool(token))
                    if total is not None:
                        stats.reported_total = max(stats.reported_total or 0, total)
                        guard.pages_justified(total, self._page_size, guard.pages, cursor)
                        guard.not_above_total(len(guard.seen), total, cursor)
                    yield from records
                    if not token:
                        return
            except PageTokenExpired:
                if attempt == MAX_RESTARTS:
                    raise guard.fail(f"Zoom refused {MAX_RESTARTS + 1} walks' next_page_token (it expires after 15 "
                                     "minutes)", f"page {guard.pages + 1}",
                                     "The pages came too slowly: check the quota settings and the network, then "
                                     "re-run the partition.") from None
                note = f"{stream}: a next_page_token expired (15 minutes); the walk started again"
                log.warning("[%s] %s", self.connection.connection_id, note)
                stats.notes.append(note)

    def _get(self, path: str, params: dict[str, str], group: str, *, continuing: bool) -> Any:
        url = api_base(self.connection, self._auth.current()) + path
        try:
            response = self._client.get(url, params=params, group=group)
        except TokenGrantError:
            raise
        except BadRequestError as exc:
            if continuing and exc.status == 400:
                # The first page of the same query was accepted: the token is what Zoom refuses now.
                raise PageTokenExpired() from None
            raise
        except AuthError as exc:
            raise AuthError(f"{exc} A freshly granted token was refused: check that the Server-to-Server OAuth "
                            "app has the scopes phone:read:list_call_logs:admin, phone:read:call_log:admin and "
                            "phone:read:list_call_recordings:admin.",
                            connection_id=exc.connection_id, status=exc.status) from None
        return self._client.parse_json(response)

    def _detail(self, history_uuid: str) -> Record | None:
        url = api_base(self.connection, self._auth.current()) + f"{HISTORY_PATH}/{history_uuid}"
        try:
            response = self._client.get(url, group="light")
        except BadRequestError as exc:
            if exc.status == 404:
                return None
            raise
        body = self._client.parse_json(response)
        if not isinstance(body, dict) or not isinstance(body.get("call_elements", []), list):
            raise self._malformed(HISTORY_PATH, f"the detail of {history_uuid} is not a call history detail")
        return body

    def _check_page(self, body: Any, field: str, key: str, path: str) -> tuple[list[Record], int | None, str]:
        if not isinstance(body, dict) or not isinstance(body.get(field), list):
            raise self._malformed(path, f"the body is not a {field} page (no `{field}` list)")
        for record in body[field]:
            if not isinstance(record, dict) or not isinstance(record.get(key), str) or not record[key]:
                raise self._malformed(path, f"an item has no string `{key}`")
        token = body.get("next_page_token") or ""
        if not isinstance(token, str):
            raise self._malformed(path, "`next_page_token` is not a string")
        total = body.get("total_records")
        total = total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None
        return body[field], total, token

    def _time(self, record: Record, key: str, time_field: str, path: str) -> datetime:
        raw = record.get(time_field)
        try:
            value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
        except ValueError:
            raise self._malformed(path, f"{record[key]} has an unreadable {time_field} {raw!r}") from None
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def _malformed(self, path: str, problem: str) -> MalformedResponseError:
        return MalformedResponseError(
            self._client.redact(f"[{self.connection.connection_id}] {path}: unexpected Zoom answer: {problem}. "
                                "Nothing of this partition was landed; check that base_url is Zoom's API "
                                "(https://api.zoom.us), re-run, and report it if it persists."),
            connection_id=self.connection.connection_id)

    def http_stats(self) -> Mapping[str, int]:
        return self._client.stats.as_dict()

    def close(self) -> None:
        self._client.close()


SOURCE = ZoomPhoneSource
