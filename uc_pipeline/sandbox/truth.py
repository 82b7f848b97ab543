"""The ground truth (`GroundTruth`): the generated history of every sandbox connection, built lazily per
UTC day and kept in a bounded LRU cache, filtered by what was known at a given moment (`as_of`); and
the emulators' per-day views of it (`views`), bounded the same way."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from uc_pipeline.sandbox.directory import build_directory
from uc_pipeline.sandbox.generator import generate_day
from uc_pipeline.sandbox.model import Call, Directory, ProviderProfile, SandboxConnection
from uc_pipeline.sandbox.views import ViewCache, known_at

DEFAULT_CACHE_CALLS = 1_500_000  # calls kept in memory across cached days (about 0.7 GB)


class Truth:
    """Implements `GroundTruth`. `profile_of(provider)` says what each provider can express;
    `clock()` is the default `as_of`. `cache_calls` bounds the calls held by the day cache, and
    separately those held by the views."""

    def __init__(
        self,
        profile_of: Callable[[str], ProviderProfile],
        clock: Callable[[], datetime],
        cache_calls: int = DEFAULT_CACHE_CALLS,
    ) -> None:
        self._profile_of = profile_of
        self._clock = clock
        self._cache_calls = cache_calls
        self._days: OrderedDict[tuple, tuple[Call, ...]] = OrderedDict()
        self._cached = 0
        self._directories: dict[tuple, Directory] = {}
        self._lock = threading.RLock()
        self.views = ViewCache(self.day, cache_calls)

    def directory(self, conn: SandboxConnection) -> Directory:
        key = (conn.connection_id, conn.seed, conn.calls_per_day, conn.timezone)
        with self._lock:
            if key not in self._directories:
                self._directories[key] = build_directory(conn)
            return self._directories[key]

    def day(self, conn: SandboxConnection, day: date) -> tuple[Call, ...]:
        """Every call starting on UTC `day` as finally known (ignores `as_of` and `history_start`)."""
        profile = self._profile_of(conn.provider)
        key = (conn.provider, conn.connection_id, conn.seed, conn.calls_per_day, conn.timezone, profile, day)
        with self._lock:
            hit = self._days.get(key)
            if hit is not None:
                self._days.move_to_end(key)
                return hit
        calls = generate_day(conn, profile, self.directory(conn), day)
        with self._lock:
            if key not in self._days:
                self._days[key] = calls
                self._cached += len(calls)
                # Keep at least the newest day, however large.
                while self._cached > self._cache_calls and len(self._days) > 1:
                    _, old = self._days.popitem(last=False)
                    self._cached -= len(old)
        return calls

    def calls(
        self, conn: SandboxConnection, start: datetime, end: datetime, as_of: datetime | None = None
    ) -> list[Call]:
        """Calls with `start <= start_at < end` and on or after the connection's `history_start`, sorted by
        (start_at, call_id), as known at `as_of` (default now): calls not ended yet are left out, comments
        and tags added later are dropped."""
        start, end = _utc(start, "start"), _utc(end, "end")
        as_of = _utc(as_of, "as_of") if as_of is not None else self._clock()
        first = max(start, datetime.combine(conn.history_start, datetime.min.time(), UTC))
        limit = min(end, as_of + timedelta(microseconds=1))
        out: list[Call] = []
        if first >= limit:
            return out
        day = first.date()
        while datetime.combine(day, datetime.min.time(), UTC) < limit:
            for call in self.day(conn, day):
                if call.start_at < first or call.start_at >= end or call.end_at > as_of:
                    continue
                if call.comments or call.tags:
                    call = known_at(call, as_of)
                out.append(call)
            day += timedelta(days=1)
        return out


def _utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)
