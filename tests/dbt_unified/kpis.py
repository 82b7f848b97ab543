"""The reporting marts' KPIs computed independently in plain Python from call rows (dicts with the
uc_call columns), to compare with what dbt built. Definitions follow models/reporting/_reporting.yml.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

OFFERED_OUTCOMES = {"ANSWERED", "MISSED", "VOICEMAIL", "ABANDONED", "BUSY"}
KPI_FIELDS: dict[str, tuple[str, ...]] = {
    "asa": ("type", "outcome", "wait_s"),
    "abandonment_rate": ("type", "outcome"),
    "adjusted_abandonment_rate": ("type", "outcome", "wait_s"),
    "service_level": ("type", "outcome", "wait_s"),
    "aht": ("type", "outcome", "talk_s", "hold_s", "wrap_up_s"),
    "offered": ("type", "outcome"),
    "missed_by_reason": ("type", "outcome", "missed_reason_group"),
}
# KPIs built on offered calls: unmeasurable for calls known only from recordings (8x8)
NEEDS_OFFERED = ("asa", "abandonment_rate", "adjusted_abandonment_rate", "service_level", "offered", "missed_by_reason")

# coverage(provider, column) -> "native" | "derived" | "unavailable"
Coverage = Callable[[str, str], str]


def fidelity(coverage: Coverage, provider: str, columns: Iterable[str]) -> str:
    levels = [coverage(provider, c) for c in columns]
    if "unavailable" in levels:
        return "unavailable"
    return "native" if all(level == "native" for level in levels) else "derived"


def local_day(ts: datetime, tz: str) -> date:
    return ts.astimezone(ZoneInfo(tz)).date()


def local_hour(ts: datetime, tz: str) -> int:
    return ts.astimezone(ZoneInfo(tz)).hour


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def kpi_daily(
    calls: Iterable[Mapping[str, Any]], coverage: Coverage, *, tz: str = "UTC", sl: int = 20, short: int = 10
) -> dict[tuple[date, str, str], dict[str, Any]]:
    groups: dict[tuple[date, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for call in calls:
        groups[(local_day(call["start_at"], tz), call["provider"], call["connection_id"])].append(call)
    out: dict[tuple[date, str, str], dict[str, Any]] = {}
    for key, rows in groups.items():
        provider = key[1]
        fid = {k: fidelity(coverage, provider, cols) for k, cols in KPI_FIELDS.items()}
        if any(r.get("record_source") == "recording_metadata" for r in rows):
            fid.update({k: "unavailable" for k in NEEDS_OFFERED})
        offered = [r for r in rows if r["type"] == "INBOUND" and r["outcome"] in OFFERED_OUTCOMES]
        handled = [r for r in offered if r["outcome"] == "ANSWERED"]
        abandoned = [r for r in offered if r["outcome"] == "ABANDONED"]
        short_ab = [r for r in abandoned if r["wait_s"] is not None and r["wait_s"] < short]
        within = [r for r in handled if r["wait_s"] is not None and r["wait_s"] <= sl]
        missed: dict[str, int] = defaultdict(int)
        for r in offered:
            if r["outcome"] != "ANSWERED":
                missed[r.get("missed_reason_group") or "OTHER"] += 1
        aht_values = [
            r["talk_s"] + r["hold_s"] + r["wrap_up_s"]
            for r in handled
            if None not in (r["talk_s"], r["hold_s"], r["wrap_up_s"])
        ]

        def keep(kpi: str, value: Any, fid: dict[str, str] = fid) -> Any:
            return None if fid[kpi] == "unavailable" else value

        out[key] = {
            "offered_calls": keep("offered", len(offered)),
            "answered_calls": len(handled),
            "abandoned_calls": keep("offered", len(abandoned)),
            "missed_calls": keep("offered", len(offered) - len(handled)),
            "asa_s": keep("asa", _mean([r["wait_s"] for r in handled if r["wait_s"] is not None])),
            "abandonment_rate": keep("abandonment_rate", _ratio(len(abandoned), len(offered))),
            "adjusted_abandonment_rate": keep(
                "adjusted_abandonment_rate", _ratio(len(abandoned) - len(short_ab), len(offered) - len(short_ab))
            ),
            "service_level": keep("service_level", _ratio(len(within), len(offered))),
            "aht_s": keep("aht", _mean(aht_values)),
            "missed_by_reason": keep("missed_by_reason", dict(missed)),
            **{f"{k}_fidelity": v for k, v in fid.items()},
        }
    return out


def agent_daily(calls: Iterable[Mapping[str, Any]], *, tz: str = "UTC") -> dict[tuple[date, str, str], dict[str, Any]]:
    """handled calls and talk per (local day, provider, user_id); AHT over handled calls with all times."""
    groups: dict[tuple[date, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for call in calls:
        if call["user_id"] is not None:
            groups[(local_day(call["start_at"], tz), call["provider"], call["user_id"])].append(call)
    out = {}
    for key, rows in groups.items():
        handled = [r for r in rows if r["type"] == "INBOUND" and r["outcome"] == "ANSWERED"]
        talks = [r["talk_s"] for r in handled if r["talk_s"] is not None]
        aht = [
            r["talk_s"] + r["hold_s"] + r["wrap_up_s"]
            for r in handled
            if None not in (r["talk_s"], r["hold_s"], r["wrap_up_s"])
        ]
        out[key] = {
            "handled_calls": len(handled),
            "talk_s_sum": sum(talks) if talks else None,
            "aht_s": _mean(aht),
            "outbound_calls": sum(1 for r in rows if r["type"] == "OUTBOUND"),
        }
    return out


def calls_hourly(calls: Iterable[Mapping[str, Any]], *, tz: str) -> dict[tuple[date, int, str, str], int]:
    """Calls per (local day, local hour, provider, direction)."""
    out: dict[tuple[date, int, str, str], int] = defaultdict(int)
    for call in calls:
        out[(local_day(call["start_at"], tz), local_hour(call["start_at"], tz), call["provider"], call["type"])] += 1
    return dict(out)


def queue_daily(
    calls: Iterable[Mapping[str, Any]], *, tz: str = "UTC", sl: int = 20
) -> dict[tuple[date, str, str], dict[str, Any]]:
    """Offered / answered / abandoned, service level, ASA and AHT per (local day, provider, queue_id) of
    the inbound calls that name a queue (models/reporting/_reporting.yml, queue_daily)."""
    groups: dict[tuple[date, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for call in calls:
        if call["queue_id"] is not None and call["type"] == "INBOUND":
            groups[(local_day(call["start_at"], tz), call["provider"], call["queue_id"])].append(call)
    out = {}
    for key, rows in groups.items():
        offered = [r for r in rows if r["outcome"] in OFFERED_OUTCOMES]
        handled = [r for r in offered if r["outcome"] == "ANSWERED"]
        within = [r for r in handled if r["wait_s"] is not None and r["wait_s"] <= sl]
        aht = [
            r["talk_s"] + r["hold_s"] + r["wrap_up_s"]
            for r in handled
            if None not in (r["talk_s"], r["hold_s"], r["wrap_up_s"])
        ]
        out[key] = {
            "offered_calls": len(offered),
            "answered_calls": len(handled),
            "abandoned_calls": sum(1 for r in offered if r["outcome"] == "ABANDONED"),
            "answered_within_threshold_calls": len(within),
            "service_level": _ratio(len(within), len(offered)),
            "asa_s": _mean([r["wait_s"] for r in handled if r["wait_s"] is not None]),
            "aht_s": _mean(aht),
        }
    return out
