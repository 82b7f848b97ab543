"""The daily partitions shared by every extract asset and the partitioned dbt models.

Partitions start at the earliest `history_start` in the connections file (read without resolving
credentials, so the code location loads even where secrets are absent); each partition is one UTC day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import yaml

from uc_pipeline.connections import DEFAULT_HISTORY_START

PARTITION_FORMAT = "%Y-%m-%d"


def earliest_history_start(connections_file: Path) -> date:
    """The earliest `history_start` declared in the file, or the default when there is no file yet."""
    try:
        doc = yaml.safe_load(connections_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return DEFAULT_HISTORY_START
    starts: list[date] = []
    for entry in doc.get("connections") or []:
        raw = entry.get("history_start", DEFAULT_HISTORY_START) if isinstance(entry, dict) else None
        try:
            starts.append(raw if isinstance(raw, date) else date.fromisoformat(str(raw)))
        except ValueError:
            continue  # load_connections reports it properly when the assets run
    return min(starts, default=DEFAULT_HISTORY_START)


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
