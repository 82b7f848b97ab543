"""The value types and errors of the HTTP layer (quotas, rate headers, settings, counters,
exceptions). Import them from `uc_pipeline.http`, which re-exports every one of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Quota:
    """At most `requests` requests in any `per_seconds` window; `penalty_seconds` after a 429.

    `default_throttle_wait_s` is how long to pause after a 429 that names no wait (no Retry-After,
    no reset header) when the quota has no penalty; None means one full window.
    """

    requests: int
    per_seconds: float
    penalty_seconds: float | None = None
    default_throttle_wait_s: float | None = None

    @property
    def throttle_wait_s(self) -> float:
        """The pause after a 429 that names no wait: the penalty, else the default, else a window."""
        if self.penalty_seconds is not None:
            return self.penalty_seconds
        if self.default_throttle_wait_s is not None:
            return self.default_throttle_wait_s
        return self.per_seconds


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
    # The largest response body read, decoded (a provider's largest documented page is a few MB); a
    # bigger one fails its partition instead of filling the memory.
    max_response_bytes: int = 32 * 1024 * 1024
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

    def __reduce__(self) -> tuple:
        # Errors cross process boundaries (process pools, Dagster's multiprocess executor); the default
        # pickling would call __init__ without the keyword-only arguments.
        return _rebuild_api_error, (type(self), str(self), self.connection_id, self.status)


def _rebuild_api_error(cls: type[ApiError], message: str, connection_id: str, status: int | None) -> ApiError:
    return cls(message, connection_id=connection_id, status=status)


class AuthError(ApiError):
    """401/403: wrong or revoked credentials, or missing permissions."""


class BadRequestError(ApiError):
    """400/404/422 (and other 4xx): the request is wrong; retrying will not help."""


class RetriesExhaustedError(ApiError):
    """5xx, resets, timeouts or 429s went on past the retry limit."""


class MalformedResponseError(ApiError):
    """The provider answered 2xx with a body that cannot be parsed; not retried."""


class ResponseTooLargeError(ApiError):
    """A response body over `HttpSettings.max_response_bytes`; not retried (the same page would come back)."""
