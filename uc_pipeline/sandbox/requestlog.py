"""The request log: every request the emulators answered, with enough detail to prove a client kept
to its quotas (`violations`) and never fetched a page twice (`duplicate_pages`). Bounded memory.

Pages are compared by their normalized query: parameters parsed and sorted, and those equal to the
provider's documented default (the emulator's `query_defaults`) dropped: `per_page=50` and
`page=1&per_page=50` ask for the same page.
An answer held back by a "slow" fault is logged with that mark and how long it took, so a client's
timeout and its retry read as such, not as a page fetched twice."""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

DEFAULT_CAPACITY = 500_000


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    seq: int
    monotonic: float
    wall: float  # UNIX seconds
    provider: str | None
    connection_id: str | None  # None when the request could not be tied to a connection (e.g. bad credentials)
    method: str
    path: str  # including the /<provider> prefix
    query: str  # canonical: parameters sorted, re-encoded
    group: str | None  # rate group counted, None when the quota was not consulted
    status: int
    exceeded: bool  # over the quota (or inside a penalty)
    fault: str | None  # injected fault kind, pre-response or body ("slow": held back past a client timeout)
    page_query: str = ""  # the query normalized: defaults dropped, what tells two pages apart
    elapsed_s: float = 0.0  # from arrival to answer (a slow fault shows here)

    @property
    def page_key(self) -> tuple[str | None, str, str, str]:
        return (self.connection_id, self.method, self.path, self.page_query)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def canonical_query(query: str) -> str:
    """The query string with its parameters sorted, so equal requests compare equal."""
    return urlencode(sorted(parse_qsl(query, keep_blank_values=True)))


def normalized_query(query: str, defaults: Mapping[str, str] | None = None) -> str:
    """The canonical query without the parameters given at their default value (a parameter given
    several times is kept whole: its meaning is the list)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    defaults = defaults or {}
    names = [name for name, _ in pairs]
    kept = [(k, v) for k, v in pairs if not (names.count(k) == 1 and defaults.get(k) == v)]
    return urlencode(sorted(kept))


class RequestLog:
    """A ring buffer of `LoggedRequest`; the oldest entries go first when `capacity` is reached."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._lock = threading.Lock()
        self._entries: deque[LoggedRequest] = deque(maxlen=capacity)
        self._seq = 0
        self.dropped = 0  # entries pushed out of the buffer

    def add(
        self, *, provider: str | None, connection_id: str | None, method: str, path: str, query: str,
        group: str | None, status: int, exceeded: bool, fault: str | None,
        defaults: Mapping[str, str] | None = None, elapsed_s: float = 0.0,
    ) -> LoggedRequest:
        with self._lock:
            self._seq += 1
            entry = LoggedRequest(
                seq=self._seq, monotonic=time.monotonic(), wall=time.time(), provider=provider,
                connection_id=connection_id, method=method, path=path, query=canonical_query(query),
                group=group, status=status, exceeded=exceeded, fault=fault,
                page_query=normalized_query(query, defaults), elapsed_s=round(elapsed_s, 3),
            )
            if len(self._entries) == self._entries.maxlen:
                self.dropped += 1
            self._entries.append(entry)
            return entry

    def entries(self, connection_id: str | None = None, provider: str | None = None) -> list[LoggedRequest]:
        with self._lock:
            items = list(self._entries)
        return [e for e in items if (connection_id is None or e.connection_id == connection_id)
                and (provider is None or e.provider == provider)]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.dropped = 0

    def __len__(self) -> int:
        return len(self._entries)

    def violations(self, connection_id: str | None = None) -> list[LoggedRequest]:
        """Requests the client sent over a quota (a correct limiter never causes one). Storms are
        injected faults, not violations."""
        return [e for e in self.entries(connection_id) if e.exceeded]

    def duplicate_pages(self, connection_id: str | None = None) -> dict[tuple[str | None, str, str, str], int]:
        """Page keys (connection, method, path, normalized query) of GETs answered 2xx without an injected
        fault more than once, with how many times."""
        counts = Counter(e.page_key for e in self.entries(connection_id)
                         if e.method == "GET" and 200 <= e.status < 300 and e.fault is None)
        return {key: n for key, n in counts.items() if n > 1}

    def counts(self, connection_id: str | None = None) -> dict[str, dict[str, int]]:
        """Per connection: requests, ok (2xx), throttled (429), errors (other >= 400), violations, faults."""
        out: dict[str, dict[str, int]] = {}
        for e in self.entries(connection_id):
            row = out.setdefault(e.connection_id or "-", dict.fromkeys(
                ("requests", "ok", "throttled", "errors", "violations", "faults"), 0))
            row["requests"] += 1
            row["ok"] += 200 <= e.status < 300
            row["throttled"] += e.status == 429
            row["errors"] += e.status >= 400 and e.status != 429
            row["violations"] += e.exceeded
            row["faults"] += e.fault is not None
        return out

    @staticmethod
    def summarize(entries: Iterable[LoggedRequest]) -> dict[str, int]:
        statuses = Counter(str(e.status) for e in entries)
        return dict(sorted(statuses.items()))
