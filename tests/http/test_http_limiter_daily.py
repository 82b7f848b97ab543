"""The shared limiter's daily window: a pool's budget per UTC day, shared by every process and every rate
group naming the pool, refused at once (never waited for) with the next UTC midnight, a provider's "spent"
gate honoured by every process, and a new day's budget after the reset; on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from uc_pipeline.http.limiter import DailyQuotaSpent, Day, SharedLimiter, dialect_for


def limiters(url: str) -> tuple[SharedLimiter, SharedLimiter]:
    """Two limiters on one store: two processes, as far as the store can tell."""
    return SharedLimiter(url, dialect_for(url)), SharedLimiter(url, dialect_for(url))


def spend_and_reset(first: SharedLimiter, second: SharedLimiter, prefix: str) -> None:
    day = Day(f"{prefix}/day/heavy", 3)
    # Two rate groups of the connection share the pool; each has room in its own window.
    for limiter, group in ((first, "heavy"), (second, "heavy"), (second, "intensive")):
        taken = limiter.acquire(f"{prefix}/{group}", 100, 1.0, stale_s=60.0, day=day)
        limiter.release(f"{prefix}/{group}", taken.slot)
    assert first.day_used(day.key) == 3
    started = time.monotonic()
    with pytest.raises(DailyQuotaSpent) as spent:
        second.acquire(f"{prefix}/heavy", 100, 1.0, stale_s=60.0, day=day)
    assert time.monotonic() - started < 5  # refused, not waited for
    midnight = (int(time.time()) // 86400 + 1) * 86400
    assert abs(spent.value.until - midnight) < 5
    # A group without the daily quota is not held by it.
    assert first.try_acquire(f"{prefix}/light", 100, 1.0, 60.0).slot is not None
    # The next UTC day has its budget again (the store's clock, moved a day on).
    first.day_offset_s = second.day_offset_s = 86400.0
    assert second.try_acquire(f"{prefix}/heavy", 100, 1.0, 60.0, day).slot is not None
    # A provider's "spent until" holds every process, whatever the count says.
    first.block(day.key, 30.0, "the provider's daily quota is spent")
    refused = second.try_acquire(f"{prefix}/intensive", 100, 1.0, 60.0, day)
    assert refused.slot is None and refused.daily and 25 < refused.wait_s <= 30


def test_sqlite_daily_pool(tmp_path: Path) -> None:
    first, second = limiters(f"sqlite:///{tmp_path / 'state' / 'limiter.sqlite'}")
    spend_and_reset(first, second, "conn-a")


def test_postgres_daily_pool(postgres_dsn: str) -> None:
    first, second = limiters(postgres_dsn)
    prefix = f"daily-{uuid.uuid4().hex[:12]}"
    try:
        spend_and_reset(first, second, prefix)
    finally:
        first.reset(prefix)
        first.close()
        second.close()
