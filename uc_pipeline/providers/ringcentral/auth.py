"""RingCentral OAuth for the extraction client: the JWT bearer grant, single-use refresh tokens,
and a token cache shared by every process of a machine, as an `httpx.Auth`.

Why a shared cache: the Auth rate group allows 5 token requests per minute per user, so a backfill
that runs many partitions at once must reuse one token. With `HttpSettings.state_dir` set, tokens
are kept in `<state_dir>/ringcentral/<connection>-<key>.json` (mode 0600) and every renewal holds
an exclusive lock on a sibling lock file, so two processes never spend the same single-use refresh
token; without it they are kept in memory for the process. Keys hash the base URL and the
credentials, so changed credentials never reuse an old token.

Token requests go through the connection's `ApiClient` in the "auth" rate group, with Basic client
authentication. A 401 on a platform request gets one renewal (refresh, else a new JWT grant) and
one retry; a second 401 is left to the caller, which fails with a message saying what to check.

The token stores (`token_store`) and that flow (`CachedBearerAuth`) serve the other OAuth clients too:
Zoom Phone's stores and 8x8 Cloud Storage's `StorageAuth`, each with its own grant.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from uc_pipeline.http import ApiClient, ApiError, AuthError, HttpSettings, MalformedResponseError
from uc_pipeline.http.redact import register_secret

TOKEN_PATH = "/restapi/oauth/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
if TYPE_CHECKING:
    from uc_pipeline.connections import Connection

EXPIRY_MARGIN_S = 60.0  # renew a token this long before RingCentral says it expires


class TokenGrantError(AuthError):
    """RingCentral refused to issue a token for this connection's credentials."""


@dataclass
class TokenSet:
    access_token: str
    expires_at: float  # UNIX seconds
    lifetime_s: float  # expires_in as granted
    refresh_token: str | None
    refresh_expires_at: float | None

    def __post_init__(self) -> None:
        # Granted now or read from the cache: either way, no message may show them from here on.
        register_secret(self.access_token, self.refresh_token)

    def usable(self, now: float) -> bool:
        # A tenth of the lifetime for short-lived tokens, so that they are still used at all.
        return self.expires_at - now > min(EXPIRY_MARGIN_S, self.lifetime_s / 10)

    def refreshable(self, now: float) -> bool:
        return bool(self.refresh_token) and (self.refresh_expires_at or 0) > now + 5


class _MemoryStore:
    """Tokens of one process, shared by every source of the same connection key."""

    _tokens: dict[str, TokenSet] = {}
    _locks: dict[str, threading.Lock] = {}
    _guard = threading.Lock()

    def __init__(self, key: str) -> None:
        self.key = key
        with self._guard:
            self._lock = self._locks.setdefault(key, threading.Lock())

    def load(self) -> TokenSet | None:
        return self._tokens.get(self.key)

    def save(self, tokens: TokenSet) -> None:
        self._tokens[self.key] = tokens

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._lock:
            yield


class _FileStore:
    """Tokens shared by the processes of one machine: a 0600 JSON file and an flock'ed lock file."""

    def __init__(self, directory: Path, name: str) -> None:
        self.path = directory / f"{name}.json"
        self.lock_path = directory / f"{name}.lock"
        self._thread_lock = threading.Lock()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    def load(self) -> TokenSet | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return TokenSet(**data)
        except (OSError, ValueError, TypeError):
            # Missing or unreadable (e.g. written by another version): obtain a new token.
            return None

    def save(self, tokens: TokenSet) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(tokens), fh)
        os.replace(tmp, self.path)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._thread_lock:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)


def cache_key(connection: Connection, fields: tuple[str, ...] = ("client_id", "client_secret", "jwt")) -> str:
    """The token cache's key: the connection, its base URL and the credential `fields` it grants tokens with."""
    material = "\0".join([connection.connection_id, connection.base_url,
                          *(str(connection.credentials.get(f, "")) for f in fields)])
    return hashlib.sha256(material.encode()).hexdigest()[:24]


def file_store_name(connection: Connection, key: str) -> str:
    """A token file's name: the connection id made safe for a file name, then the cache key."""
    return f"{re.sub(r'[^A-Za-z0-9_.-]', '_', connection.connection_id)}-{key}"


def token_store(settings: HttpSettings, folder: str, connection: Connection, key: str) -> _MemoryStore | _FileStore:
    """Where one connection's tokens live: a file under `<state_dir>/<folder>/` shared by the processes of a
    backfill, or the process's memory without a state directory."""
    if settings.state_dir:
        return _FileStore(Path(settings.state_dir) / folder, file_store_name(connection, key))
    return _MemoryStore(f"{folder}-{key}")


