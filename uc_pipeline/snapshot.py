"""Extract one directory snapshot (agents, queues, lines, contacts) of one connection into the landing zone.

A directory stream has no days: each extraction lands the whole directory as it is now, as one file
`<landing>/<provider>/<stream>/connection=<id>/snapshot=<UTC time>/part.parquet` with the same columns
as a daily partition (`_window_start` = `_window_end` = the snapshot time). Earlier snapshots stay, so the
warehouse keeps the history (first seen, last seen, the name at any time) of renamed and deleted entries.
The Dagster assets, the tests and the demo call `extract_snapshot`; it goes through the same HTTP layer,
quotas and redaction as the daily extraction.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from uc_pipeline.connections import Connection
from uc_pipeline.http import HttpSettings
from uc_pipeline.http.paging import PagingError
from uc_pipeline.landing import LandedPartition, write_partition
from uc_pipeline.providers import get_provider
from uc_pipeline.providers.base import ExtractStats

# A directory of more entries than this is an endless or lying listing, not a contact center.
MAX_DIRECTORY_RECORDS = 2_000_000


@dataclass
class SnapshotResult:
    connection_id: str
    provider: str
    stream: str
    taken_at: datetime
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
            **self.http,
            "file_bytes": self.landed.bytes,
            "snapshot": self.taken_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "path": str(self.landed.path),
        }


def directory_streams(provider: str) -> dict[str, str]:
    """The provider's directory streams, name -> description."""
    return dict(get_provider(provider).directory_streams)


def extract_snapshot(
    connection: Connection,
    stream: str,
    *,
    data_dir: str | Path,
    settings: HttpSettings,
    taken_at: datetime | None = None,
) -> SnapshotResult:
    """Fetch the whole directory stream now and land it as a new snapshot; nothing is landed on any error."""
    source_cls = get_provider(connection.provider)
    if stream not in source_cls.directory_streams:
        raise ValueError(
            f"{connection.provider} has no directory stream {stream!r}; "
            f"directory streams: {sorted(source_cls.directory_streams)}"
        )
    # Second precision: the folder name carries seconds, and the landed times must equal it.
    taken_at = (taken_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    stats = ExtractStats()
    started = time.monotonic()
    with source_cls(connection, settings) as source:

        def counted() -> Iterator[tuple[str, Any]]:
            for record_id, record in source.directory(stream, stats):
                stats.records += 1
                if stats.records > MAX_DIRECTORY_RECORDS:
                    raise PagingError(
                        f"[{connection.connection_id}] {source_cls.title} {stream}: more than "
                        f"{MAX_DIRECTORY_RECORDS} entries; the listing does not end, so nothing was landed. "
                        "Report it to the provider.",
                        connection_id=connection.connection_id,
                    )
                yield record_id, record
            total = stats.reported_total
            if total is not None and stats.records > total:
                raise PagingError(
                    f"[{connection.connection_id}] {source_cls.title} {stream}: {stats.records} entries came back "
                    f"where the provider reports {total}; nothing was landed. Re-run the snapshot.",
                    connection_id=connection.connection_id,
                )

        landed = write_partition(
            data_dir,
            connection.provider,
            stream,
            connection.connection_id,
            taken_at,
            counted(),
            window_start=taken_at,
            window_end=taken_at,
            extracted_at=taken_at,
        )
        http = dict(source.http_stats())
    return SnapshotResult(
        connection_id=connection.connection_id,
        provider=connection.provider,
        stream=stream,
        taken_at=taken_at,
        landed=landed,
        stats=stats,
        http=http,
        seconds=time.monotonic() - started,
    )

