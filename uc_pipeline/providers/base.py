"""What every provider module implements: a source that yields one stream's records for a window.

Provider modules hold no Dagster code. The asset factory only sees this interface: it opens a
source for a connection, asks for `(record_id, record)` pairs of a stream over a UTC window, and
reads the counters in `ExtractStats` for run metadata and the landed-count check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from uc_pipeline.connections import Connection
    from uc_pipeline.http import HttpSettings, Quota

Record = dict[str, Any]


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval `[start, end)`; both ends are timezone-aware."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("Window bounds must be timezone-aware (UTC)")
        if self.end <= self.start:
            raise ValueError(f"empty window {self.start.isoformat()} .. {self.end.isoformat()}")

    def split(self) -> tuple[Window, Window]:
        """Two halves, split at the midpoint rounded down to a whole second."""
        mid_s = int((self.start.timestamp() + self.end.timestamp()) // 2)
        mid = datetime.fromtimestamp(mid_s, tz=self.start.tzinfo)
        if mid <= self.start:
            raise ValueError(f"window {self} cannot be split below one second")
        return Window(self.start, mid), Window(mid, self.end)


@dataclass
class ExtractStats:
    """Counters one extraction fills in; the HTTP counters come from the client."""

    pages: int = 0
    records: int = 0
    # The provider's own count of matching records where the API reports one (Aircall
    # meta.total summed over the leaf windows, RingCentral paging.totalElements); None otherwise.
    reported_total: int | None = None
    windows_split: int = 0
    notes: list[str] = field(default_factory=list)

    def add_reported_total(self, n: int) -> None:
        self.reported_total = (self.reported_total or 0) + n


class ProviderSource:
    """Base class of one provider's extraction source, bound to one connection.

    Subclasses set the class attributes and implement `records`. They must use
    `uc_pipeline.http.ApiClient` for every request (rate limits, retries and redaction live there).
    """

    provider_id: ClassVar[str]
    title: ClassVar[str]
    default_base_url: ClassVar[str | None] = None
    credential_fields: ClassVar[tuple[str, ...]]
    # Documented quotas by rate group; "default" is the group most requests fall in.
    default_quotas: ClassVar[Mapping[str, Quota]]
    # stream name -> one-line description (becomes the asset description).
    streams: ClassVar[Mapping[str, str]]
    # True when the API reports its own count of matching records (sets ExtractStats.reported_total).
    reports_total: ClassVar[bool] = False

    def __init__(self, connection: Connection, settings: HttpSettings) -> None:
        self.connection = connection
        self.settings = settings

    def records(self, stream: str, window: Window, stats: ExtractStats) -> Iterator[tuple[str, Record]]:
        """Yield `(record_id, record)` for every record of `stream` in `window`, verbatim."""
        raise NotImplementedError

    def http_stats(self) -> Mapping[str, int]:
        """Requests, retries, 429s and bytes so far (from the provider's ApiClient)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release HTTP connections."""

    def __enter__(self) -> ProviderSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
