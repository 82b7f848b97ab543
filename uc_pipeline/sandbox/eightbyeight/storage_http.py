"""The 8x8 emulator's Cloud Storage Service and XCaaS OAuth endpoints, under the emulator's prefix.

Owns `POST /oauth/v2/token` (HTTP Basic with the connection's `api_key`:`api_secret`, form
`grant_type=client_credentials`; the answer has the vendor sample's shape, `expires_in` "1799" and `issued_at`
as strings), `GET /storage/{region}/v3/regions` (the account's one region, `us-east`) and
`GET /storage/{region}/v3/objects` (Bearer; `filter` FIQL, `pageKey` offset from 0, `limit` 1-100, default 100;
`sortField`/`sortDirection` on createdTime; the answer `{content, lastPage, pageKey: offset + limit, pageSize,
total}` as 8x8's pagination example shows). Errors are JSON bodies `{status, error, message}`; a token request
with wrong credentials gets 401 `{"error": "invalid_client", ...}`. Tokens live per emulator instance.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.eightbyeight.storage import FilterError, ObjectFilter, parse_filter
from uc_pipeline.sandbox.model import SandboxConnection

PROVIDER_ID = "eightbyeight"
REGIONS = ["us-east"]
TOKEN_TTL_S = 1799
MAX_LIMIT = 100
_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
Lister = Callable[[SandboxContext, SandboxConnection, ObjectFilter], list[dict[str, Any]]]


def json_error(status: int, message: str = "", headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        {"status": status, "error": _REASONS.get(status, "Error"), "message": message},
        status_code=status,
        headers=headers,
    )


class StorageEndpoints:
    """Token, regions and objects answers; `lister` gives a connection's objects matching a filter, sorted."""

    def __init__(self, lister: Lister) -> None:
        self.lister = lister
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[str, datetime]] = {}  # access token -> (connection id, expiry)

    async def token(self, ctx: SandboxContext, request: Request) -> Response:
        conn = self._client(ctx, request.headers.get("authorization", ""))
        if request.method != "POST":
            return ctx.deliver(request, conn, json_error(400, "the token endpoint takes POST"))
        if conn is None or ctx.fault_fires(conn, "wrong_credentials"):
            return ctx.deliver(
                request,
                conn,
                JSONResponse({"error": "invalid_client", "error_description": "ClientId is Invalid"}, status_code=401),
            )
        admission = await ctx.admit(request, conn, "storage_auth")
        if (early := self._refused(admission)) is not None:
            return ctx.deliver(request, conn, early)
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return ctx.deliver(
                request,
                conn,
                JSONResponse(
                    {"error": "unsupported_grant_type", "error_description": "grant_type must be client_credentials"},
                    status_code=400,
                ),
            )
        access = secrets.token_urlsafe(21)
        now = ctx.now()
        with self._lock:
            self._tokens[access] = (conn.connection_id, now + timedelta(seconds=TOKEN_TTL_S))
        issued = str(int(time.time() * 1000))
        return ctx.deliver(
            request,
            conn,
            JSONResponse(
                {
                    "access_token": access,
                    "token_type": "BearerToken",
                    "api_product_list": "[storage]",
                    "status": "approved",
                    "scope": "",
                    "refresh_token_expires_in": "0",
                    "expires_in": str(TOKEN_TTL_S),
                    "refresh_count": "0",
                    "developer.email": "deprecated",
                    "issued_at": issued,
                    "client_id": "deprecated",
                    "api_product_list_json": ["storage"],
                }
            ),
        )

    async def regions(self, ctx: SandboxContext, request: Request) -> Response:
        conn, denied = self._bearer(ctx, request)
        if conn is None:
            return ctx.deliver(request, None, denied)
        admission = await ctx.admit(request, conn, "storage")
        early = self._refused(admission)
        return ctx.deliver(request, conn, early or JSONResponse(REGIONS))

    async def objects(self, ctx: SandboxContext, request: Request) -> Response:
        conn, denied = self._bearer(ctx, request)
        if conn is None:
            return ctx.deliver(request, None, denied)
        admission = await ctx.admit(request, conn, "storage")
        if (early := self._refused(admission)) is not None:
            return ctx.deliver(request, conn, early)
        return ctx.deliver(request, conn, self._page(ctx, conn, request))

    def _page(self, ctx: SandboxContext, conn: SandboxConnection, request: Request) -> Response:
        region = request.path_params.get("region", "")
        if region not in REGIONS:
            return json_error(404, f"region {region!r} holds no data of this customer; GET .../v3/regions lists them")
        q = request.query_params
        try:
            flt = parse_filter(q.get("filter"))
            page_key, limit = int(q.get("pageKey", "0")), int(q.get("limit", str(MAX_LIMIT)))
        except (FilterError, ValueError) as exc:
            return json_error(400, str(exc))
        if page_key < 0 or not 1 <= limit <= MAX_LIMIT:
            return json_error(400, f"pageKey must be >= 0 and limit between 1 and {MAX_LIMIT}")
        if q.get("sortField", "createdTime") != "createdTime" or q.get("sortDirection", "ASC") not in ("ASC", "DESC"):
            return json_error(400, "this emulator sorts on createdTime, ASC or DESC")
        found = self.lister(ctx, conn, flt)
        if q.get("sortDirection") == "DESC":
            found.reverse()
        content = found[page_key : page_key + limit]
        return JSONResponse(
            {
                "content": content,
                "lastPage": page_key + limit >= len(found),
                "pageKey": page_key + limit,
                "pageSize": len(content),
                "total": len(found),
            }
        )

    @staticmethod
    def _refused(admission: Any) -> Response | None:
        fault = admission.fault
        if fault in ("http_500", "http_502", "http_503"):
            return json_error(int(fault[5:]))
        if fault in ("storm_429", "storm_429_no_retry_after") or admission.quota.exceeded:
            wait = admission.quota.retry_after or 1.0
            headers = {} if fault == "storm_429_no_retry_after" else {"Retry-After": str(max(1, round(wait)))}
            return json_error(429, "rate limit exceeded", headers)
        return None

    @staticmethod
    def _client(ctx: SandboxContext, header: str) -> SandboxConnection | None:
        scheme, _, encoded = header.partition(" ")
        try:
            user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if scheme.lower() != "basic" or not sep:
            return None
        for conn in ctx.connections(PROVIDER_ID):
            if conn.credentials.get("api_key") == user and conn.credentials.get("api_secret") == password:
                return conn
        return None

    def _bearer(self, ctx: SandboxContext, request: Request) -> tuple[SandboxConnection | None, Response]:
        scheme, _, access = request.headers.get("authorization", "").partition(" ")
        with self._lock:
            entry = self._tokens.get(access.strip()) if scheme.lower() == "bearer" else None
        if entry is None or entry[1] <= ctx.now():
            return None, json_error(401, "missing, unknown or expired access token")
        conn = next((c for c in ctx.connections(PROVIDER_ID) if c.connection_id == entry[0]), None)
        return conn, json_error(401, "the token's connection is gone")
