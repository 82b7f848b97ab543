"""RingCentral OAuth in the emulator: `POST /restapi/oauth/token` (JWT bearer grant and single-use
refresh tokens, Basic client authentication, Auth rate group) and the Bearer check of every
platform request (401 for a missing, unknown, revoked or expired access token).

Tokens live per emulator instance (one per sandbox) and per connection. A refresh issues a new
pair and kills the old access token and the used refresh token, as RingCentral documents. The
`token_expiry` fault kills a live token on a data request; `wrong_credentials` refuses the client.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import Response

from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.model import SandboxConnection
from uc_pipeline.sandbox.ringcentral.http import json_response, oauth_error, quota_headers, refused, token_error
from uc_pipeline.sandbox.ringcentral.ids import OWNER_EXT_ID

PROVIDER = "ringcentral"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ACCESS_TTL_S = 3600
REFRESH_TTL_S = 604_800
SCOPE = "ReadAccounts ReadCallLog ReadCallRecording"


@dataclass
class _Token:
    connection_id: str
    access_token: str
    refresh_token: str
    access_expires: datetime
    refresh_expires: datetime
    ttl_s: int
    alive: bool = True  # access token usable
    refresh_used: bool = False


class TokenBook:
    """Issued tokens of one emulator instance; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_access: dict[str, _Token] = {}
        self._by_refresh: dict[str, _Token] = {}

    def issue(self, conn: SandboxConnection, now: datetime) -> _Token:
        ttl = int(conn.options.get("access_token_ttl", ACCESS_TTL_S))
        token = _Token(conn.connection_id, "U1BCMDFUMDRKV1MwMXxz" + secrets.token_urlsafe(24),
                       "U1BCMDFUMDRKV1MwMXxz" + secrets.token_urlsafe(24), now + timedelta(seconds=ttl),
                       now + timedelta(seconds=REFRESH_TTL_S), ttl)
        with self._lock:
            self._by_access[token.access_token] = token
            self._by_refresh[token.refresh_token] = token
        return token

    def redeem_refresh(self, conn: SandboxConnection, refresh_token: str, now: datetime) -> _Token | None:
        """Use a refresh token once: the old pair dies, a new pair is issued; None if not valid."""
        with self._lock:
            old = self._by_refresh.get(refresh_token)
            if (old is None or old.connection_id != conn.connection_id or old.refresh_used
                    or now >= old.refresh_expires):
                return None
            old.refresh_used = True
            old.alive = False
            self._by_access.pop(old.access_token, None)
            self._by_refresh.pop(old.refresh_token, None)
        return self.issue(conn, now)

    def lookup(self, access_token: str) -> _Token | None:
        with self._lock:
            return self._by_access.get(access_token)

    def kill(self, token: _Token) -> None:
        with self._lock:
            token.alive = False


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        client_id, sep, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (client_id, secret) if sep else None


def _find_client(ctx: SandboxContext, client_id: str) -> SandboxConnection | None:
    return next((c for c in ctx.connections(PROVIDER) if c.credentials.get("client_id") == client_id), None)


async def token_endpoint(ctx: SandboxContext, book: TokenBook, request: Request) -> Response:
    """POST /restapi/oauth/token."""
    creds = _basic_credentials(request)
    if creds is None:
        return ctx.deliver(request, None, oauth_error(
            401, "invalid_client", "OAU-123", "Invalid Authorization header value: client credentials are required"))
    conn = _find_client(ctx, creds[0])
    if conn is None:
        return ctx.deliver(request, None, oauth_error(401, "invalid_client", "OAU-146", "Invalid client credentials"))
    if creds[1] != conn.credentials.get("client_secret") or ctx.fault_fires(conn, "wrong_credentials"):
        return ctx.deliver(request, conn, oauth_error(401, "invalid_client", "OAU-146", "Invalid client credentials"))
    # The form is read before admission, which may hold the answer back (slow fault) while the client leaves.
    form = {k: v[-1] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    admission = await ctx.admit(request, conn, "auth")
    answer = refused(admission)
    if answer is not None:
        return ctx.deliver(request, conn, answer)
    now = ctx.now()
    grant = form.get("grant_type", "")
    if grant == JWT_GRANT:
        if not form.get("assertion") or form["assertion"] != conn.credentials.get("jwt"):
            answer = oauth_error(400, "invalid_grant", "OAU-140", "Invalid resource owner credentials.")
        else:
            answer = _token_response(book.issue(conn, now))
    elif grant == "refresh_token":
        token = book.redeem_refresh(conn, form.get("refresh_token", ""), now)
        answer = (_token_response(token) if token is not None
                  else oauth_error(400, "invalid_grant", "OAU-211", "Token is revoked"))
    elif not grant:
        answer = oauth_error(400, "invalid_request", "OAU-101", "Parameter [grant_type] is invalid")
    else:
        answer = oauth_error(400, "unsupported_grant_type", "OAU-112",
                             f"The client is unauthorized for the required grant type: [{grant}]")
    answer.headers.update(quota_headers(admission.quota))
    return ctx.deliver(request, conn, answer)


def _token_response(token: _Token) -> Response:
    # Field set and order of vendor-samples/ringcentral/oauth_token_jwt_response.http.
    return json_response({
        "access_token": token.access_token,
        "token_type": "bearer",
        "expires_in": token.ttl_s,
        "refresh_token": token.refresh_token,
        "refresh_token_expires_in": REFRESH_TTL_S,
        "scope": SCOPE,
        "owner_id": str(OWNER_EXT_ID),
    })


def authenticate(ctx: SandboxContext, book: TokenBook, request: Request) -> tuple[SandboxConnection | None,
                                                                                 Response | None]:
    """(connection, None) for a request with a live Bearer token, else (connection or None, the 401)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None, token_error("OAU-134", "InvalidAuthorizationHeader", "Invalid Authorization header.")
    token = book.lookup(value.strip())
    conn = None if token is None else next(
        (c for c in ctx.connections(PROVIDER) if c.connection_id == token.connection_id), None)
    if token is None or conn is None or not token.alive:
        return conn, token_error("OAU-129", "TokenInvalid", "Access token corrupted.")
    if ctx.now() >= token.access_expires:
        return conn, token_error("OAU-128", "TokenExpired", "Access token expired.")
    if ctx.fault_fires(conn, "wrong_credentials"):
        book.kill(token)
        return conn, token_error("OAU-129", "TokenInvalid", "Access token corrupted.")
    if ctx.fault_fires(conn, "token_expiry"):
        book.kill(token)
        return conn, token_error("OAU-128", "TokenExpired", "Access token expired.")
    return conn, None
