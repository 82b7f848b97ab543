"""The marts in a reporting time zone with daylight saving time (Europe/Paris): local days of 23 and 25
hours, hour-of-week buckets, and a one-UTC-day run that recomputes the two local days it overlaps."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from . import kpis, standin
from .harness import copy_project
from .test_unified_models import coverage_of

TZ = "Europe/Paris"
SPRING = [date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)]  # clocks go 02:00 -> 03:00 on the 29th
AUTUMN = [date(2026, 10, 24), date(2026, 10, 25), date(2026, 10, 26)]  # 03:00 -> 02:00 on the 25th


def _check_kpis(project, data) -> None:
    want = kpis.kpi_daily(data.calls(), coverage_of, tz=TZ)
    rows = project.query_dicts("select * from reporting.kpi_daily")
    got = {(r["day"], r["provider"], r["connection_id"]): r for r in rows}
    assert got.keys() == want.keys()
    for key, expected in want.items():
        for column in ("offered_calls", "answered_calls", "abandoned_calls", "asa_s", "service_level", "aht_s"):
            value = expected[column]
            assert got[key][column] == (pytest.approx(value) if isinstance(value, float) else value), (key, column)


def test_paris_days_and_hours(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    data = standin.generate(SPRING + AUTUMN, calls_per_day=60, seed=3)
    standin.install(project, data)
    project.run("build", "--select", "+tag:partitioned", "calls_hour_of_week", vars={"reporting_timezone": TZ})

    hourly = project.query("select day, hour, provider, direction, calls from reporting.calls_hourly")
    got = {row[:4]: row[4] for row in hourly}
    assert got == kpis.calls_hourly(data.calls(), tz=TZ)
    spring_hours = {h for (d, h, _, _) in got if d == date(2026, 3, 29)}
    assert 2 not in spring_hours  # 02:00-02:59 does not exist that night
    # The repeated 02:00 hour of 25 October holds calls from two UTC hours (00:xx and 01:xx UTC).
    repeated = [c for c in data.calls() if c["start_at"].date() == date(2026, 10, 25) and c["start_at"].hour in (0, 1)]
    assert {c["start_at"].hour for c in repeated} == {0, 1}
    assert sum(v for (d, h, _, _), v in got.items() if d == date(2026, 10, 25) and h == 2) == len(repeated)
    # A call at 23:30 UTC on the 28th belongs to local 29 March.
    assert kpis.local_day(datetime(2026, 3, 28, 23, 30, tzinfo=UTC), TZ) == date(2026, 3, 29)
    _check_kpis(project, data)

    heat = project.query("select sum(calls) from reporting.calls_hour_of_week")[0][0]
    assert heat == len(data.calls())

    # Late change to a call of UTC 28 March started after local midnight: the run for that UTC day
    # must recompute local 28 and 29 March.
    late = next(c for c in data.calls("zendesk") if c["call_date"] == date(2026, 3, 28) and c["type"] == "INBOUND")
    late_start = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
    late.update(
        start_at=late_start,
        created_at=late_start,
        end_at=late_start,
        updated_at=late_start,
        outcome="BUSY",
        missed_reason="busy",
        answered_at=None,
        user_id=None,
        user_name=None,
        _extracted_at=datetime(2026, 4, 2, tzinfo=UTC),
    )
    standin.write_rows(project, data)
    before = dict(project.query("select day, max(_uc_loaded_at) from reporting.kpi_daily group by 1"))
    project.run(
        "run",
        "--select",
        "+tag:partitioned",
        vars={"reporting_timezone": TZ, "uc_start_date": "2026-03-28", "uc_end_date": "2026-03-28"},
    )
    after = dict(project.query("select day, max(_uc_loaded_at) from reporting.kpi_daily group by 1"))
    changed = sorted(d for d in after if after[d] != before.get(d))
    assert changed == [date(2026, 3, 28), date(2026, 3, 29)]
    _check_kpis(project, data)
