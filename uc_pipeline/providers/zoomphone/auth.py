"""Zoom Server-to-Server OAuth for the extraction client, as an `httpx.Auth`: the `account_credentials`
grant, one-hour tokens with no refresh token (a new token is granted shortly before the old one expires),
and the token's regional `api_url`.

Source: providers.md section 7 [ZM1] (https://developers.zoom.us/docs/internal-apps/s2s-oauth/): `POST
https://zoom.us/oauth/token` with the form `grant_type=account_credentials&account_id=<id>` and Basic
client authentication; `{access_token, token_type, expires_in: 3599, scope, api_url}`; several tokens may
be live at once; a token in the query string is refused (401 code 124), so it only ever goes in the header.

Tokens are shared like RingCentral's (`providers/ringcentral/auth.py`, whose stores this reuses): with
`HttpSettings.state_dir` set, in `<state_dir>/zoomphone/<connection>-<key>.json` (mode 0600) under an
exclusive lock, so the processes of a backfill reuse one token instead of each asking for its own; without
it, in memory for the process. A 401
on an API request (code 124: invalid or expired token) gets a new token (one grant per dead token, however
many requests it failed) and a retry; a request still refused after MAX_TOKEN_RETRIES new tokens is left to
the caller, which fails with a message saying what to check.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from uc_pipeline.http import ApiClient, ApiError, AuthError, HttpSettings, MalformedResponseError
from uc_pipeline.providers.ringcentral.auth import TokenSet, _FileStore, _MemoryStore, cache_key, file_store_name

if TYPE_CHECKING:
    from uc_pipeline.connections import Connection

ZOOM_TOKEN_URL = "https://zoom.us/oauth/token"
GRANT = "account_credentials"
MAX_TOKEN_RETRIES = 5  # new tokens one request may try after 401s


class TokenGrantError(AuthError):
    """Zoom refused to issue a token for this connection's credentials."""


@dataclass
class ZoomToken(TokenSet):
    api_url: str | None = None  # the account's API host as the grant named it


class _ZoomFileStore(_FileStore):
    def load(self) -> ZoomToken | None:  # type: ignore[override]
        try:
            return ZoomToken(**json.loads(self.path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None  # missing or written by another version: a new token is granted


def token_url(base_url: str) -> str:
    """Zoom's token endpoint for Zoom's own hosts; `<base_url>/oauth/token` for anything else (the sandbox,
    a proxy serving both under one base)."""
    host = httpx.URL(base_url).host
    return ZOOM_TOKEN_URL if host == "zoom.us" or host.endswith(".zoom.us") else f"{base_url.rstrip('/')}/oauth/token"


class ZoomAuth(httpx.Auth):
    """Bearer tokens for one connection; `bind` the ApiClient that sends the token requests."""

    def __init__(self, connection: Connection, settings: HttpSettings) -> None:
        self.connection = connection
        key = cache_key(connection, ("account_id", "client_id", "client_secret"))
        if settings.state_dir:
            self._store: _MemoryStore | _ZoomFileStore = _ZoomFileStore(Path(settings.state_dir) / "zoomphone",
                                                                        file_store_name(connection, key))
        else:
            self._store = _MemoryStore(f"zoomphone-{key}")
        self._client: ApiClient | None = None
        self.token_url = token_url(connection.base_url)

    def bind(self, client: ApiClient) -> None:
        self._client = client

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        tokens = self.current()
        for attempt in range(MAX_TOKEN_RETRIES + 1):
            request.headers["Authorization"] = f"Bearer {tokens.access_token}"
            response = yield request
            if response.status_code != 401 or attempt == MAX_TOKEN_RETRIES:
                return
            # Code 124: the token expired early or was revoked. `renew` grants one new token per dead token:
            # requests of other threads refused for the same token get that one, not a grant each; a
            # request whose new token died too (requests in flight meanwhile) tries the next, a bounded
            # number of times.
            tokens = self.renew(tokens.access_token)

    def current(self) -> ZoomToken:
        """A usable token: the cached one, else a new grant (no refresh token exists)."""
        tokens = self._store.load()
        if isinstance(tokens, ZoomToken) and tokens.usable(time.time()):
            return tokens
        with self._store.exclusive():
            tokens = self._store.load()
            if isinstance(tokens, ZoomToken) and tokens.usable(time.time()):
                return tokens
            return self._grant_locked()

    def renew(self, stale_access_token: str) -> ZoomToken:
        """A new token after `stale_access_token` was refused (unless another process granted one since)."""
        with self._store.exclusive():
            tokens = self._store.load()
            if (isinstance(tokens, ZoomToken) and tokens.access_token != stale_access_token
                    and tokens.usable(time.time())):
                return tokens
            return self._grant_locked()

    def _grant_locked(self) -> ZoomToken:
        if self._client is None:
            raise RuntimeError("ZoomAuth.bind(client) was not called")
        creds = self.connection.credentials
        basic = httpx.BasicAuth(str(creds["client_id"]), str(creds["client_secret"]))
        form = {"grant_type": GRANT, "account_id": str(creds["account_id"])}
        try:
            response = self._client.post(self.token_url, group="auth", data=form, auth=basic,
                                         headers={"Accept": "application/json"})
        except ApiError as exc:
            if exc.status is None or exc.status >= 500:
                raise
            what = str(exc).split(". Check ", 1)[0]
            raise TokenGrantError(self._client.redact(
                f"{what}. Zoom refused to issue a token. Check this connection's `account_id`, `client_id` and "
                "`client_secret`: those of a Server-to-Server OAuth app of this account, activated, with the "
                "scopes phone:read:list_call_logs:admin, phone:read:call_log:admin and "
                "phone:read:list_call_recordings:admin."), connection_id=self.connection.connection_id,
                status=exc.status) from None
        fresh = self._token(self._client.parse_json(response), response)
        self._store.save(fresh)
        return fresh

    def _token(self, body: Any, response: httpx.Response) -> ZoomToken:
        try:
            access = body["access_token"]
            expires_in = float(body["expires_in"])
            if not isinstance(access, str) or not access or expires_in <= 0:
                raise ValueError("empty access_token or non-positive expires_in")
            api_url = body.get("api_url")
            return ZoomToken(access, time.time() + expires_in, expires_in, None, None,
                             api_url if isinstance(api_url, str) and api_url else None)
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedResponseError(
                f"[{self.connection.connection_id}] {response.request.url.copy_with(query=None)}: the token response "
                f"lacks a usable access_token/expires_in ({type(exc).__name__}: {exc}). Check that base_url is "
                "Zoom's API (https://api.zoom.us).",
                connection_id=self.connection.connection_id, status=response.status_code,
            ) from None


def api_base(connection: Connection, token: ZoomToken) -> str:
    """Where API requests go: the token's `api_url` when it is a Zoom host (or the connection's own origin),
    else the connection's base_url, so that the token is never sent to a host the connection does not name."""
    base = connection.base_url.rstrip("/")
    if not token.api_url:
        return base
    named, own = httpx.URL(token.api_url), httpx.URL(base)
    zoom = named.scheme == "https" and (named.host == "zoom.us" or named.host.endswith(".zoom.us"))
    same = (named.scheme, named.host, named.port) == (own.scheme, own.host, own.port)
    return str(named).rstrip("/") if zoom or same else base


__all__ = ["TokenGrantError", "ZoomAuth", "ZoomToken", "api_base", "token_url"]
