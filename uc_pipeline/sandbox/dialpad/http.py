"""The Dialpad emulator's HTTP side: API-key authentication, quota admission (and, on request, rate
headers), injected errors, the call list's window and cursor paging, and the handlers of
`/api/v2/call` and `/api/v2/call/{id}`. What a Call looks like is `render`'s job; which calls exist is
the ground truth's, reached through the emulator (`CallSource`, which `DialpadEmulator` in `emulator.py` is).

Error bodies: Dialpad documents the statuses (400 with a detailed message, 401, 403, 404, 409, 413;
https://developers.dialpad.com/docs/http-status-code) but not their JSON; the one client seen reads
`error.message`, so errors are `{"error": {"code", "message", "errors": [{"domain", "reason",
"message"}]}}` (the Google Cloud Endpoints shape that field comes from; an inference).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.dialpad.render import native_call_id
from uc_pipeline.sandbox.model import Admission, Call, QuotaState, SandboxConnection
from uc_pipeline.sandbox.views import Window

PROVIDER_ID = "dialpad"
LIST_GROUP = "default"  # the call list (and the company's 20/s)
DETAIL_GROUP = "call_detail"  # GET /api/v2/call/{id}: 10 per minute
DEFAULT_LIMIT = 25
MAX_LIMIT = 100
RATE_HEADERS_OPTION = "rate_headers"  # connection option: send X-RateLimit-* (Dialpad documents none)
_REASONS = {400: "badRequest", 401: "required", 403: "forbidden", 404: "notFound", 429: "rateLimitExceeded",
            500: "backendError", 502: "backendError", 503: "backendError"}

Handler = Callable[[Request, SandboxConnection], Response]


class CallSource(Protocol):
    """What the handlers read of the emulator (declared here so that the emulator may import this module)."""

    def listed(self, ctx: SandboxContext, conn: SandboxConnection, start: datetime, end: datetime) -> Window: ...
    def render(self, ctx: SandboxContext, conn: SandboxConnection, calls: Sequence[Call]) -> list[dict[str, Any]]: ...


class QueryError(ValueError):
    """A bad query parameter; answered 400."""


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    reason = _REASONS.get(status, "backendError")
    body = {"error": {"code": status, "errors": [{"domain": "global", "message": message, "reason": reason}],
                      "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def unauthorized() -> JSONResponse:
    return error_response(401, "Invalid or missing API key: send a company admin key as `Authorization: Bearer "
                               "<key>`.")


def quota_headers(quota: QuotaState, *, throttled: bool = False) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(quota.limit),
        "X-RateLimit-Remaining": "0" if throttled else str(max(quota.remaining, 0)),
        "X-RateLimit-Reset": str(math.ceil(quota.reset_at)),
    }


def encode_cursor(after: int, before: int, offset: int) -> str:
    raw = json.dumps({"a": after, "b": before, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after, before, offset = int(data["a"]), int(data["b"]), int(data["o"])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise QueryError(f"Invalid cursor {cursor[:40]!r}: pass the cursor of the previous page unchanged") from None
    if offset < 0:
        raise QueryError("Invalid cursor: pass the cursor of the previous page unchanged")
    return after, before, offset


def _int_param(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise QueryError(f"`{name}` must be an integer, got {raw!r}") from None


def _instant(ms: int, name: str) -> datetime:
    try:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    except OverflowError:
        raise QueryError(f"`{name}` must be a UTC timestamp in milliseconds, got {ms}") from None


class DialpadApi:
    """The request handlers, bound to one sandbox context."""

    def __init__(self, emulator: CallSource, ctx: SandboxContext) -> None:
        self.emulator = emulator
        self.ctx = ctx

    def _authenticate(self, request: Request) -> tuple[SandboxConnection | None, Response | None]:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            key = request.query_params.get("apikey", "")  # the documented alternative to the header
        key = key.strip()
        conn = next((c for c in self.ctx.connections(PROVIDER_ID)
                     if key and hmac.compare_digest(c.credentials.get("api_key", ""), key)), None)
        if conn is None or self.ctx.fault_fires(conn, "wrong_credentials"):
            return conn, unauthorized()
        return conn, None

    async def _serve(self, request: Request, handler: Handler, group: str) -> Response:
        conn, failure = self._authenticate(request)
        if failure is not None:
            return self.ctx.deliver(request, conn, failure)
        assert conn is not None
        admission: Admission = await self.ctx.admit(request, conn, group)
        fault = admission.fault or ""
        throttled = admission.quota.exceeded or fault.startswith("storm_429")
        if throttled:
            headers = {"Retry-After": str(max(1, math.ceil(admission.quota.retry_after or 1.0)))} \
                if fault == "storm_429" else None
            response: Response = error_response(429, "Rate limit exceeded: slow down and retry later.", headers)
        elif fault.startswith("http_"):
            status = int(fault.removeprefix("http_"))
            response = error_response(status, "The service is temporarily unavailable. Please retry.")
        else:
            try:
                response = handler(request, conn)
            except QueryError as exc:
                response = error_response(400, str(exc))
        if conn.options.get(RATE_HEADERS_OPTION):
            response.headers.update(quota_headers(admission.quota, throttled=throttled))
        return self.ctx.deliver(request, conn, response)

    async def list_calls(self, request: Request) -> Response:
        return await self._serve(request, self._list_calls, LIST_GROUP)

    async def get_call(self, request: Request) -> Response:
        return await self._serve(request, self._get_call, DETAIL_GROUP)

    def _list_calls(self, request: Request, conn: SandboxConnection) -> Response:
        if request.query_params.get("target_id") or request.query_params.get("target_type"):
            raise QueryError("target_id/target_type filters are not emulated by the sandbox; list the company's calls")
        limit = _int_param(request, "limit")
        limit = DEFAULT_LIMIT if limit is None else limit
        if limit < 1:
            raise QueryError(f"`limit` must be between 1 and {MAX_LIMIT}, got {limit}")
        limit = min(limit, MAX_LIMIT)
        now_ms = int((self.ctx.now() - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))
        after = _int_param(request, "started_after")
        before = _int_param(request, "started_before")
        first_ms = int((datetime.combine(conn.history_start, time(0), tzinfo=UTC)
                        - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))
        after = first_ms - 1 if after is None else after
        before = now_ms + 1 if before is None else before
        offset = 0
        cursor = request.query_params.get("cursor")
        if cursor:
            c_after, c_before, offset = decode_cursor(cursor)
            if (c_after, c_before) != (after, before):
                raise QueryError("Invalid cursor: it belongs to another started_after/started_before query")
        # Both bounds exclusive: started_after < date_started < started_before.
        start, end = _instant(after + 1, "started_after"), _instant(before, "started_before")
        window = self.emulator.listed(self.ctx, conn, start, end) if start < end else None
        chunk = window.page(offset, limit, reverse=True) if window is not None else []
        more = window is not None and offset + len(chunk) < window.total
        body: dict[str, Any] = {"items": self.emulator.render(self.ctx, conn, chunk)}
        if more:
            body["cursor"] = encode_cursor(after, before, offset + len(chunk))
        return JSONResponse(body)

    def _get_call(self, request: Request, conn: SandboxConnection) -> Response:
        wanted = request.path_params["call_id"]
        day = conn.history_start
        now = self.ctx.now()
        # No index by id in the ground truth: scan day by day (this endpoint is rarely used).
        while datetime.combine(day, time(0), tzinfo=UTC) <= now:
            start = datetime.combine(day, time(0), tzinfo=UTC)
            for call in self.emulator.listed(self.ctx, conn, start, start + timedelta(days=1)).all():
                if native_call_id(call) == wanted:
                    return JSONResponse(self.emulator.render(self.ctx, conn, [call])[0])
            day += timedelta(days=1)
        return error_response(404, f"Call {wanted} not found.")
