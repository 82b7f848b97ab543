"""The quota side of `ApiClient`: httpx event hooks that take a slot of the request's rate group from
the shared limiter before each request is sent (the re-sends of an auth flow included) and release
it when the response arrives, read the provider's rate headers, and block the key for every process
after a 429 or a "0 remaining" that our own requests do not explain."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import httpx

from uc_pipeline.http.limiter import SharedLimiter
from uc_pipeline.http.redact import SECRETS
from uc_pipeline.http.retry import reset_wait, throttle_wait, with_retry_after
from uc_pipeline.http.types import HttpStats, Quota, RateHeaderParser, RateHeaders

log = logging.getLogger("uc_pipeline.http")
RATE_GROUP_EXTENSION = "uc_rate_group"


@dataclass
class Call:
    """One `request` call in progress on one thread: its rate group and the slots its requests hold."""

    group: str
    slots: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    throttle_source: str = ""


class QuotaHooks:
    """Mixed into `ApiClient`, which sets the attributes below."""

    connection_id: str
    quotas: dict[str, Quota]
    stats: HttpStats
    _limiter: SharedLimiter
    _stale_s: float
    _local: threading.local
    _stats_lock: threading.Lock
    _rate_headers: RateHeaderParser | None

    def redact(self, text: str) -> str:
        raise NotImplementedError

    def _calls(self) -> list[Call]:
        stack = getattr(self._local, "calls", None)
        if stack is None:
            stack = self._local.calls = []
        return stack

    def _quota(self, group: str) -> Quota:
        quota = self.quotas.get(group) or self.quotas.get("default")
        if quota is None:
            raise ValueError(f"[{self.connection_id}] no quota for rate group {group!r} and no 'default' quota; "
                             f"groups: {sorted(self.quotas)}")
        return quota

    def _key(self, group: str) -> str:
        return f"{self.connection_id}/{group}"

    def _on_request(self, request: httpx.Request) -> None:
        # Whatever credential an auth flow puts on the wire (a bearer token obtained at run time, a
        # client's Basic pair) is redacted from then on, whichever provider and flow it came from.
        SECRETS.add_authorization(request.headers.get("authorization"))
        calls = self._calls()
        call = calls[-1] if calls else Call("default")
        group = request.extensions.get(RATE_GROUP_EXTENSION) or call.group
        quota = self._quota(group)
        key = self._key(group)
        taken = self._limiter.acquire(key, quota.requests, quota.per_seconds, stale_s=self._stale_s)
        call.slots[id(request)] = (key, taken.slot, taken.counted)
        with self._stats_lock:
            self.stats.requests += 1

    def _on_response(self, response: httpx.Response) -> None:
        calls = self._calls()
        call = calls[-1] if calls else Call("default")
        entry = call.slots.pop(id(response.request), None)
        if entry is not None:
            self._limiter.release(entry[0], entry[1])
        group = response.request.extensions.get(RATE_GROUP_EXTENSION) or call.group
        info = self._read_rate_headers(response)
        key, quota = self._key(group), self._quota(group)
        if response.status_code == 429:
            with self._stats_lock:
                self.stats.throttled += 1
            wait, source = throttle_wait(info, quota, self.connection_id)
            blocked = self._limiter.block(key, wait, f"HTTP 429 from the provider ({source})")
            call.throttle_source = f"{source}; every process pauses {blocked:.2f}s on {key}"
        elif info.remaining is not None and info.remaining <= 0 and not self._spent_by_us(quota, info, entry):
            wait, source = reset_wait(info, quota, self.connection_id)
            if wait > 0:
                self._limiter.block(key, wait, f"the provider reported 0 requests remaining ({source})")

    @staticmethod
    def _spent_by_us(quota: Quota, info: RateHeaders, entry: tuple[str, int, int] | None) -> bool:
        """The provider's "0 remaining" is explained by our own requests: the same quota (as far as the
        headers tell), and the shared limiter counted it full when it gave this request its slot. Every
        request the provider counted then had been sent by us and counts in the limiter until a window
        after its response, so the limiter's next slot never comes before the provider's window has
        room; pausing until the provider's reset as well would only add the reset's rounding or a burst's
        length. Otherwise someone else spends the quota, or it is smaller than configured: the headers rule."""
        if entry is None:
            return False
        if info.limit is not None and info.limit < quota.requests:
            return False
        if info.window is not None and info.window > quota.per_seconds:
            return False
        return entry[2] >= quota.requests

    def _read_rate_headers(self, response: httpx.Response) -> RateHeaders:
        info = RateHeaders()
        if self._rate_headers is not None:
            try:
                info = self._rate_headers(response)
            except (ValueError, TypeError, KeyError) as exc:
                log.warning(self.redact(f"[{self.connection_id}] unreadable rate headers ignored: {exc}"))
        return with_retry_after(info, response)

