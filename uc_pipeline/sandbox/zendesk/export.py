"""The data behind Zendesk's incremental exports: every native record of a stream in `(updated_at, id)`
order as served at the sandbox's `now`, and the page a `start_time` answers.

Each UTC day of calls has a view (uc_pipeline/sandbox/views.py) in export order, keyed by the
records' `updated_at` second; a page merges the days' views from `start_time` on and renders only the
calls it serves, so it costs O(days + page) whatever the volume. Schema drift is applied afterwards,
only to what is served, and is deterministic per record.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from typing import Any

from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.model import Call, SandboxConnection
from uc_pipeline.sandbox.views import ViewSpec, listed_days, micros
from uc_pipeline.sandbox.zendesk.render import (
    CALL_OPTIONAL_FIELDS,
    LEG_OPTIONAL_FIELDS,
    render_call,
    render_legs,
    sort_key,
)

STREAMS = ("calls", "legs")
DEFAULT_PAGE_SIZE = 1000


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


class ExportView(ViewSpec):
    """A day's calls as one export stream lists them: the calls that started before `now` and have
    ended, by (`updated_at` second, id); the calls stream's `updated_at` moves with comments and tags,
    every leg's is the call's end."""

    int_keys = True

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self.name = f"zendesk.{stream}"

    def visible(self, conn: SandboxConnection, call: Call, as_of: datetime) -> bool:
        return call.end_at <= as_of and call.start_at < as_of

    def changes(self, conn: SandboxConnection, call: Call) -> Iterator[datetime]:
        yield from super().changes(conn, call)
        if call.end_at == call.start_at:
            # A call without duration is listed only once `now` is past its start, not at its end.
            yield call.start_at + timedelta(microseconds=1)

    def sort(self, conn: SandboxConnection, calls: list[Call]) -> None:
        calls.sort(key=lambda c: (self.key(c), c.call_id))

    def key(self, call: Call) -> int:
        return seconds(call.updated_at if self.stream == "calls" else call.end_at)


EXPORT_VIEWS = {stream: ExportView(stream) for stream in STREAMS}


def seconds(value: datetime) -> int:
    """UNIX seconds, truncated as the rendered ISO times are (exact, unlike a float timestamp)."""
    return micros(value) // 1_000_000


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


def _exported(ctx: SandboxContext, conn: SandboxConnection, stream: str, since: datetime,
              start_time: int) -> Iterator[tuple[int, Call]]:
    """`(updated_at second, call)` of every call that may have changed since `since` whose records
    `stream` exports from `start_time` on, in export order (all of a call's legs share its second and
    follow each other by id)."""
    if stream not in STREAMS:
        raise ValueError(f"zendesk has no stream {stream!r}; streams: {', '.join(STREAMS)}")
    now = ctx.now()
    first = scan_start(conn, since)
    if first >= now:
        return
    walks = ctx.truth.views.walk(EXPORT_VIEWS[stream], conn, listed_days(conn, first, now, now), start_time, now)
    for stamp, _, call in heapq.merge(*walks):
        if call.start_at >= first:
            yield stamp, call


def _renderer(ctx: SandboxContext, conn: SandboxConnection, stream: str) -> Callable[[Call], list[dict[str, Any]]]:
    if stream == "calls":
        directory = ctx.truth.directory(conn)
        return lambda call: [render_call(call, directory)]
    return render_legs


def export_page(ctx: SandboxContext, conn: SandboxConnection, stream: str, start_time: int, size: int) -> list[dict]:
    """The records, not yet drifted, of the page a request with `start_time` answers (`build_page`'s
    rule, applied call by call: a call's records never straddle a page)."""
    render = _renderer(ctx, conn, stream)
    items = _exported(ctx, conn, stream, datetime.fromtimestamp(start_time, tz=UTC), start_time)
    out: list[dict[str, Any]] = []
    last: int | None = None
    pending = next(items, None)
    while pending is not None and len(out) < size:
        last = pending[0]
        out.extend(render(pending[1]))
        pending = next(items, None)
    if last is None:
        return out
    while pending is not None and pending[0] == last:  # keep the last second whole
        out.extend(render(pending[1]))
        pending = next(items, None)
    if last == start_time and pending is not None:  # move the cursor: take the whole next second
        following = pending[0]
        while pending is not None and pending[0] == following:
            out.extend(render(pending[1]))
            pending = next(items, None)
    return out


def export_records(ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime,
                   end: datetime) -> list[dict]:
    """Every record, not yet drifted, with `start <= updated_at < end`, in export order."""
    render = _renderer(ctx, conn, stream)
    stop = seconds(end)
    out: list[dict[str, Any]] = []
    for stamp, call in _exported(ctx, conn, stream, start, seconds(start)):
        if stamp >= stop:
            break
        out.extend(render(call))
    return out


def drifted(ctx: SandboxContext, conn: SandboxConnection, stream: str, records: list[dict]) -> list[dict]:
    """`records` as served: schema drift applied when the connection's faults enable it; copies."""
    optional = CALL_OPTIONAL_FIELDS if stream == "calls" else LEG_OPTIONAL_FIELDS
    return [dict(ctx.drift(conn, dict(r), optional)) for r in records]
