"""The retry policy of the HTTP layer: what is worth retrying and how long to wait.

Retries run on tenacity 9.2.1 (`Retrying` with a stop after `max_attempts`, exponential backoff with
jitter, and a wait that honours the server's `Retry-After` on 5xx); it expresses all of this
directly. A 429 is the exception: its pause must hold every process using the connection, so it is
stored in the shared limiter's gate (see `limiter`) and tenacity itself waits 0 before the
retry, whose slot acquisition then waits at that gate.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import httpx
import tenacity

from uc_pipeline.http.types import Quota, RateHeaders

log = logging.getLogger("uc_pipeline.http")

RETRY_STATUSES = frozenset({500, 502, 503, 504})
# Transport failures worth another try: timeouts, resets, refused or dropped connections, bodies cut
# short (RemoteProtocolError / ReadError / DecodingError of a truncated compressed body).
RETRYABLE_TRANSPORT: tuple[type[Exception], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.DecodingError,
)


class RetryableFailure(Exception):
    """One attempt failed in a way another attempt may fix. `wait_s` overrides the backoff (a
    server's Retry-After); `throttled` marks a 429 whose pause is held by the limiter's gate;
    `refused_local` a connection refused by a loopback address (a stopped sandbox, a wrong port)."""

    def __init__(self, reason: str, *, wait_s: float | None = None, throttled: bool = False,
                 refused_local: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait_s = wait_s
        self.throttled = throttled
        self.refused_local = refused_local


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date); None if absent or
    unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(when - (time.time() if now is None else now), 0.0)


def backoff_wait(base_s: float, max_s: float) -> Callable[[tenacity.RetryCallState], float]:
    """Tenacity wait: 0 after a 429 (the gate waits), the server's Retry-After when it sent one,
    else exponential backoff with jitter."""
    exponential = tenacity.wait_exponential_jitter(multiplier=base_s, max=max_s, jitter=base_s)

    def wait(state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableFailure):
            if exc.throttled:
                return 0.0
            if exc.wait_s is not None:
                return exc.wait_s
        return exponential(state)

    return wait


def retrying(
    max_attempts: int,
    base_s: float,
    max_s: float,
    before_sleep: Callable[[tenacity.RetryCallState], None],
    sleep: Callable[[float], None] = time.sleep,
) -> tenacity.Retrying:
    """A tenacity controller retrying `RetryableFailure` only; other errors propagate at once."""
    if max_attempts < 1:
        raise ValueError(f"HttpSettings.max_attempts must be >= 1, got {max_attempts}")
    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max_attempts),
        wait=backoff_wait(base_s, max_s),
        retry=tenacity.retry_if_exception_type(RetryableFailure),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )


def with_retry_after(info: RateHeaders, response: httpx.Response) -> RateHeaders:
    """`info`, with the standard Retry-After header filled in when the provider's parser gave none."""
    if info.retry_after is None and "retry-after" in response.headers:
        retry_after = parse_retry_after(response.headers["retry-after"])
        if retry_after is not None:
            return dataclasses.replace(info, retry_after=retry_after)
    return info


def reset_wait(info: RateHeaders, quota: Quota, connection_id: str) -> tuple[float, str]:
    """How long until a spent quota resets: the reported reset time, else one reported or configured
    window; capped at two windows (a reset further away means skewed clocks)."""
    if info.reset_at is not None:
        wait, source = info.reset_at - time.time(), "until its reset time"
    elif info.window is not None:
        wait, source = info.window, "one reported window"
    else:
        wait, source = quota.per_seconds, "one quota window"
    cap = max(2 * quota.per_seconds, 60.0)
    if wait > cap:
        log.warning("[%s] reset %.0fs away exceeds %.0fs (clock skew?); pausing %.0fs instead",
                    connection_id, wait, cap, cap)
        wait = cap
    return wait, source


def throttle_wait(info: RateHeaders, quota: Quota, connection_id: str) -> tuple[float, str]:
    """The pause after a 429: Retry-After, else the reset time, else the quota's penalty, else its
    default pause."""
    if info.retry_after is not None:
        return info.retry_after, f"Retry-After {info.retry_after:g}s"
    if info.reset_at is not None:
        return reset_wait(info, quota, connection_id)
    if quota.penalty_seconds is not None:
        return quota.penalty_seconds, f"no Retry-After; the quota's penalty of {quota.penalty_seconds:g}s"
    return quota.throttle_wait_s, f"no Retry-After; default pause of {quota.throttle_wait_s:g}s"
