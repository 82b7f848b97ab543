"""The figures of the KPI picture and of the demo's summary: one set of queries over the serving snapshot.

Both the picture (`uc_pipeline.report`) and the demo's terminal tables read `window_figures`, so they
always show the same numbers for the same window. Figures come from the reporting marts
(`reporting.kpi_daily` for the inbound KPIs, `reporting.calls_daily` for the outcome mix), never from
`uc.uc_call` directly, so that every number is counted on the marts' reporting-zone days and
definitions. A KPI the provider cannot measure is NULL in the mart and None here: shown as "n/a",
never as 0 or 100 %.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import Any

import duckdb

DIRECTIONS = ("INBOUND", "OUTBOUND", "INTERNAL")
OUTCOMES = ("ANSWERED", "MISSED", "VOICEMAIL", "ABANDONED", "BUSY", "FAILED", "BLOCKED", "UNKNOWN")
NA = "n/a"

# The window's KPIs are re-aggregated from the daily counts (rates are never averaged across days or
# connections). A rate only counts the days on which the mart measured it, and is NULL when none did.
# ASA and AHT are weighted by answered calls: the mart keeps their means, not their sums.
_KPI_SELECT = """
select
    {keys},
    sum(offered_calls) as offered,
    sum(answered_calls) as answered,
    sum(abandoned_calls) as abandoned,
    100.0 * sum(abandoned_calls) filter (where abandonment_rate is not null)
        / nullif(sum(offered_calls) filter (where abandonment_rate is not null), 0) as abandonment_pct,
    100.0 * sum(answered_within_threshold_calls) filter (where service_level is not null)
        / nullif(sum(offered_calls) filter (where service_level is not null), 0) as service_level_pct,
    sum(asa_s * answered_calls) filter (where asa_s is not null)
        / nullif(sum(answered_calls) filter (where asa_s is not null), 0) as asa_s,
    sum(aht_s * answered_calls) filter (where aht_s is not null)
        / nullif(sum(answered_calls) filter (where aht_s is not null), 0) as aht_s
from reporting.kpi_daily
where day between ? and ?
group by {keys}
order by {keys}
"""
KPI_FIELDS = ("offered", "answered", "abandoned", "abandonment_pct", "service_level_pct", "asa_s", "aht_s")


@dataclass(frozen=True)
class Kpis:
    """Inbound KPIs of one provider over a day or a window; None = not measured (n/a)."""

    offered: int | None
    answered: int | None
    abandoned: int | None
    abandonment_pct: float | None
    service_level_pct: float | None
    asa_s: float | None
    aht_s: float | None


@dataclass(frozen=True)
class WindowFigures:
    """Everything the picture plots and the demo prints for the days `first_day` .. `last_day`."""

    first_day: date
    last_day: date
    service_level_threshold_s: list[int]
    reporting_timezone: str  # the zone the days are in (dbt var reporting_timezone)
    names: dict[str, str]  # provider id -> display name
    totals: dict[str, Kpis]  # provider -> window KPIs
    daily: dict[str, dict[date, Kpis]]  # provider -> day -> KPIs
    # direction -> provider -> outcome -> calls (all calls, every direction)
    outcomes: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)

    @property
    def providers(self) -> list[str]:
        return sorted(set(self.totals) | {p for d in self.outcomes.values() for p in d}, key=provider_order)

    def to_json(self) -> dict[str, Any]:
        """The figures as JSON-ready values (dates as ISO strings), written beside the picture."""
        return {
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "service_level_threshold_s": self.service_level_threshold_s,
            "reporting_timezone": self.reporting_timezone,
            "names": self.names,
            "totals": {p: asdict(k) for p, k in self.totals.items()},
            "daily": {p: {d.isoformat(): asdict(k) for d, k in days.items()} for p, days in self.daily.items()},
            "outcomes": self.outcomes,
        }


def provider_order(provider: str) -> tuple[int, str]:
    """The registry's order (Aircall, RingCentral, 8x8, Zendesk), unknown providers last."""
    from uc_pipeline.providers import PROVIDER_IDS

    return (PROVIDER_IDS.index(provider) if provider in PROVIDER_IDS else len(PROVIDER_IDS), provider)


@cache
def provider_name(provider: str) -> str:
    """A provider's display name from the registry (`ProviderSource.title`), else its id."""
    from uc_pipeline.providers import get_provider

    try:
        return get_provider(provider).title
    except KeyError:
        return provider


