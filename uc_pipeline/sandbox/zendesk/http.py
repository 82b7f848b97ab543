"""Zendesk's request pipeline in the sandbox: API-token auth, quota admission, injected faults, and
Zendesk's own error bodies and rate headers on every response.

Every Zendesk route runs through `handle`: authenticate (401 `Couldn't authenticate you`), count the
request against the connection's quota group (429 + `Retry-After`), answer an injected 5xx with the
body Zendesk sends, else call the route's handler; then add `X-Rate-Limit` / `X-Rate-Limit-Remaining`
and pass the response through `ctx.deliver`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.model import QuotaState, SandboxConnection

PROVIDER_ID = "zendesk"
EXPORT_GROUP = "default"  # incremental exports: 10 requests / minute
API_GROUP = "api"  # the account's Support API plan limit (Talk Partner Edition endpoints)

Handler = Callable[[Request, SandboxConnection], Awaitable[Response]]


def error_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


def unauthorized() -> Response:
    headers = {"WWW-Authenticate": 'Basic realm="Web Password"'}
    return error_response(401, {"error": "Couldn't authenticate you"}, headers)


def forbidden() -> Response:
    return error_response(403, {"error": {
        "title": "Forbidden",
        "message": "You do not have access to this page. Please contact the account owner of this help desk "
                   "for further help.",
    }})


def not_found() -> Response:
    return error_response(404, {"error": "RecordNotFound", "description": "Not found"})


def invalid(details: dict[str, list[dict[str, str]]]) -> Response:
    return error_response(422, {"error": "RecordInvalid", "description": "Record validation errors",
                                "details": details})


def bad_request(description: str) -> Response:
    return error_response(400, {"error": "InvalidValue", "description": description})


def rate_limited(retry_after: float | None) -> Response:
    headers = {"Retry-After": str(max(math.ceil(retry_after), 1))} if retry_after is not None else {}
    return error_response(429, {
        "error": "APIRateLimitExceeded",
        "description": "Number of allowed incremental export API requests per minute exceeded",
    }, headers)


def server_error(status: int) -> Response:
    if status == 502:
        # Zendesk's edge answers a bad gateway with an HTML page, not JSON.
        return Response("<html><body><h1>502 Bad Gateway</h1></body></html>", status_code=502,
                        media_type="text/html")
    title = "Service Unavailable" if status == 503 else "Internal Server Error"
    return error_response(status, {"error": {
        "title": title,
        "message": "Sorry, something went wrong. Please try again later.",
    }}, {"Retry-After": "1"} if status == 503 else None)


def _credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, token = decoded.partition(":")
    # API-token auth: the user name is `{email}/token`.
    if not sep or not user.endswith("/token"):
        return None
    return user[: -len("/token")], token


def authenticate(ctx: SandboxContext, request: Request) -> SandboxConnection | None:
    """The connection whose `email` and `api_token` the request carries, else None."""
    creds = _credentials(request)
    if creds is None:
        return None
    email, token = creds
    for conn in ctx.connections(PROVIDER_ID):
        if conn.credentials.get("email", "").lower() == email.lower() and hmac.compare_digest(
            conn.credentials.get("api_token", "").encode(), token.encode()
        ):
            return conn
    return None


def _quota_headers(response: Response, quota: QuotaState) -> None:
    response.headers["X-Rate-Limit"] = str(quota.limit)
    response.headers["X-Rate-Limit-Remaining"] = str(max(quota.remaining, 0))


async def handle(ctx: SandboxContext, request: Request, group: str, handler: Handler) -> Response:
    """Authenticate, admit, inject pre-response faults, run `handler`, add headers, deliver."""
    conn = authenticate(ctx, request)
    if conn is None:
        return ctx.deliver(request, None, unauthorized())
    if ctx.fault_fires(conn, "wrong_credentials"):
        return ctx.deliver(request, conn, unauthorized())
    admission = await ctx.admit(request, conn, group)
    quota, fault = admission.quota, admission.fault
    if quota.exceeded or fault == "storm_429":
        response = rate_limited(quota.retry_after if quota.retry_after is not None else 1.0)
    elif fault == "storm_429_no_retry_after":
        response = rate_limited(None)
    elif fault is not None and fault.startswith("http_"):
        response = server_error(int(fault.removeprefix("http_")))
    else:
        response = await handler(request, conn)
    _quota_headers(response, quota)
    return ctx.deliver(request, conn, response)
