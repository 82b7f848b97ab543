"""The Aircall emulator's HTTP side: Basic authentication, quota admission and headers, injected
errors, query parameters and `meta` paging, and the handlers of `/v1/calls`, `/v1/calls/{id}` and
`/v1/users`. What the records look like is `render`'s job; which calls exist is the ground truth's,
reached through the emulator (`CallSource`, which `AircallEmulator` in `emulator.py` is).
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from uc_pipeline.sandbox.aircall.render import native_call_id, render_user
from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.model import Admission, Call, QuotaState, SandboxConnection
from uc_pipeline.sandbox.views import Window

MAX_RECORDS_PER_QUERY = 10_000
DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 50
_SERVER_ERRORS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}

Handler = Callable[[Request, SandboxConnection], Response]


class CallSource(Protocol):
    """What the handlers read of the emulator (declared here so that the emulator may import this module)."""

    def listed(self, ctx: SandboxContext, conn: SandboxConnection, start: datetime, end: datetime) -> Window: ...
    def calls_between(
        self, ctx: SandboxContext, conn: SandboxConnection, start: datetime, end: datetime
    ) -> list[Call]: ...
    def render(self, ctx: SandboxContext, conn: SandboxConnection, calls: Sequence[Call]) -> list[dict[str, Any]]: ...


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


def _instant(unix_s: int, name: str) -> datetime:
    try:
        return datetime.fromtimestamp(unix_s, UTC)
    except (OverflowError, OSError, ValueError):
        raise QueryError(f"`{name}` must be a UNIX timestamp in seconds, got {unix_s}") from None


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


class AircallApi:
    """The request handlers, bound to one sandbox context."""

    def __init__(self, emulator: CallSource, ctx: SandboxContext) -> None:
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
        start = _instant(from_s, "from") if from_s is not None else history_start
        # `to` is inclusive in whole seconds: a call created at to + 0.5 s has started_at == to.
        end = _instant(to_s + 1, "to") if to_s is not None else now + timedelta(seconds=1)
        window = self.emulator.listed(self.ctx, conn, start, end) if end > start else None
        offset = (page - 1) * per_page
        if offset >= MAX_RECORDS_PER_QUERY:
            raise QueryError(
                f"Pagination is limited to {MAX_RECORDS_PER_QUERY} records per query: "
                "use the `from` and `to` parameters to narrow the query."
            )
        count = min(offset + per_page, MAX_RECORDS_PER_QUERY) - offset
        chunk = window.page(offset, count, reverse=order == "desc") if window is not None else []
        body = {
            "calls": self.emulator.render(self.ctx, conn, chunk),
            "meta": _page_meta(request, window.total if window is not None else 0, page, per_page, len(chunk)),
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
