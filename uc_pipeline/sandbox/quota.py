"""Quota enforcement: a sliding window per (connection, rate group), counted exactly at request
arrival, with the RingCentral-style penalty that every request inside it restarts."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from uc_pipeline.sandbox.model import QuotaSpec, QuotaState


@dataclass
class _Bucket:
    accepted: deque[float] = field(default_factory=deque)  # monotonic arrival times inside the window
    penalty_until: float = 0.0


class QuotaBook:
    """Counts requests per (connection_id, group). Rejected requests do not use a slot."""

    def __init__(
        self, monotonic: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time
    ) -> None:
        self._monotonic = monotonic
        self._wall = wall
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def hit(self, connection_id: str, group: str, spec: QuotaSpec) -> QuotaState:
        """Count one request arriving now and say whether it is over the quota."""
        if spec.requests < 1 or spec.window_s <= 0:
            raise ValueError(f"quota {group!r} of {connection_id}: requests must be >= 1 and window_s > 0")
        with self._lock:
            now = self._monotonic()
            wall_offset = self._wall() - now
            bucket = self._buckets.setdefault((connection_id, group), _Bucket())
            while bucket.accepted and now - bucket.accepted[0] >= spec.window_s:
                bucket.accepted.popleft()
            if spec.penalty_s and now < bucket.penalty_until:
                bucket.penalty_until = now + spec.penalty_s
                return self._state(group, spec, bucket, now, wall_offset, exceeded=True)
            if len(bucket.accepted) >= spec.requests:
                if spec.penalty_s:
                    bucket.penalty_until = now + spec.penalty_s
                return self._state(group, spec, bucket, now, wall_offset, exceeded=True)
            bucket.accepted.append(now)
            return self._state(group, spec, bucket, now, wall_offset, exceeded=False)

    def peek(self, connection_id: str, group: str, spec: QuotaSpec) -> QuotaState:
        """The state without counting a request."""
        with self._lock:
            now = self._monotonic()
            bucket = self._buckets.get((connection_id, group)) or _Bucket()
            live = [t for t in bucket.accepted if now - t < spec.window_s]
            view = _Bucket(deque(live), bucket.penalty_until)
            return self._state(group, spec, view, now, self._wall() - now, exceeded=False)

    def reset(self, connection_id: str | None = None) -> None:
        """Forget counted requests (of one connection, or all)."""
        with self._lock:
            for key in [k for k in self._buckets if connection_id is None or k[0] == connection_id]:
                del self._buckets[key]

    @staticmethod
    def _state(
        group: str, spec: QuotaSpec, bucket: _Bucket, now: float, wall_offset: float, *, exceeded: bool
    ) -> QuotaState:
        used = len(bucket.accepted)
        in_penalty = bool(spec.penalty_s) and now < bucket.penalty_until
        # reset_at: the next moment a slot frees (the oldest counted request leaves the window, or the
        # penalty ends); retry_after: how long until a request would be accepted.
        frees_at = bucket.accepted[0] + spec.window_s if used else now
        accept_at = frees_at if used >= spec.requests else now
        if in_penalty:
            frees_at = max(frees_at, bucket.penalty_until)
            accept_at = max(accept_at, bucket.penalty_until)
        retry_after = max(accept_at - now, 0.0) if exceeded else None
        reset_at = frees_at + wall_offset
        return QuotaState(
            group=group,
            limit=spec.requests,
            remaining=0 if in_penalty else max(spec.requests - used, 0),
            window_s=spec.window_s,
            reset_at=reset_at,
            retry_after=retry_after,
            exceeded=exceeded,
        )
