"""Zoom Server-to-Server OAuth in the emulator: `POST /oauth/token` (`grant_type=account_credentials` and
`account_id`, in the form body or the query string; Basic client authentication) and the Bearer check of
every API request (401 code 124 for a missing, unknown, revoked or expired access token).

Source: providers.md section 7 [ZM1]: tokens live one hour (`expires_in` 3599), there is no refresh token,
several tokens of one app may be live at once, a token in the query string is refused, and the answer names
the account's regional `api_url`. Tokens live per emulator instance; the `token_expiry` fault kills a live
token on a data request, `wrong_credentials` refuses the client.
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
from uc_pipeline.sandbox.zoomphone.http import error, json_response, oauth_error

PROVIDER = "zoomphone"
ACCESS_TTL_S = 3599
SCOPE = "phone:read:list_call_logs:admin phone:read:call_log:admin phone:read:list_call_recordings:admin"


@dataclass
class _Token:
    connection_id: str
    access_token: str
    expires: datetime
    alive: bool = True


class TokenBook:
    """Issued tokens of one emulator instance; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_access: dict[str, _Token] = {}

    def issue(self, conn: SandboxConnection, now: datetime) -> tuple[_Token, int]:
        ttl = int(conn.options.get("access_token_ttl", ACCESS_TTL_S))
        token = _Token(conn.connection_id, "eyJzdiI6IjAwMDAwMSIsImFsZyI6IkhTNTEyIn0." + secrets.token_urlsafe(32),
                       now + timedelta(seconds=ttl))
        with self._lock:
            self._by_access[token.access_token] = token
        return token, ttl

    def lookup(self, access_token: str) -> _Token | None:
        with self._lock:
            return self._by_access.get(access_token)

    def kill(self, token: _Token) -> None:
        with self._lock:
            token.alive = False


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def api_url(request: Request) -> str:
    """The account's API host as the token names it: this sandbox's Zoom prefix (Zoom: api-<region>.zoom.us)."""
    return f"{str(request.base_url).rstrip('/')}/{PROVIDER}"


async def token_endpoint(ctx: SandboxContext, book: TokenBook, request: Request) -> Response:
    """POST /oauth/token."""
    creds = _basic(request)
    conn = None if creds is None else next(
        (c for c in ctx.connections(PROVIDER) if c.credentials.get("client_id") == creds[0]), None)
    if creds is None or conn is None or creds[1] != conn.credentials.get("client_secret") \
            or ctx.fault_fires(conn, "wrong_credentials"):
        return ctx.deliver(request, conn, oauth_error(400, "Invalid client_id or client_secret", "invalid_client"))
    body = parse_qs((await request.body()).decode("utf-8", "replace"))
    form = {k: v[-1] for k, v in body.items()}
    form.update({k: v for k, v in request.query_params.items() if k not in form})
    grant = form.get("grant_type", "")
    if grant != "account_credentials":
        answer = oauth_error(400, "unsupported grant type", "unsupported_grant_type")
    elif form.get("account_id") != conn.credentials.get("account_id"):
        answer = oauth_error(400, "Invalid account_id", "invalid_request")
    else:
        token, ttl = book.issue(conn, ctx.now())
        answer = json_response({"access_token": token.access_token, "token_type": "bearer", "expires_in": ttl,
                                "scope": SCOPE, "api_url": api_url(request)})
    return ctx.deliver(request, conn, answer)


def authenticate(ctx: SandboxContext, book: TokenBook, request: Request) -> tuple[SandboxConnection | None,
                                                                                 Response | None]:
    """(connection, None) for a request with a live Bearer token, else (connection or None, the 401)."""
    if "access_token" in request.query_params:
        return None, error(401, 124, "Invalid access token.")
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    token = book.lookup(value.strip()) if scheme.lower() == "bearer" and value.strip() else None
    conn = None if token is None else next(
        (c for c in ctx.connections(PROVIDER) if c.connection_id == token.connection_id), None)
    if token is None or conn is None or not token.alive:
        return conn, error(401, 124, "Invalid access token.")
    if ctx.now() >= token.expires:
        return conn, error(401, 124, "Access token is expired.")
    if ctx.fault_fires(conn, "wrong_credentials") or ctx.fault_fires(conn, "token_expiry"):
        book.kill(token)
        return conn, error(401, 124, "Access token is expired.")
    return conn, None
