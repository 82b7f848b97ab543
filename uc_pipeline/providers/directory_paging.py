"""The paging loop of a directory stream (agents, queues, lines, contacts): every page of one listing, in order.

A provider module says how to fetch one page (`fetch(url, params) -> DirectoryPage`: its records, the next
page's request if any, the provider's total if it reports one) and which field keys a record; this loop
feeds every page to a `PagingGuard`, so a listing that stops making progress, pages past what its own
total justifies or returns more entries than that total fails the snapshot, and nothing is landed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from uc_pipeline.http.paging import PagingGuard
from uc_pipeline.providers.base import ExtractStats, Record, Window

if TYPE_CHECKING:
    from uc_pipeline.connections import Connection


@dataclass(frozen=True)
class DirectoryPage:
    records: list[Record]
    # (path or same-origin URL, query parameters) of the next page; None on the last page.
    next: tuple[str, dict[str, str]] | None
    per_page: int
    # The provider's count of entries in the whole listing, where it reports one.
    total: int | None = None


def page_directory(
    title: str,
    connection: Connection,
    stream: str,
    first: tuple[str, dict[str, str]],
    fetch: Callable[[str, dict[str, str]], DirectoryPage],
    key: Callable[[Record], Any],
    stats: ExtractStats,
    *,
    remedy: str = "",
) -> Iterator[tuple[str, Record]]:
    """Yield `(record_id, record)` for every entry of the listing that starts at `first`."""
    now = datetime.now(UTC)
    # A snapshot has no window; the guard's messages name the second it was taken in.
    guard = PagingGuard(title, connection, stream, Window(now, now + timedelta(seconds=1)), remedy=remedy)
    url, params = first
    seen: set[str] = set()
    top_total: int | None = None
    page_no = 0
    while True:
        page_no += 1
        page = fetch(url, params)
        stats.pages += 1
        if page.total is not None:
            top_total = max(top_total or 0, page.total)
            stats.reported_total = top_total
        keys = []
        for record in page.records:
            record_id = str(key(record))
            keys.append(record_id)
            seen.add(record_id)
            yield record_id, record
        cursor = f"{url.split('?')[0]} page {page_no}"
        guard.page(keys, cursor, more=page.next is not None)
        if top_total is not None:
            guard.pages_justified(top_total, page.per_page, page_no, cursor)
            guard.not_above_total(len(seen), top_total, cursor)
        if page.next is None:
            return
        url, params = page.next
