"""8x8 XCaaS OAuth for the Cloud Storage Service client, as an `httpx.Auth`: the client-credentials grant and
its bearer tokens, shared like RingCentral's and Zoom's.

Source: 8x8's "OAuth Authentication for 8x8 XCaaS APIs"
(https://developer.8x8.com/analytics/docs/oauth-authentication-for-8x8-xcaas-apis; GitHub
8x8Cloud/public-developer-docs `docs/analytics/docs/oauth-authentication-for-8x8-xcaas-apis.md`, providers.md
3c [E9]): `POST https://api.8x8.com/oauth/v2/token`, HTTP Basic with the Admin Console API key as user and its
secret as password, form `grant_type=client_credentials`; the answer `{access_token, token_type: "BearerToken",
expires_in: "1799", issued_at: "<epoch ms>", api_product_list, ...}` gives `expires_in` and `issued_at` as
strings; requests then send `Authorization: Bearer <access_token>`. The page asks clients to reuse a token
until it expires rather than ask for one per request, and to handle an expired token's error: a 401 gets one
new token and one retry. There is no refresh token.

The token flow (the cached token, one renewal on a 401) and the stores are `CachedBearerAuth` and
`token_store` of `providers/ringcentral/auth.py`, reused: with `HttpSettings.state_dir`
set, `<state_dir>/eightbyeight/<connection>-<key>.json` (mode 0600) under an exclusive lock, so the processes
of a backfill share one token; otherwise in memory for the process. The key hashes the connection, the token
URL and the key/secret, so changed credentials never reuse an old token. Every token is registered for
redaction as it is granted or read (`TokenSet`), and the Basic form of key:secret before the first grant.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING, Any

import httpx

from uc_pipeline.http import ApiError, AuthError, HttpSettings, MalformedResponseError
from uc_pipeline.http.redact import SECRETS
from uc_pipeline.providers.ringcentral.auth import CachedBearerAuth, TokenSet, cache_key, token_store

if TYPE_CHECKING:
    from uc_pipeline.connections import Connection

TOKEN_PATH = "/oauth/v2/token"
GRANT = "client_credentials"
KEY_FIELDS = ("api_key", "api_secret")


class TokenGrantError(AuthError):
    """8x8 refused to issue a token for this connection's API key and secret."""


class StorageAuth(CachedBearerAuth):
    """Bearer tokens of one connection's API key; `bind` the ApiClient that sends the token requests."""

    def __init__(self, connection: Connection, settings: HttpSettings, token_url: str) -> None:
        self.token_url = token_url
        creds = connection.credentials
        self._basic = httpx.BasicAuth(str(creds["api_key"]), str(creds["api_secret"]))
        # The encoded key:secret must be known to the redaction before any request can echo it.
        basic_header = next(self._basic.auth_flow(httpx.Request("POST", token_url))).headers["Authorization"]
        SECRETS.add_authorization(basic_header)
        # The token endpoint is part of the key: a token of one 8x8 host is never sent to another.
        key = hashlib.sha256(f"{cache_key(connection, KEY_FIELDS)}\0{token_url}".encode()).hexdigest()[:24]
        super().__init__(connection, token_store(settings, "eightbyeight", connection, key))

    def _renew_locked(self, old: TokenSet | None) -> TokenSet:
        if self._client is None:
            raise RuntimeError("StorageAuth.bind(client) was not called")
        try:
            response = self._client.post(
                self.token_url,
                group="auth",
                data={"grant_type": GRANT},
                auth=self._basic,
                headers={"Accept": "application/json"},
            )
        except ApiError as exc:
            if exc.status is None or exc.status >= 500:
                raise
            what = str(exc).split(". Check ", 1)[0]
            raise TokenGrantError(
                self._client.redact(
                    f"{what}. 8x8 refused to issue a token. Check this connection's `api_key` and `api_secret`: "
                    "the key "
                    'and secret of an Admin Console API key with the Cloud Storage ("storage") product, created by a '
                    "user with the 'Cloud Storage API' assignment; or remove both to extract recordings without agent "
                    "names."
                ),
                connection_id=self.connection.connection_id,
                status=exc.status,
            ) from None
        fresh = self._token(self._client.parse_json(response), response)
        self._store.save(fresh)
        return fresh

    def _token(self, body: Any, response: httpx.Response) -> TokenSet:
        try:
            access = body["access_token"]
            expires_in = float(body["expires_in"])  # a string ("1799") in 8x8's answer
            if not isinstance(access, str) or not access or expires_in <= 0:
                raise ValueError("empty access_token or non-positive expires_in")
            return TokenSet(access, time.time() + expires_in, expires_in, None, None)
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedResponseError(
                f"[{self.connection.connection_id}] {response.request.url.copy_with(query=None)}: the token response "
                f"lacks a usable access_token/expires_in ({type(exc).__name__}: {exc}). Check the option "
                "storage_base_url (default https://api.8x8.com), where the token endpoint /oauth/v2/token lives.",
                connection_id=self.connection.connection_id,
                status=response.status_code,
            ) from None


__all__ = ["KEY_FIELDS", "TOKEN_PATH", "StorageAuth", "TokenGrantError"]
