"""The Aircall Public API emulator: `GET /v1/calls`, `GET /v1/calls/{id}`, `GET /v1/users`.

Behaviour as documented: HTTP Basic `api_id:api_token`; `from`/`to` filter on the call's creation
time (`started_at`, UNIX seconds, both bounds inclusive); `order` asc|desc (default asc); `page`
(1-based) and `per_page` (default 20, at most 50: larger values are served as 50); `meta` with
`count`, `total` (every record matching the query), `current_page`, `per_page`, `next_page_link`
(null on the last page) and `previous_page_link`, absolute links built from the request's own URL;
at most 10,000 records per query: a page starting past record 10,000 answers 400; 60 requests per
minute per company with `X-AircallApi-Limit`, `X-AircallApi-Remaining`, `X-AircallApi-Reset` (UNIX
seconds) on every response and 429 past it (no `Retry-After`). Errors are Aircall's JSON
`{"error": ..., "troubleshoot": ...}`.

How a canonical `Call` becomes an Aircall Call object (the staging models read these fields):

| canonical                   | Aircall native                                                                |
|-----------------------------|-------------------------------------------------------------------------------|
| call_id                     | `id` (int); `direct_link` = https://api.aircall.io/v1/calls/<id>; `sid` "CA…" |
| direction INBOUND/OUTBOUND  | `direction` inbound/outbound; INTERNAL calls are not listed (profile)         |
| (call finished)             | `status` = done (calls still in progress are not served)                      |
| start_at / answered_at / end_at | `started_at` / `answered_at` (null unless answered) / `ended_at`, UNIX s  |
| end_at - start_at           | `duration` (s; includes ringing and IVR)                                      |
| ANSWERED                    | `answered_at` set, `missed_call_reason` null                                  |
| MISSED out_of_hours         | `missed_call_reason` out_of_opening_hours                                     |
| MISSED no_agent_available   | `missed_call_reason` no_available_agent                                       |
| MISSED agents_did_not_answer| `missed_call_reason` agents_did_not_answer                                    |
| ABANDONED abandoned_in_ivr  | `missed_call_reason` abandoned_in_ivr                                         |
| ABANDONED abandoned_in_queue| `missed_call_reason` abandoned_in_classic                                     |
| ABANDONED short_abandoned   | `missed_call_reason` short_abandoned                                          |
| VOICEMAIL                   | `missed_call_reason` agents_did_not_answer + `voicemail` URL non-null         |
| OUTBOUND not answered       | `answered_at` null, `missed_call_reason` null (Aircall gives no reason)       |
| BUSY / FAILED / BLOCKED     | not expressible (profile outcomes exclude them)                               |
| hold_s, wrap_up_s           | not expressible (profile.hold=False; `user.wrap_up_time` is a user setting)   |
| wait_s                      | derived: answered_at - started_at (answered), ended_at - started_at (missed)  |
| queue (inbound)             | `number` {id=queue_id, name, digits} and `teams` [{id=queue_id, name}]        |
| no queue (outbound)         | `number` = the agent's own line (id 10,000,000 + agent_id), `teams` []        |
| agent                       | `user` {id=agent_id, name, email} when it took/made the call; absent when an  |
|                             | inbound call was not answered                                                 |
| contact                     | `contact` {id=contact_id, first_name, last_name, company_name, emails,        |
|                             | phone_numbers}; absent when the number is unknown                             |
| external_number             | `raw_digits`: international with spaces (`+44 330 818 6690`, `+1 415-555-0100`)|
|                             | or `anonymous`; strip spaces and dashes for E.164                             |
| recording                   | `recording` signed S3 URL (X-Amz-Expires=600), `asset` …/calls/<id>/recording |
| voicemail                   | `voicemail` signed S3 URL, `asset` …/calls/<id>/voicemail                     |
| transfers (agents, ordered) | `transferred_to` = last target, `transferred_by` = who handed over to it      |
|                             | (Aircall keeps one transfer: transfer_count is 0 or 1)                        |
| comments                    | `comments` [{id, content, posted_by (User), posted_at (UNIX s)}]              |
| tags                        | `tags` [{id, name, tagged_by (User of the call), tagged_at (UNIX s)}]         |
| is_private                  | not expressible                                                               |
| updated_at                  | not given by Aircall; derive max(ended_at, posted_at, tagged_at) if needed    |
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from uc_pipeline.sandbox.aircall_render import native_call_id, render_call, render_user
from uc_pipeline.sandbox.model import (
    Admission,
    Call,
    ProviderProfile,
    QuotaSpec,
    QuotaState,
    SandboxConnection,
    SandboxContext,
)

MAX_RECORDS_PER_QUERY = 10_000
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 50
STREAM = "calls"
# Fields schema drift may drop: the ones a consumer must already treat as possibly absent.
OPTIONAL_FIELDS: tuple[str, ...] = ("sid", "cost", "hangup_cause", "asset", "archived", "teams")


class QueryError(ValueError):
    """A bad query parameter; answered 400 with Aircall's error body."""