class CachedBearerAuth(httpx.Auth):
    """Bearer tokens of one connection from a token store, shared by every client and process that uses it;
    a subclass obtains a new token in `_renew_locked`. `bind` the ApiClient that sends the token requests."""

    def __init__(self, connection: Connection, store: _MemoryStore | _FileStore) -> None:
        self.connection = connection
        self._store = store
        self._client: ApiClient | None = None

    def bind(self, client: ApiClient) -> None:
        self._client = client

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        tokens = self.current()
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"
        response = yield request
        if response.status_code == 401:
            # The token died early (revoked, refreshed by another process, server-side expiry).
            tokens = self.renew(tokens.access_token)
            request.headers["Authorization"] = f"Bearer {tokens.access_token}"
            yield request

    def current(self) -> TokenSet:
        """A usable access token: the cached one, else a renewed one."""
        tokens = self._store.load()
        if tokens is not None and tokens.usable(time.time()):
            return tokens
        with self._store.exclusive():
            tokens = self._store.load()
            if tokens is not None and tokens.usable(time.time()):
                return tokens
            return self._renew_locked(tokens)

    def renew(self, stale_access_token: str) -> TokenSet:
        """A new access token after `stale_access_token` was refused (unless another renewal beat us)."""
        with self._store.exclusive():
            tokens = self._store.load()
            if tokens is not None and tokens.access_token != stale_access_token and tokens.usable(time.time()):
                return tokens
            return self._renew_locked(tokens)

    def _renew_locked(self, old: TokenSet | None) -> TokenSet:
        """A new token, stored; called with the store's lock held and its current token (None when empty)."""
        raise NotImplementedError


class RingCentralAuth(CachedBearerAuth):
    """RingCentral's JWT grant and refresh tokens for one connection."""

    def __init__(self, connection: Connection, settings: HttpSettings) -> None:
        super().__init__(connection, token_store(settings, "ringcentral", connection, cache_key(connection)))

    def _renew_locked(self, old: TokenSet | None) -> TokenSet:
        fresh = None
        if old is not None and old.refreshable(time.time()):
            with contextlib.suppress(AuthError, ApiError):
                # A refused refresh (already used, revoked) is not fatal: the JWT can always be re-presented.
                fresh = self._grant({"grant_type": "refresh_token", "refresh_token": old.refresh_token or ""})
        if fresh is None:
            fresh = self._grant({"grant_type": JWT_GRANT, "assertion": str(self.connection.credentials["jwt"])})
        self._store.save(fresh)
        return fresh

    def _grant(self, form: dict[str, str]) -> TokenSet:
        if self._client is None:
            raise RuntimeError("RingCentralAuth.bind(client) was not called")
        basic = httpx.BasicAuth(str(self.connection.credentials["client_id"]),
                                str(self.connection.credentials["client_secret"]))
        conn_id = self.connection.connection_id
        try:
            response = self._client.post(TOKEN_PATH, group="auth", data=form, auth=basic,
                                         headers={"Accept": "application/json"})
        except ApiError as exc:
            if exc.status is None or exc.status >= 500 or form["grant_type"] == "refresh_token":
                raise
            what = str(exc).split(". Check ", 1)[0]  # the answer, without the generic hint
            if exc.status == 401:
                fix = ("Check this connection's `client_id` and `client_secret`: the credentials of a RingCentral "
                       "app that allows the JWT auth flow.")
            else:
                fix = ("Check this connection's `jwt`: a JWT credential (not revoked) of an administrator of this "
                       "account, usable with this app, and that the app allows the JWT auth flow.")
            raise TokenGrantError(self._client.redact(f"{what}. RingCentral refused to issue a token. {fix}"),
                                  connection_id=conn_id, status=exc.status) from None
        body = self._client.parse_json(response)
        return self._token_set(body, response)

    def _token_set(self, body: Any, response: httpx.Response) -> TokenSet:
        now = time.time()
        try:
            access = body["access_token"]
            expires_in = float(body["expires_in"])
            if not isinstance(access, str) or not access or expires_in <= 0:
                raise ValueError("empty access_token or non-positive expires_in")
            refresh = body.get("refresh_token")
            refresh_in = body.get("refresh_token_expires_in")
            return TokenSet(access, now + expires_in, expires_in, refresh if isinstance(refresh, str) else None,
                            now + float(refresh_in) if refresh_in is not None else None)
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedResponseError(
                f"[{self.connection.connection_id}] {response.request.url.copy_with(query=None)}: the token "
                f"response lacks a usable access_token/expires_in ({type(exc).__name__}: {exc}). Check that "
                "base_url points at the RingCentral platform (https://platform.ringcentral.com).",
                connection_id=self.connection.connection_id, status=response.status_code,
            ) from None