def latest_day(con: duckdb.DuckDBPyConnection) -> date:
    """The newest reporting day with calls; tells what to do when there is none."""
    latest = con.execute("select max(day) from reporting.calls_daily").fetchone()[0]
    if latest is None:
        raise RuntimeError(
            "reporting.calls_daily is empty: nothing to report yet. Extract and build some days first "
            "(e.g. `uc-pipeline demo`, or materialize the `daily_refresh` job)."
        )
    return latest


def window_figures(
    con: duckdb.DuckDBPyConnection, days: int = 30, last_day: date | None = None, first_day: date | None = None
) -> WindowFigures:
    """The figures of `days` days ending `last_day` (default: the newest day with calls), or of
    `first_day` .. `last_day`. The window starts no earlier than the first day with calls, so that a
    short history is not drawn as a long empty one."""
    last = last_day or latest_day(con)
    first = first_day or last - timedelta(days=days - 1)
    if first > last:
        raise ValueError(f"window {first} .. {last} is empty: the first day must not be after the last")
    earliest = con.execute("select min(day) from reporting.calls_daily where day between ? and ?", [first, last])
    first = max(first, earliest.fetchone()[0] or first)
    window = [first, last]
    totals = {r[0]: Kpis(*r[1:]) for r in con.execute(_KPI_SELECT.format(keys="provider"), window).fetchall()}
    daily: dict[str, dict[date, Kpis]] = {}
    for row in con.execute(_KPI_SELECT.format(keys="provider, day"), window).fetchall():
        daily.setdefault(row[0], {})[row[1]] = Kpis(*row[2:])
    outcomes: dict[str, dict[str, dict[str, int]]] = {}
    mix = con.execute(
        "select direction, provider, outcome, sum(calls) from reporting.calls_daily where day between ? and ? "
        "group by all order by all",
        window,
    )
    for direction, provider, outcome, calls in mix.fetchall():
        outcomes.setdefault(direction, {}).setdefault(provider, {})[outcome] = int(calls)
    thresholds = con.execute(
        "select distinct service_level_threshold_s from reporting.kpi_daily where day between ? and ? order by 1",
        window,
    ).fetchall()
    zones = con.execute(
        "select string_agg(distinct reporting_timezone, ', ' order by reporting_timezone) from reporting.calls_daily "
        "where day between ? and ?",
        window,
    ).fetchone()[0]
    providers = set(totals) | {p for d in outcomes.values() for p in d}
    return WindowFigures(
        first_day=first,
        last_day=last,
        service_level_threshold_s=[int(r[0]) for r in thresholds if r[0] is not None],
        reporting_timezone=zones or "UTC",
        names={p: provider_name(p) for p in sorted(providers, key=provider_order)},
        totals=totals,
        daily=daily,
        outcomes=dict(sorted(outcomes.items(), key=lambda kv: _direction_order(kv[0]))),
    )


def _direction_order(direction: str) -> int:
    return DIRECTIONS.index(direction) if direction in DIRECTIONS else len(DIRECTIONS)


def threshold_text(figures: WindowFigures) -> str:
    """The service-level threshold as the marts define it, e.g. "20 s" (several if it changed)."""
    return " / ".join(f"{t} s" for t in figures.service_level_threshold_s) or "the threshold"


def fmt_count(value: int | None) -> str:
    return NA if value is None else f"{value:,}"


def fmt_pct(value: float | None) -> str:
    return NA if value is None else f"{value:.1f} %"


def fmt_seconds(value: float | None) -> str:
    """Seconds as a manager reads them: "16 s", "3 min 48 s"."""
    if value is None:
        return NA
    seconds = round(value)
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def kpi_cells(k: Kpis) -> list[str]:
    """One provider's KPI cells, in the column order of `KPI_HEADERS` (the picture's and the terminal's)."""
    return [
        fmt_count(k.offered),
        fmt_count(k.answered),
        fmt_pct(k.abandonment_pct),
        fmt_pct(k.service_level_pct),
        fmt_seconds(k.asa_s),
        fmt_seconds(k.aht_s),
    ]


def kpi_headers(figures: WindowFigures) -> list[str]:
    return [
        "offered",
        "answered",
        "abandon rate",
        f"service level ≤ {threshold_text(figures)}",
        "ASA",
        "AHT",
    ]
