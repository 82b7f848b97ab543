"""The daily partitions shared by every extract asset and the partitioned dbt models.

Partitions start at the earliest `history_start` in the connections file (checked without resolving
credentials, so the code location loads even where secrets are absent); each partition is one UTC day.
A file that does not pass its checks stops the code location from loading, with the file's own error:
partitions that silently start at a default day would be wrong in the UI and in every backfill.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg

from uc_pipeline.connections import DEFAULT_HISTORY_START, read_connections_file

PARTITION_FORMAT = "%Y-%m-%d"


def earliest_history_start(connections_file: Path) -> date:
    """The earliest `history_start` declared in the file, or the default when there is no file yet.

    Raises ConnectionConfigError (file, entry, key and fix) when the file exists but is wrong.
    """
    if not connections_file.exists():
        return DEFAULT_HISTORY_START
    entries = read_connections_file(connections_file)
    return min((entry.history_start for entry in entries), default=DEFAULT_HISTORY_START)


def daily_partitions(start: date) -> dg.DailyPartitionsDefinition:
    return dg.DailyPartitionsDefinition(start_date=start.strftime(PARTITION_FORMAT), timezone="UTC")


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The UTC days a (possibly multi-partition) run covers, oldest first."""
    window = context.partition_time_window
    first = window.start.date()
    count = (window.end - window.start).days
    return [first + timedelta(days=i) for i in range(count)]


def day_key(day: date) -> str:
    return day.strftime(PARTITION_FORMAT)


def parse_day_key(key: str) -> date:
    return datetime.strptime(key, PARTITION_FORMAT).date()
