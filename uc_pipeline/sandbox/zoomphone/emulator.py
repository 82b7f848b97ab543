"""The Zoom Phone emulator: Server-to-Server OAuth (`POST /oauth/token`), the account's call history
(`GET /v2/phone/call_history`), one call's detail with its `call_elements` (`GET /v2/phone/call_history/
{callHistoryUuid}`) and the recordings list (`GET /v2/phone/recordings`), with Zoom's rate-limit categories
(Heavy, Light, Medium per second) and the daily quota of the Heavy pool, their `X-RateLimit-*` headers, its
`{code, message}` error bodies and 15-minute `next_page_token`s. Rendering and the canonical -> native
mapping: render.py.

Queries (providers.md section 7 [ZM2]): `from`/`to` as `yyyy-mm-dd` (a whole UTC day) or
`yyyy-MM-ddTHH:mm:ssZ` (inclusive, to the second); `to` without `from` and a `from` without `to` are refused,
the range may span at most one month and must start within the last six months (400 code 300); without
`from` the last 24 hours (recordings: 30 days). `page_size` default 30, at most 300. Calls are listed by
`start_time` (recordings by `date_time`), oldest first, once they have ended.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.model import Call, ProviderProfile, QuotaSpec, SandboxConnection
from uc_pipeline.sandbox.views import ViewSpec, Window, listed_days
from uc_pipeline.sandbox.zoomphone import render
from uc_pipeline.sandbox.zoomphone.auth import TokenBook, authenticate, token_endpoint
from uc_pipeline.sandbox.zoomphone.http import (
    daily_refused,
    error,
    json_response,
    qps_headers,
    refused,
    validation_failed,
)
from uc_pipeline.sandbox.zoomphone.paging import TOKEN_TTL_S, DailyBook, PageTokens, next_midnight

PROVIDER = "zoomphone"
DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 300
DAILY_HEAVY = 15_000  # Pro plan; Business+ 30,000 ([ZM3]); option `daily_limit`
DAILY_POOL = {"heavy": "heavy"}  # groups counted in a daily pool (Heavy and Resource-intensive share one)
STATE_KEY = "uc_sandbox"  # the request-state entry the sandbox core logs a request's admission from


class QueryError(ValueError):
    pass


@dataclass(frozen=True)
class ListQuery:
    start: datetime
    end: datetime  # exclusive
    page_size: int
    token: str
    raw_from: str
    raw_to: str
    key: tuple[str, ...]


def _add_months(value: datetime, months: int) -> datetime:
    month = value.month - 1 + months
    year, month = value.year + month // 12, month % 12 + 1
    for day in (value.day, 30, 29, 28):
        try:
            return value.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _bound(raw: str, name: str, *, end: bool) -> datetime:
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        value = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise QueryError(f"Invalid parameter: {name}.") from None
    return value + timedelta(seconds=1) if end else value


def parse_list_query(request: Request, now: datetime, default_span: timedelta, path: str) -> ListQuery:
    params = request.query_params
    raw_from, raw_to = params.get("from", ""), params.get("to", "")
    if raw_from and not raw_to:
        raise QueryError("Invalid parameter: to. It is required when from is given.")
    if raw_to and not raw_from:
        raise QueryError("Invalid parameter: from. It is required when to is given.")
    if raw_from:
        start, end = _bound(raw_from, "from", end=False), _bound(raw_to, "to", end=True)
    else:
        end, start = now, now - default_span
    if end <= start:
        raise QueryError("Invalid parameter: from must be before to.")
    if end - timedelta(seconds=1) > _add_months(start, 1):
        raise QueryError("The date range can not exceed one month.")
    if raw_from and start < _add_months(now, -6):
        raise QueryError("Only data of the last 6 months can be queried.")
    raw_size = params.get("page_size", str(DEFAULT_PAGE_SIZE))
    try:
        size = int(raw_size)
    except ValueError:
        raise QueryError("Invalid parameter: page_size.") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise QueryError(f"Invalid parameter: page_size. It must be from 1 to {MAX_PAGE_SIZE}.")
    key = (path, start.isoformat(), end.isoformat(), str(size))
    return ListQuery(start, end, size, params.get("next_page_token", ""), raw_from, raw_to, key)


class HistorySpec(ViewSpec):
    name = "zoomphone_call_history"


class RecordingSpec(ViewSpec):
    """A day's recordings: recorded calls whose recording starts that day, by recording start."""

    name = "zoomphone_recordings"

    def candidates(self, day_calls: Any, conn: SandboxConnection, day: date) -> list[Call]:
        calls = [*day_calls(day - timedelta(days=1)), *day_calls(day)]
        return [c for c in calls if c.recording is not None and c.agent is not None
                and c.recording.start_at.date() == day]

    def sort(self, conn: SandboxConnection, calls: list[Call]) -> None:
        calls.sort(key=lambda c: (c.recording.start_at if c.recording else c.start_at, c.call_id))

    def key(self, call: Call) -> Any:
        return call.recording.start_at if call.recording else call.start_at


