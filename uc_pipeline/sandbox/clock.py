"""The sandbox clock: wall time by default; tests freeze it or move it to replay a given moment."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class Clock:
    """`now()` in UTC. Frozen at a moment, or wall time shifted by an offset."""

    def __init__(self, frozen: datetime | None = None, offset: timedelta = timedelta(0)) -> None:
        self._lock = threading.Lock()
        self._frozen = _aware(frozen) if frozen is not None else None
        self._offset = offset

    @property
    def frozen(self) -> bool:
        """Whether the clock stands still."""
        with self._lock:
            return self._frozen is not None

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def freeze(self, at: datetime) -> None:
        """Stop the clock at `at` (a naive datetime is taken as UTC)."""
        with self._lock:
            self._frozen = _aware(at)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward (frozen: the frozen moment; running: the offset)."""
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            else:
                self._offset += delta

    def unfreeze(self, offset: timedelta = timedelta(0)) -> None:
        with self._lock:
            self._frozen = None
            self._offset = offset


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