def error_response(status: int, error: str, troubleshoot: str) -> JSONResponse:
    return JSONResponse({"error": error, "troubleshoot": troubleshoot}, status_code=status)


def quota_headers(quota: QuotaState, *, throttled: bool = False) -> dict[str, str]:
    return {
        "X-AircallApi-Limit": str(quota.limit),
        "X-AircallApi-Remaining": "0" if throttled else str(max(quota.remaining, 0)),
        "X-AircallApi-Reset": str(math.ceil(quota.reset_at)),
    }


def _int_param(request: Request, name: str, default: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise QueryError(f"`{name}` must be an integer, got {raw!r}") from None


def _page_meta(request: Request, total: int, page: int, per_page: int, count: int) -> dict[str, Any]:
    has_next = (page - 1) * per_page + count < total and count > 0
    return {
        "count": count,
        "total": total,
        "current_page": page,
        "per_page": per_page,
        "next_page_link": str(request.url.include_query_params(page=page + 1)) if has_next else None,
        "previous_page_link": str(request.url.include_query_params(page=page - 1)) if page > 1 else None,
    }


def _paging(request: Request) -> tuple[int, int]:
    page = _int_param(request, "page", 1)
    per_page = _int_param(request, "per_page", DEFAULT_PER_PAGE)
    assert page is not None and per_page is not None
    if page < 1:
        raise QueryError(f"`page` starts at 1, got {page}")
    if per_page < 1:
        raise QueryError(f"`per_page` must be between 1 and {MAX_PER_PAGE}, got {per_page}")
    return page, min(per_page, MAX_PER_PAGE)


class AircallEmulator:
    provider_id = "aircall"
    profile = ProviderProfile(
        outcomes=frozenset({"ANSWERED", "MISSED", "VOICEMAIL", "ABANDONED"}),
        internal_calls=False,
        direct_agent_access=False,
        hold=False,
    )
    default_quotas: Mapping[str, QuotaSpec] = {"default": QuotaSpec(requests=60, window_s=60.0)}
    fast_quotas: Mapping[str, QuotaSpec] = {"default": QuotaSpec(requests=60, window_s=1.0)}
    credential_fields: tuple[str, ...] = ("api_id", "api_token")

    # -- ground truth -------------------------------------------------------------------------------

    def calls_between(self, ctx: SandboxContext, conn: SandboxConnection, start: datetime, end: datetime) -> list[Call]:
        """The calls `/v1/calls` lists for creation times in `[start, end)`, oldest first."""
        return [c for c in ctx.truth.calls(conn, start, end) if c.direction != "INTERNAL"]

    def render(self, ctx: SandboxContext, conn: SandboxConnection, calls: Sequence[Call]) -> list[dict[str, Any]]:
        agents = {a.agent_id: a for a in ctx.truth.directory(conn).agents}
        return [ctx.drift(conn, render_call(conn, call, agents), OPTIONAL_FIELDS) for call in calls]

    def records(
        self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        if stream != STREAM:
            raise ValueError(f"aircall has no stream {stream!r}; streams: {STREAM}")
        return self.render(ctx, conn, self.calls_between(ctx, conn, start, end))

    def record_id(self, stream: str, record: dict[str, Any]) -> str:
        return str(record["id"])

    # -- HTTP ---------------------------------------------------------------------------------------

    def routes(self, ctx: SandboxContext) -> list[BaseRoute]:
        api = _AircallApi(self, ctx)
        return [
            Route("/v1/calls", api.list_calls, methods=["GET"]),
            Route("/v1/calls/{call_id:int}", api.get_call, methods=["GET"]),
            Route("/v1/users", api.list_users, methods=["GET"]),
        ]


Handler = Callable[[Request, SandboxConnection], Response]
_SERVER_ERRORS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class _AircallApi:
    """The request handlers, bound to one sandbox context."""

    def __init__(self, emulator: AircallEmulator, ctx: SandboxContext) -> None:
        self.emulator = emulator
        self.ctx = ctx

    def _authenticate(self, request: Request) -> tuple[SandboxConnection | None, Response | None]:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        api_id = api_token = None
        sep = ""
        if scheme.lower() == "basic" and encoded:
            try:
                api_id, sep, api_token = base64.b64decode(encoded, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                api_id = None
            if not sep:
                api_id = None
        conn = next(
            (c for c in self.ctx.connections("aircall") if api_id and c.credentials.get("api_id") == api_id), None
        )
        valid = conn is not None and conn.credentials.get("api_token") == api_token
        if not valid or (conn is not None and self.ctx.fault_fires(conn, "wrong_credentials")):
            return conn, error_response(
                401, "Unauthorized",
                "Authenticate with HTTP Basic: your API ID as username and your API token as password.",
            )
        return conn, None

    async def _serve(self, request: Request, handler: Handler) -> Response:
        conn, failure = self._authenticate(request)
        if failure is not None:
            return self.ctx.deliver(request, conn, failure)
        assert conn is not None
        admission: Admission = await self.ctx.admit(request, conn, "default")
        throttled = admission.quota.exceeded or (admission.fault or "").startswith("storm_429")
        if throttled:
            response: Response = error_response(
                429, "Too Many Requests",
                "Rate limit reached: wait until the X-AircallApi-Reset time before sending more requests.",
            )
        elif admission.fault and admission.fault.startswith("http_"):
            status = int(admission.fault.removeprefix("http_"))
            response = error_response(status, _SERVER_ERRORS.get(status, "Server Error"),
                                      "Please retry later. If the problem persists, contact Aircall support.")
        else:
            try:
                response = handler(request, conn)
            except QueryError as exc:
                response = error_response(400, "Bad Request", str(exc))
        response.headers.update(quota_headers(admission.quota, throttled=throttled))
        return self.ctx.deliver(request, conn, response)

    async def list_calls(self, request: Request) -> Response:
        return await self._serve(request, self._list_calls)

    async def get_call(self, request: Request) -> Response:
        return await self._serve(request, self._get_call)

    async def list_users(self, request: Request) -> Response:
        return await self._serve(request, self._list_users)

    def _list_calls(self, request: Request, conn: SandboxConnection) -> Response:
        page, per_page = _paging(request)
        order = request.query_params.get("order", "asc")
        if order not in ("asc", "desc"):
            raise QueryError(f"`order` must be asc or desc, got {order!r}")
        history_start = datetime.combine(conn.history_start, time(0), tzinfo=UTC)
        now = self.ctx.now()
        from_s = _int_param(request, "from", None)
        to_s = _int_param(request, "to", None)
        start = datetime.fromtimestamp(from_s, UTC) if from_s is not None else history_start
        # `to` is inclusive in whole seconds: a call created at to + 0.5 s has started_at == to.
        end = datetime.fromtimestamp(to_s + 1, UTC) if to_s is not None else now + timedelta(seconds=1)
        calls = self.emulator.calls_between(self.ctx, conn, start, end) if end > start else []
        if order == "desc":
            calls.reverse()
        offset = (page - 1) * per_page
        if offset >= MAX_RECORDS_PER_QUERY:
            raise QueryError(
                f"Pagination is limited to {MAX_RECORDS_PER_QUERY} records per query: "
                "use the `from` and `to` parameters to narrow the query."
            )
        chunk = calls[offset:min(offset + per_page, MAX_RECORDS_PER_QUERY)]
        body = {
            "calls": self.emulator.render(self.ctx, conn, chunk),
            "meta": _page_meta(request, len(calls), page, per_page, len(chunk)),
        }
        return JSONResponse(body)

    def _get_call(self, request: Request, conn: SandboxConnection) -> Response:
        wanted = request.path_params["call_id"]
        day = conn.history_start
        now = self.ctx.now()
        # No index by id in the ground truth: scan day by day (this endpoint is rarely used).
        while datetime.combine(day, time(0), tzinfo=UTC) <= now:
            start = datetime.combine(day, time(0), tzinfo=UTC)
            for call in self.emulator.calls_between(self.ctx, conn, start, start + timedelta(days=1)):
                if native_call_id(call) == wanted:
                    return JSONResponse({"call": self.emulator.render(self.ctx, conn, [call])[0]})
            day += timedelta(days=1)
        return error_response(404, "Not Found", f"No call with id {wanted} in this company.")

    def _list_users(self, request: Request, conn: SandboxConnection) -> Response:
        page, per_page = _paging(request)
        agents = sorted(self.ctx.truth.directory(conn).agents, key=lambda a: a.agent_id)
        offset = (page - 1) * per_page
        if offset >= MAX_RECORDS_PER_QUERY:
            raise QueryError(f"Pagination is limited to {MAX_RECORDS_PER_QUERY} records per query.")
        chunk = agents[offset:offset + per_page]
        return JSONResponse({
            "users": [render_user(conn, a) for a in chunk],
            "meta": _page_meta(request, len(agents), page, per_page, len(chunk)),
        })


EMULATOR = AircallEmulator()
