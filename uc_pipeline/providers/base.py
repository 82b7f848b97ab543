"""What every provider module implements: a source that yields one stream's records for a window.

Provider modules hold no Dagster code. The asset factory only sees this interface: it opens a
source for a connection, asks for `(record_id, record)` pairs of a stream over a UTC window, and
reads the counters in `ExtractStats` for run metadata and the landed-count check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from uc_pipeline.http.types import HttpSettings, Quota

Record = dict[str, Any]


class SourceConnection(Protocol):
    """What a source reads of its connection (`uc_pipeline.connections.Connection` is one). Declared
    here, not imported, so that the connections module may look providers up without an import circle."""

    @property
    def connection_id(self) -> str: ...
    @property
    def base_url(self) -> str: ...
    @property
    def credentials(self) -> Mapping[str, Any]: ...
    @property
    def options(self) -> Mapping[str, Any]: ...
    @property
    def secret_values(self) -> list[str]: ...

    def quota(self, group: str = "default") -> Quota: ...


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


@dataclass
class ExtractStats:
    """Counters one extraction fills in; the HTTP counters come from the client."""

    pages: int = 0
    records: int = 0
    # The provider's own count of matching records for the window where the API reports one (Aircall
    # meta.total, RingCentral paging.totalElements; the largest a page reported); None otherwise.
    # `extract_partition` refuses to land more distinct records than this.
    reported_total: int | None = None
    # Queries added because one reached the provider's per-query cap (Aircall: 10,000 calls).
    windows_split: int = 0
    notes: list[str] = field(default_factory=list)


class ProviderSource:
    """Base class of one provider's extraction source, bound to one connection.

    Subclasses set the class attributes and implement `records`. They must use
    `uc_pipeline.http.ApiClient` for every request (rate limits, retries and redaction live there).
    """

    provider_id: ClassVar[str]
    title: ClassVar[str]
    default_base_url: ClassVar[str | None] = None
    credential_fields: ClassVar[tuple[str, ...]]
    optional_credential_fields: ClassVar[tuple[str, ...]] = ()  # checked when named, never required
    # Documented quotas by rate group; "default" is the group most requests fall in.
    default_quotas: ClassVar[Mapping[str, Quota]]
    # stream name -> one-line description (becomes the asset description).
    streams: ClassVar[Mapping[str, str]]
    # Directory stream name -> one-line description: agents, queues, lines, contacts; landed whole, as
    # snapshots (`directory`), not by day.
    directory_streams: ClassVar[Mapping[str, str]] = {}
    # True when the API reports its own count of matching records (sets ExtractStats.reported_total).
    reports_total: ClassVar[bool] = False
    # The `options:` a connection of this provider may set; the connections file refuses any other.
    option_names: ClassVar[tuple[str, ...]] = ("max_partition_seconds",)

    def __init__(self, connection: SourceConnection, settings: HttpSettings) -> None:
        self.connection = connection
        self.settings = settings

    def records(self, stream: str, window: Window, stats: ExtractStats) -> Iterator[tuple[str, Record]]:
        """Yield `(record_id, record)` for every record of `stream` in `window`, verbatim."""
        raise NotImplementedError

    def directory(self, stream: str, stats: ExtractStats) -> Iterator[tuple[str, Record]]:
        """Yield `(record_id, record)` for every entry of the directory stream `stream` as it is now, verbatim."""
        raise NotImplementedError(f"{self.provider_id} has no directory stream {stream!r}")

    def http_stats(self) -> Mapping[str, int]:
        """Requests, retries, 429s and bytes so far (from the provider's ApiClient)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release HTTP connections."""

    def __enter__(self) -> ProviderSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
