"""Per-day views of the ground truth: the index behind the emulators' list endpoints.

A view is what one endpoint lists from one UTC day of one connection as known at a moment `as_of`:
the calls it shows, in the endpoint's order, with the key a query selects a window by, sorted for
`bisect`. `Window` strings the views of consecutive days together, cut to a key range, and reads a
page out of them without copying the rest, so a list request costs O(days + log n + page) once its
views exist, instead of re-filtering every call of every day it touches.

What a view holds depends on `as_of` only through which of its calls' changes (end, comments, tags,
and moments a provider adds, such as RingCentral's visibility delay) have happened by then. A view is
therefore cached under the number of those changes at or before `as_of`: under a frozen clock, or on
a day that no longer changes, each view is built once; a day that is still changing is rebuilt after
each change, never served stale. The cache is an LRU bounded by the calls its views hold, like the
truth's day cache.
"""

from __future__ import annotations

import dataclasses
import threading
from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from uc_pipeline.sandbox.model import Call, SandboxConnection

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_EVENTS_PER_WEIGHT = 8  # an event costs 8 bytes in its array; a view entry holds a call and its key


def micros(value: datetime) -> int:
    """Microseconds since the UNIX epoch: exact, unlike float timestamps."""
    return (value - _EPOCH) // _MICROSECOND


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def known_at(call: Call, as_of: datetime) -> Call:
    """`call` without the comments and tags added after `as_of` (the same object when none were)."""
    if not call.comments and not call.tags:
        return call
    comments = tuple(c for c in call.comments if c.posted_at <= as_of)
    tags = tuple(t for t in call.tags if t.added_at <= as_of)
    if len(comments) == len(call.comments) and len(tags) == len(call.tags):
        return call
    return dataclasses.replace(call, comments=comments, tags=tags)


def listed_days(conn: SandboxConnection, start: datetime, end: datetime, as_of: datetime) -> list[date]:
    """The UTC days whose calls can start in `[start, end)` and have ended by `as_of`, from the
    connection's `history_start` on (the days `GroundTruth.calls` walks)."""
    first = max(start.astimezone(UTC), midnight(conn.history_start))
    limit = min(end.astimezone(UTC), as_of.astimezone(UTC) + _MICROSECOND)
    days: list[date] = []
    day = first.date()
    while first < limit and midnight(day) < limit:
        days.append(day)
        day += timedelta(days=1)
    return days


class ViewSpec:
    """How one endpoint lists a day. Subclasses name themselves and override what differs; the default
    lists every call of the day that has ended by `as_of`, by (start_at, call_id), keyed by start_at."""

    name = "calls"
    int_keys = False  # keys are ints: kept in an array (8 bytes each)

    def candidates(self, day_calls: Callable[[date], Sequence[Call]], conn: SandboxConnection,
                   day: date) -> Sequence[Call]:
        """Every call that may appear in the day's view, as finally known; `day_calls(d)` gives the
        truth's calls starting on UTC day `d`, or none before the connection's history."""
        return day_calls(day)

    def visible(self, conn: SandboxConnection, call: Call, as_of: datetime) -> bool:
        return call.end_at <= as_of

    def changes(self, conn: SandboxConnection, call: Call) -> Iterable[datetime]:
        """Every moment at which the call's place or content in the view changes."""
        yield call.end_at
        for comment in call.comments:
            yield comment.posted_at
        for tag in call.tags:
            yield tag.added_at

    def sort(self, conn: SandboxConnection, calls: list[Call]) -> None:
        """Put the visible calls in the endpoint's order (in place); the truth's order is kept by default."""

    def key(self, call: Call) -> Any:
        """The window key; non-decreasing in the view's order."""
        return call.start_at


@dataclass(frozen=True)
class View:
    calls: Sequence[Call]
    keys: Sequence[Any]


@dataclass(frozen=True)
class Window:
    """The calls of consecutive views between two keys, in the views' order: `(view, first, stop)` parts."""

    parts: tuple[tuple[View, int, int], ...]

    @property
    def total(self) -> int:
        return sum(stop - first for _, first, stop in self.parts)

    def page(self, offset: int, count: int, *, reverse: bool = False) -> list[Call]:
        """Calls `offset .. offset + count - 1` of the window (of its reverse with `reverse`)."""
        total = self.total
        offset = max(offset, 0)
        if reverse:
            chunk = self._slice(max(total - offset - count, 0), max(total - offset, 0))
            chunk.reverse()
            return chunk
        return self._slice(min(offset, total), min(offset + max(count, 0), total))

    def all(self, *, reverse: bool = False) -> list[Call]:
        return self.page(0, self.total, reverse=reverse)

    def _slice(self, start: int, stop: int) -> list[Call]:
        out: list[Call] = []
        seen = 0
        for view, first, last in self.parts:
            size = last - first
            lo, hi = max(start - seen, 0), min(stop - seen, size)
            if lo < hi:
                out.extend(view.calls[first + lo:first + hi])
            seen += size
            if seen >= stop:
                break
        return out


