"""Extract one (connection, stream, day) partition into the landing zone, with no Dagster involved.

The Dagster assets, the CLI, the tests and the benchmarks all call `extract_partition`, so there
is one path from a provider API to a landed file, and one place that refuses to land more distinct
records than the provider reports for the window.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from uc_pipeline.connections import Connection
from uc_pipeline.http import HttpSettings
from uc_pipeline.http.paging import PagingError
from uc_pipeline.landing import LandedPartition, write_partition
from uc_pipeline.providers import get_provider
from uc_pipeline.providers.base import ExtractStats, Window


def day_window(day: date) -> Window:
    """The partition window of a UTC day: `[day 00:00, day+1 00:00)`."""
    start = datetime.combine(day, dtime(0), tzinfo=UTC)
    return Window(start, start + timedelta(days=1))


@dataclass
class ExtractResult:
    connection_id: str
    provider: str
    stream: str
    day: date
    window: Window
    landed: LandedPartition
    stats: ExtractStats
    http: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def metadata(self) -> dict[str, Any]:
        """Flat, secret-free figures for run metadata and logs."""
        return {
            "records": self.landed.rows,
            "duplicates_removed": self.landed.duplicates_removed,
            "pages": self.stats.pages,
            "reported_total": self.stats.reported_total,
            "windows_split": self.stats.windows_split,
            **self.http,
            "file_bytes": self.landed.bytes,
            "window": f"[{self.window.start.isoformat()}, {self.window.end.isoformat()})",
            "seconds": round(self.seconds, 3),
            "path": str(self.landed.path),
        }


def check_total(connection: Connection, stream: str, window: Window, distinct: int, stats: ExtractStats) -> None:
    """Fail when more distinct records came than the provider itself reports for the window.

    Fewer records than the total stays the asset check's warning (a record at the window's inclusive
    end, deleted while paging); more can only mean pages from another query or a wrong count.
    """
    total = stats.reported_total
    if total is None or distinct <= total:
        return
    title = get_provider(connection.provider).title
    raise PagingError(
        f"[{connection.connection_id}] {title} {stream} [{window.start.isoformat()}, {window.end.isoformat()}): "
        f"{distinct} distinct records came back in {stats.pages} page(s) where the provider reports a total of "
        f"{total}; the pages or the total are wrong, so nothing was landed and the previous file is kept. Re-run "
        "the partition; if it fails again, report it to the provider with these figures.",
        connection_id=connection.connection_id,
    )


def extract_partition(
    connection: Connection,
    stream: str,
    day: date,
    *,
    data_dir: str | Path,
    settings: HttpSettings,
) -> ExtractResult:
    """Fetch every record of `stream` for `day` and land it; the previous file stays on any error."""
    source_cls = get_provider(connection.provider)
    if stream not in source_cls.streams:
        raise ValueError(f"{connection.provider} has no stream {stream!r}; streams: {sorted(source_cls.streams)}")
    window = day_window(day)
    stats = ExtractStats()
    started = time.monotonic()
    with source_cls(connection, settings) as source:

        def counted() -> Iterator[tuple[str, Any]]:
            distinct: set[str] = set()
            for record_id, record in source.records(stream, window, stats):
                stats.records += 1
                distinct.add(record_id)
                yield record_id, record
            # Raised before the landing zone renames anything: the previous file stays.
            check_total(connection, stream, window, len(distinct), stats)

        landed = write_partition(
            data_dir,
            connection.provider,
            stream,
            connection.connection_id,
            day,
            counted(),
            window_start=window.start,
            window_end=window.end,
            extracted_at=datetime.now(UTC),
        )
        http = dict(source.http_stats())
    return ExtractResult(
        connection_id=connection.connection_id,
        provider=connection.provider,
        stream=stream,
        day=day,
        window=window,
        landed=landed,
        stats=stats,
        http=http,
        seconds=time.monotonic() - started,
    )
