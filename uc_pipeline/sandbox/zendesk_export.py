"""The data behind Zendesk's incremental exports: every native record of a stream in `(updated_at, id)`
order as served at the sandbox's `now`, and the page a `start_time` answers.

Rendering a connection's whole history for each request would dominate the sandbox's time, so the
sorted, not yet drifted records are kept for the latest few `now` values (a frozen clock renders
once); schema drift is applied afterwards, only to what is served, and is deterministic per record.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from uc_pipeline.sandbox.model import SandboxConnection, SandboxContext
from uc_pipeline.sandbox.zendesk_render import (
    CALL_OPTIONAL_FIELDS,
    LEG_OPTIONAL_FIELDS,
    render_call,
    render_legs,
    sort_key,
)

STREAMS = ("calls", "legs")
DEFAULT_PAGE_SIZE = 1000
CACHE_ENTRIES = 8


def page_size(conn: SandboxConnection) -> int:
    """The connection's export page size (option `page_size`, default Zendesk's 1000)."""
    size = conn.options.get("page_size", DEFAULT_PAGE_SIZE)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"zendesk connection {conn.connection_id}: option page_size must be an integer >= 1")
    return size


def scan_start(conn: SandboxConnection, since: datetime) -> datetime:
    """Where to look for calls that may have changed since `since`: the whole history by default,
    because comments and tags keep changing calls days after they started."""
    start = datetime.combine(conn.history_start, time(0), tzinfo=UTC)
    lookback = conn.options.get("update_lookback_days")
    if lookback is not None:
        # Only exact when no call changes more than `lookback` days after it started.
        start = max(start, since - timedelta(days=float(lookback)))
    return start


@dataclass(frozen=True)
class Rendered:
    records: list[dict[str, Any]]  # in export order, without drift
    stamps: list[int]  # updated_at UNIX seconds of each record

    def since(self, start_time: int) -> list[dict[str, Any]]:
        return self.records[bisect.bisect_left(self.stamps, start_time):]


def build_page(records: list[dict], start_time: int, size: int, stamps: list[int] | None = None) -> list[dict]:
    """The page of `records` (in export order) that a request with `start_time` answers: up to `size`
    records from `start_time` on, extended to keep the last second whole, and to the next second when
    the page would hold only `start_time` itself (so the cursor moves while newer records exist)."""
    stamps = stamps if stamps is not None else [sort_key(r)[0] for r in records]
    first = bisect.bisect_left(stamps, start_time)
    if first == len(records):
        return []
    n = min(first + size, len(records))
    last = stamps[n - 1]
    while n < len(records) and stamps[n] == last:
        n += 1
    if last == start_time and n < len(records):
        following = stamps[n]
        while n < len(records) and stamps[n] == following:
            n += 1
    return records[first:n]


class ExportData:
    """Rendered export streams per (sandbox, connection, stream, now), a few kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple, Rendered] = OrderedDict()

    def rendered(self, ctx: SandboxContext, conn: SandboxConnection, stream: str, since: datetime) -> Rendered:
        """Every record of `stream` of the calls that may have changed since `since`, in export order."""
        if stream not in STREAMS:
            raise ValueError(f"zendesk has no stream {stream!r}; streams: {', '.join(STREAMS)}")
        now, start = ctx.now(), scan_start(conn, since)
        key = (id(ctx), conn.connection_id, conn.seed, conn.calls_per_day, conn.timezone, conn.history_start,
               stream, now, start)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        records: list[dict[str, Any]] = []
        if start < now:
            calls = ctx.truth.calls(conn, start, now)
            if stream == "calls":
                directory = ctx.truth.directory(conn)
                records = [render_call(call, directory) for call in calls]
            else:
                records = [leg for call in calls for leg in render_legs(call)]
        records.sort(key=sort_key)
        rendered = Rendered(records, [sort_key(r)[0] for r in records])
        with self._lock:
            self._cache[key] = rendered
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return rendered


def drifted(ctx: SandboxContext, conn: SandboxConnection, stream: str, records: list[dict]) -> list[dict]:
    """`records` as served: schema drift applied when the connection's faults enable it; copies."""
    optional = CALL_OPTIONAL_FIELDS if stream == "calls" else LEG_OPTIONAL_FIELDS
    return [dict(ctx.drift(conn, dict(r), optional)) for r in records]