class ViewCache:
    """Views per (spec, connection, day, changes seen), an LRU bounded by the calls they hold. Only the
    latest view built of a day is kept: under a running clock the older ones are never asked again."""

    def __init__(self, day_calls: Callable[[SandboxConnection, date], Sequence[Call]], max_calls: int) -> None:
        self._day_calls = day_calls
        self._max = max_calls
        self._entries: OrderedDict[tuple, tuple[Any, int]] = OrderedDict()
        self._latest: dict[tuple, tuple] = {}  # day ident -> key of its view in `_entries`
        self._weight = 0
        self._lock = threading.Lock()
        self.builds = 0  # views built since the start: what a cached request does not add to

    @property
    def held_calls(self) -> int:
        """The weight the cache holds now (calls of its views; event arrays count an eighth)."""
        return self._weight

    def view(self, spec: ViewSpec, conn: SandboxConnection, day: date, as_of: datetime) -> View:
        """The day's view as known at `as_of`."""
        ident = (spec.name, conn.provider, conn.connection_id, conn.seed, conn.calls_per_day, conn.timezone,
                 conn.history_start, day)
        candidates: Sequence[Call] | None = None
        events = self._get((ident, "events"))
        if events is None:
            candidates = spec.candidates(lambda d: self._truth_day(conn, d), conn, day)
            events = array("q", sorted(micros(t) for call in candidates for t in spec.changes(conn, call)))
            self._put((ident, "events"), events, len(events) // _EVENTS_PER_WEIGHT + 1)
        key = (ident, bisect_right(events, micros(as_of)))
        hit = self._get(key)
        if hit is not None:
            return hit
        if candidates is None:
            candidates = spec.candidates(lambda d: self._truth_day(conn, d), conn, day)
        calls = [known_at(c, as_of) for c in candidates if spec.visible(conn, c, as_of)]
        spec.sort(conn, calls)
        keys: Sequence[Any] = [spec.key(c) for c in calls]
        view = View(calls, array("q", keys) if spec.int_keys else keys)
        with self._lock:
            self.builds += 1
            older = self._latest.get(ident)
            if older is not None and older != key and older in self._entries:
                self._weight -= self._entries.pop(older)[1]
            self._latest[ident] = key
        self._put(key, view, len(calls) + 1)
        return view

    def window(self, spec: ViewSpec, conn: SandboxConnection, days: Iterable[date], low: Any, high: Any,
               as_of: datetime) -> Window:
        """The calls of `days` whose key is in `[low, high)` (None: unbounded), as known at `as_of`."""
        parts = []
        for day in days:
            view = self.view(spec, conn, day, as_of)
            first = bisect_left(view.keys, low) if low is not None else 0
            stop = bisect_left(view.keys, high) if high is not None else len(view.calls)
            if first < stop:
                parts.append((view, first, stop))
        return Window(tuple(parts))

    def walk(self, spec: ViewSpec, conn: SandboxConnection, days: Iterable[date], low: Any,
             as_of: datetime) -> list[Iterator[tuple[Any, int, Call]]]:
        """Per day, an iterator of `(key, call_id, call)` from the first key >= `low`, for merging views
        whose keys overlap (`heapq.merge`)."""
        out = []
        for day in days:
            view = self.view(spec, conn, day, as_of)
            first = bisect_left(view.keys, low)
            if first < len(view.calls):
                out.append(_walk(view, first))
        return out

    def _truth_day(self, conn: SandboxConnection, day: date) -> Sequence[Call]:
        return self._day_calls(conn, day) if day >= conn.history_start else ()

    def _get(self, key: tuple) -> Any:
        with self._lock:
            hit = self._entries.get(key)
            if hit is None:
                return None
            self._entries.move_to_end(key)
            return hit[0]

    def _put(self, key: tuple, value: Any, weight: int) -> None:
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (value, weight)
            self._weight += weight
            # Keep at least the newest entry, however large.
            while self._weight > self._max and len(self._entries) > 1:
                (ident, what), (_, old) = self._entries.popitem(last=False)
                self._weight -= old
                if self._latest.get(ident) == (ident, what):
                    del self._latest[ident]


def _walk(view: View, first: int) -> Iterator[tuple[Any, int, Call]]:
    keys, calls = view.keys, view.calls
    for i in range(first, len(calls)):
        call = calls[i]
        yield keys[i], call.call_id, call
