"""Progress guards for the providers' paging loops: a provider that stops making progress fails the partition.

Owns `PagingGuard`, which every paging loop feeds page by page, and `PagingError`, the failure it
raises. A page that adds no record not seen before while announcing another page, a cursor that does
not advance or goes backwards, more pages than the provider's own reported total justifies, more
distinct records than that total, or a partition that outlives its time budget all end the extraction
with a message naming the provider, the connection, the stream, the window, the cursor values and
what to do. Nothing is bounded by a fixed page count: every limit follows from what the provider
itself reported (its total, its page size, the window) or from seconds spent.

Provider modules hold the rules of their own API (which field is the cursor, what a full page is);
this module holds the bookkeeping and the wording, so every provider fails the same way.
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Iterable
from typing import TYPE_CHECKING

from uc_pipeline.http.types import MalformedResponseError

if TYPE_CHECKING:
    from uc_pipeline.providers.base import SourceConnection, Window

# A partition taking longer than this is a provider that never ends, not a slow day: at the
# documented quotas the largest days seen take minutes. Lowered or raised per connection with the
# option `max_partition_seconds`.
DEFAULT_MAX_PARTITION_SECONDS = 6 * 3600.0
OPTION_SECONDS = "max_partition_seconds"


class PagingError(MalformedResponseError):
    """A provider's pages stopped making progress or contradict its own figures; not retried, nothing landed."""


class PagingGuard:
    """The progress bookkeeping of one partition's paging: distinct records, pages, cursor, seconds.

    `page(...)` is called once per page received, after its records were checked; it raises
    `PagingError` when the page shows that the loop would not end or would land a wrong count.
    """

    def __init__(
        self, title: str, connection: SourceConnection, stream: str, window: Window, *, remedy: str = ""
    ) -> None:
        self.title = title
        self.connection_id = connection.connection_id
        self.stream = stream
        self.window = window
        self.remedy = remedy
        raw = connection.options.get(OPTION_SECONDS, DEFAULT_MAX_PARTITION_SECONDS)
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
            raise ValueError(
                f"[{connection.connection_id}] options.{OPTION_SECONDS} must be a positive number of seconds, "
                f"got {raw!r}"
            )
        self.max_seconds = float(raw)
        self.started = time.monotonic()
        self.pages = 0
        self.seen: set[Hashable] = set()

    def fail(self, problem: str, cursor: str, remedy: str | None = None) -> PagingError:
        """The error naming provider, connection, stream, window and cursor, with what to do."""
        todo = remedy if remedy is not None else self.remedy
        window = f"[{self.window.start.isoformat()}, {self.window.end.isoformat()})"
        return PagingError(
            f"[{self.connection_id}] {self.title} {self.stream} {window}, {cursor}: {problem}. "
            f"Stopped after {self.pages} page(s) and {len(self.seen)} distinct record(s); nothing of this "
            f"partition was landed and the previous file is kept. {todo}".rstrip(),
            connection_id=self.connection_id,
        )

    def page(self, keys: Iterable[Hashable], cursor: str, *, more: bool) -> int:
        """Count one page of record keys; returns how many were not seen before in this partition.

        `more` says whether the provider announces another page: such a page must add a record, or
        the next request would ask for the same thing again.
        """
        self.pages += 1
        before = len(self.seen)
        self.seen.update(keys)
        added = len(self.seen) - before
        if more and added == 0:
            raise self.fail("the page holds no record not already seen, yet announces another page", cursor)
        self.check_time(cursor)
        return added

    def check_time(self, cursor: str) -> None:
        spent = time.monotonic() - self.started
        if spent > self.max_seconds:
            raise self.fail(
                f"the partition has been paging for {spent:.0f} s, past its budget of {self.max_seconds:.0f} s",
                cursor,
                f"If the day really is that large, raise options.{OPTION_SECONDS} of this connection and re-run "
                "the partition; otherwise report the provider's endless paging to the provider.",
            )

    def pages_justified(self, total: int, per_page: int, pages: int, cursor: str, *, slack: int = 1) -> None:
        """Fail when `pages` pages of one query exceed what the provider's reported `total` needs."""
        allowed = max(math.ceil(total / per_page), 1) + slack
        if pages > allowed:
            raise self.fail(
                f"{pages} pages requested where the reported total of {total} record(s) at {per_page} per "
                f"page needs at most {allowed}",
                cursor,
            )

    def not_above_total(self, landed: int, total: int, cursor: str) -> None:
        """Fail when more distinct records came than the provider says match the query."""
        if landed > total:
            raise self.fail(
                f"{landed} distinct records came back where the provider reports a total of {total}; "
                "its total or its pages are wrong",
                cursor,
            )