HISTORY, RECORDINGS = HistorySpec(), RecordingSpec()
STREAMS = {"call_history": HISTORY, "recordings": RECORDINGS}


def window(ctx: SandboxContext, conn: SandboxConnection, spec: ViewSpec, start: datetime, end: datetime) -> Window:
    now = ctx.now()
    first = start - timedelta(days=1) if spec is RECORDINGS else start
    return ctx.truth.views.window(spec, conn, listed_days(conn, first, end, now), start, end, now)


class ZoomPhoneEmulator:
    provider_id = PROVIDER
    profile = ProviderProfile(
        outcomes=frozenset({"ANSWERED", "MISSED", "VOICEMAIL", "ABANDONED", "BUSY", "FAILED", "BLOCKED"}),
        internal_calls=True, direct_agent_access=True, hold=True,
    )
    # Pro plan, per second ([ZM3]): call history Heavy, its detail Light, recordings Medium.
    default_quotas: Mapping[str, QuotaSpec] = {"heavy": QuotaSpec(5, 1.0), "light": QuotaSpec(20, 1.0),
                                               "medium": QuotaSpec(10, 1.0)}
    fast_quotas: Mapping[str, QuotaSpec] = {"heavy": QuotaSpec(10, 1.0), "light": QuotaSpec(40, 1.0),
                                            "medium": QuotaSpec(20, 1.0)}
    credential_fields = ("account_id", "client_id", "client_secret")
    default_timezone = "America/New_York"
    query_defaults: Mapping[str, str] = {"page_size": str(DEFAULT_PAGE_SIZE)}

    def __init__(self) -> None:
        self._lookup_lock = threading.Lock()
        self._lookups: dict[tuple, dict[str, Call]] = {}

    def not_found(self, request: Request) -> Response:
        return error(404, 404, f"No API at {request.url.path}.")

    def pipeline_options(self, conn: SandboxConnection) -> Mapping[str, Any]:
        """An account with its own daily budget (option `daily_limit`) is configured with it, as its plan's."""
        return {"daily_quota": daily_limit(conn)} if "daily_limit" in conn.options else {}

    def routes(self, ctx: SandboxContext) -> list[BaseRoute]:
        # Per sandbox (one routes() call each): tokens, page tokens and the days' counts.
        book, pages, daily = TokenBook(), PageTokens(), DailyBook()

        async def token(request: Request) -> Response:
            return await token_endpoint(ctx, book, request)

        async def admitted(request: Request, group: str) -> tuple[SandboxConnection | None, Response | None,
                                                                   dict[str, str]]:
            conn, failure = authenticate(ctx, book, request)
            if failure is not None or conn is None:
                return conn, failure, {}
            admission = await ctx.admit(request, conn, group)
            answer = refused(admission)
            if answer is not None:
                return conn, answer, {}
            pool = DAILY_POOL.get(group)
            if pool is not None:
                limit = daily_limit(conn)
                if not daily.take(conn.connection_id, pool, limit, ctx.now()):
                    # Over the day's budget: the sandbox logs it as over a quota, as it does a per-second excess.
                    setattr(request.state, STATE_KEY, (conn.connection_id, group, True, None))
                    return conn, daily_refused(group, limit, next_midnight(ctx.now())), {}
            return conn, None, qps_headers(admission.quota)

        async def call_history(request: Request) -> Response:
            conn, answer, headers = await admitted(request, "heavy")
            if answer is None and conn is not None:
                answer = self._list(ctx, pages, conn, request, headers, HISTORY, "call_history",
                                    timedelta(hours=24), lambda c, d: render.list_item(conn, c, d))
            return ctx.deliver(request, conn, answer)

        async def history_detail(request: Request) -> Response:
            conn, answer, headers = await admitted(request, "light")
            if answer is None and conn is not None:
                call = self._find(ctx, conn, request.path_params["uuid"])
                answer = (json_response(self._served(ctx, conn, render.detail(conn, call, ctx.truth.directory(conn))),
                                        200, headers)
                          if call is not None else error(404, 3001, "Call history does not exist.", headers))
            return ctx.deliver(request, conn, answer)

        async def recordings(request: Request) -> Response:
            conn, answer, headers = await admitted(request, "medium")
            if answer is None and conn is not None:
                answer = self._list(ctx, pages, conn, request, headers, RECORDINGS, "recordings",
                                    timedelta(days=30), lambda c, d: render.recording(conn, c, d))
            return ctx.deliver(request, conn, answer)

        return [
            Route("/oauth/token", token, methods=["POST"]),
            Route("/v2/phone/call_history", call_history, methods=["GET"]),
            Route("/v2/phone/call_history/{uuid}", history_detail, methods=["GET"]),
            Route("/v2/phone/recordings", recordings, methods=["GET"]),
        ]

    def _served(self, ctx: SandboxContext, conn: SandboxConnection, record: dict[str, Any]) -> dict[str, Any]:
        return ctx.drift(conn, record, render.OPTIONAL_FIELDS)

    def _list(self, ctx: SandboxContext, pages: PageTokens, conn: SandboxConnection, request: Request,
              headers: dict[str, str], spec: ViewSpec, field: str, span: timedelta, draw: Any) -> Response:
        now = ctx.now()
        try:
            q = parse_list_query(request, now, span, request.url.path)
        except QueryError as exc:
            return validation_failed(str(exc), headers)
        offset = 0
        if q.token:
            found = pages.redeem(conn.connection_id, q.token, q.key, now,
                                 float(conn.options.get("page_token_ttl_s", TOKEN_TTL_S)),
                                 int(conn.options.get("expire_page_tokens", 0)))
            if found is None:
                return validation_failed("Invalid next_page_token. It may have expired: request the first page "
                                         "again.", headers)
            offset = found
        win = window(ctx, conn, spec, q.start, q.end)
        chunk = win.page(offset, q.page_size)
        directory = ctx.truth.directory(conn)
        more = offset + len(chunk) < win.total
        body = {field: [self._served(ctx, conn, draw(c, directory)) for c in chunk],
                "from": q.raw_from or render.ts(q.start), "to": q.raw_to or render.ts(q.end),
                "page_size": q.page_size, "total_records": win.total,
                "next_page_token": pages.issue(q.key, offset + len(chunk), now) if more else ""}
        return json_response(body, 200, headers)

    def _find(self, ctx: SandboxContext, conn: SandboxConnection, history_uuid: str) -> Call | None:
        try:
            day = datetime.strptime(history_uuid[:8], "%Y%m%d").replace(tzinfo=UTC)
        except ValueError:
            return None
        win = window(ctx, conn, HISTORY, day, day + timedelta(days=1))
        key = (conn.connection_id, conn.seed, conn.calls_per_day, conn.timezone, conn.history_start, day, win.total)
        with self._lookup_lock:
            index = self._lookups.get(key)
        if index is None:
            index = {render.history_uuid(conn, c): c for c in win.all()}
            with self._lookup_lock:
                if len(self._lookups) > 64:
                    self._lookups.clear()
                self._lookups[key] = index
        return index.get(history_uuid)

    # -- the ground truth ---------------------------------------------------------------------------

    def records(self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime,
                end: datetime) -> list[dict[str, Any]]:
        if stream not in STREAMS:
            raise ValueError(f"zoomphone has no stream {stream!r}; streams: {sorted(STREAMS)}")
        directory = ctx.truth.directory(conn)
        calls = window(ctx, conn, STREAMS[stream], start, end).all()
        if stream == "call_history":  # landed as each call's detail (the provider's source.py)
            return [self._served(ctx, conn, render.detail(conn, c, directory)) for c in calls]
        return [self._served(ctx, conn, render.recording(conn, c, directory)) for c in calls]

    def record_id(self, stream: str, record: dict[str, Any]) -> str:
        return str(record["id"] if stream == "recordings" else record["call_history_uuid"])

    def prepare(self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime,
                end: datetime) -> None:
        window(ctx, conn, STREAMS.get(stream, HISTORY), start, end)


def daily_limit(conn: SandboxConnection) -> int:
    raw = conn.options.get("daily_limit", DAILY_HEAVY)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ValueError(f"{conn.connection_id}: option daily_limit must be a positive integer, got {raw!r}")
    return raw


EMULATOR = ZoomPhoneEmulator()
