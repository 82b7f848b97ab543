"""The shared HTTP layer: one rate-limited, retrying httpx client per connection.

Owns: quotas per (connection, rate group) shared by every process and thread, reading the
providers' rate headers to slow down before a 429, honouring 429s (counted), retrying 5xx,
resets and timeouts with backoff, failing fast with a helpful message on 400/401/403/404, and
keeping secrets out of every message. Provider modules describe their quotas and headers; they
never sleep or retry themselves.

NOTE: this is the interface with a simple in-process implementation; the shared limiter and the
full retry policy replace the internals behind the same API.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class Quota:
    """At most `requests` requests in any `per_seconds` window; `penalty_seconds` after a 429."""

    requests: int
    per_seconds: float
    penalty_seconds: float | None = None


@dataclass(frozen=True)
class RateHeaders:
    """What a provider's response says about its quota; every field is optional."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None  # UNIX seconds when the window resets
    retry_after: float | None = None  # seconds to wait (429 / 503)
    window: float | None = None  # window length in seconds


RateHeaderParser = Callable[[httpx.Response], RateHeaders]


@dataclass(frozen=True)
class HttpSettings:
    """How clients are built; the same for every connection of a run."""

    # Where quota state is shared: "sqlite:///<path>" (one machine, many processes),
    # "postgresql+psycopg2://..." (many machines) or "memory://" (one process, tests only).
    limiter_url: str = "memory://"
    timeout_s: float = 30.0
    max_attempts: int = 6
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    user_agent: str = "uc-pipeline/0.1"
    # Where clients may keep small state shared by processes (e.g. an OAuth token cache, mode 0600);
    # None keeps it in memory.
    state_dir: str | None = None


@dataclass
class HttpStats:
    requests: int = 0
    retries: int = 0
    throttled: int = 0  # 429s received: each one means the limiter was wrong
    bytes: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "retries": self.retries, "throttled": self.throttled,
                "bytes": self.bytes}


class ApiError(Exception):
    """A request failed for good; the message says which connection, what happened and what to check."""

    def __init__(self, message: str, *, connection_id: str, status: int | None = None) -> None:
        super().__init__(message)
        self.connection_id = connection_id
        self.status = status


class AuthError(ApiError):
    """401/403: wrong or revoked credentials, or missing permissions."""


class BadRequestError(ApiError):
    """400/404/422: the request is wrong; retrying will not help."""


class RetriesExhaustedError(ApiError):
    """5xx, resets, timeouts or 429s went on past the retry limit."""


class MalformedResponseError(ApiError):
    """The provider answered 2xx with a body that cannot be parsed; not retried."""


_RETRY_STATUSES = {429, 500, 502, 503, 504}
_HINTS = {
    400: "the request parameters (window, page size) and the provider's documented limits",
    401: "the credentials of this connection (environment variables named in the connections file)",
    403: "the credentials and the account's permissions for this API",
    404: "the connection's base_url and the account id",
}


@dataclass
class _Window:
    times: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


class ApiClient:
    """A rate-limited, retrying httpx client for one connection."""

    def __init__(
        self,
        connection_id: str,
        base_url: str,
        *,
        quotas: Mapping[str, Quota],
        settings: HttpSettings,
        auth: httpx.Auth | None = None,
        rate_headers: RateHeaderParser | None = None,
        secrets: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.connection_id = connection_id
        self.quotas = dict(quotas)
        self.settings = settings
        self.stats = HttpStats()
        self._rate_headers = rate_headers
        self._secrets = [s for s in secrets if s]
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self._client = httpx.Client(
            base_url=base_url,
            auth=auth,
            timeout=settings.timeout_s,
            headers={"User-Agent": settings.user_agent, **(headers or {})},
        )

    def redact(self, text: str) -> str:
        """`text` with every secret of this connection replaced by ***."""
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _acquire(self, group: str) -> None:
        quota = self.quotas.get(group) or self.quotas["default"]
        while True:
            with self._lock:
                w = self._windows.setdefault(group, _Window())
                now = time.monotonic()
                while w.times and now - w.times[0] >= quota.per_seconds:
                    w.times.popleft()
                wait = max(w.blocked_until - now, 0.0)
                if not wait and len(w.times) < quota.requests:
                    w.times.append(now)
                    return
                if not wait:
                    wait = quota.per_seconds - (now - w.times[0])
            time.sleep(max(wait, 0.001))

    def _block(self, group: str, seconds: float) -> None:
        with self._lock:
            w = self._windows.setdefault(group, _Window())
            w.blocked_until = max(w.blocked_until, time.monotonic() + seconds)

    def request(self, method: str, url: str, *, group: str = "default", **kwargs: Any) -> httpx.Response:
        """Send one request under the quota of `group`, retrying what is worth retrying."""
        last: str = ""
        for attempt in range(1, self.settings.max_attempts + 1):
            if attempt > 1:
                self.stats.retries += 1
            self._acquire(group)
            self.stats.requests += 1
            try:
                response = self._client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
                time.sleep(min(self.settings.backoff_base_s * 2 ** (attempt - 1), self.settings.backoff_max_s))
                continue
            self.stats.bytes += len(response.content)
            if response.status_code < 400:
                return response
            if response.status_code in _RETRY_STATUSES:
                last = f"HTTP {response.status_code}"
                if response.status_code == 429:
                    self.stats.throttled += 1
                info = self._rate_headers(response) if self._rate_headers else RateHeaders()
                wait = info.retry_after
                if wait is None and info.reset_at is not None:
                    wait = max(info.reset_at - time.time(), 0.0)
                if wait is None:
                    wait = min(self.settings.backoff_base_s * 2 ** (attempt - 1), self.settings.backoff_max_s)
                self._block(group, wait)
                continue
            raise self._error(response)
        raise RetriesExhaustedError(
            self.redact(
                f"[{self.connection_id}] {method} {url}: gave up after {self.settings.max_attempts} attempts "
                f"(last: {last}). The provider may be down; re-run the partition later."
            ),
            connection_id=self.connection_id,
        )

    def _error(self, response: httpx.Response) -> ApiError:
        status = response.status_code
        cls = AuthError if status in (401, 403) else BadRequestError
        body = response.text[:300].replace("\n", " ")
        hint = _HINTS.get(status, "the request and the provider's documentation")
        url = response.request.url.copy_with(query=None)
        return cls(
            self.redact(f"[{self.connection_id}] {response.request.method} {url} answered HTTP {status}: "
                        f"{body}. Check {hint}."),
            connection_id=self.connection_id,
            status=status,
        )

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def parse_json(self, response: httpx.Response) -> Any:
        """The JSON body, or MalformedResponseError naming the connection and the URL."""
        try:
            return json.loads(response.content)
        except ValueError as exc:
            raise MalformedResponseError(
                self.redact(f"[{self.connection_id}] {response.request.url.copy_with(query=None)}: malformed "
                            f"JSON page ({exc}). Nothing of this partition was landed; re-run it, and report "
                            "it if it persists."),
                connection_id=self.connection_id,
                status=response.status_code,
            ) from None

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
