"""The KPI picture's figures on a small hand-built serving snapshot, expected values worked out by hand.

The snapshot holds the two marts the picture reads, with the columns dbt's `reporting.kpi_daily` and
`reporting.calls_daily` declare: Aircall on two connections and two days, 8x8 whose KPIs the mart
leaves NULL (`unavailable`), and a Zendesk day before the window.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from uc_pipeline.report import draw, figures_path, render_kpi_picture
from uc_pipeline.report_data import Kpis, kpi_cells, window_figures
from uc_pipeline.settings import DBT_PROJECT_DIR

KPI_COLUMNS = (
    "day, provider, connection_id, offered_calls, answered_calls, abandoned_calls, answered_within_threshold_calls, "
    "asa_s, abandonment_rate, service_level, aht_s, service_level_threshold_s"
)
NULLS = (None,) * 8
KPI_ROWS = [
    # offered, answered, abandoned, within 20 s, ASA, abandonment, service level, AHT, threshold
    ("2026-03-01", "aircall", "a1", 10, 8, 1, 6, 12.0, 0.1, 0.6, 200.0, 20),
    ("2026-03-01", "aircall", "a2", 5, 3, 2, 2, 20.0, 0.4, 0.4, 100.0, 20),
    ("2026-03-02", "aircall", "a1", 4, 4, 0, 4, 5.0, 0.0, 1.0, 150.0, 20),
    # 8x8 only knows recorded calls: every KPI unavailable, NULL in the mart
    ("2026-03-01", "eightbyeight", "e1", *NULLS, 20),
    ("2026-03-02", "eightbyeight", "e1", *NULLS, 20),
    ("2026-02-27", "zendesk", "z1", 2, 1, 1, 1, 30.0, 0.5, 0.5, None, 20),
]
CALL_ROWS = [  # day, provider, connection_id, direction, outcome, calls (reporting zone Europe/Paris)
    ("2026-03-01", "aircall", "a1", "INBOUND", "ANSWERED", 8),
    ("2026-03-01", "aircall", "a1", "INBOUND", "ABANDONED", 1),
    ("2026-03-01", "aircall", "a1", "INBOUND", "MISSED", 1),
    ("2026-03-01", "aircall", "a1", "OUTBOUND", "ANSWERED", 3),
    ("2026-03-01", "aircall", "a2", "INBOUND", "ANSWERED", 3),
    ("2026-03-01", "aircall", "a2", "INBOUND", "ABANDONED", 2),
    ("2026-03-02", "aircall", "a1", "INBOUND", "ANSWERED", 4),
    ("2026-03-02", "aircall", "a1", "INTERNAL", "ANSWERED", 2),
    ("2026-03-01", "eightbyeight", "e1", "INBOUND", "ANSWERED", 6),
    ("2026-03-02", "eightbyeight", "e1", "OUTBOUND", "ANSWERED", 2),
    ("2026-02-27", "zendesk", "z1", "INBOUND", "ANSWERED", 1),
    ("2026-02-27", "zendesk", "z1", "INBOUND", "ABANDONED", 1),
]

# Aircall over 1-2 March, by hand: offered 10 + 5 + 4 = 19, answered 8 + 3 + 4 = 15, abandoned 1 + 2 = 3;
# abandonment 3 / 19; answered within 20 s 6 + 2 + 4 = 12 of 19; ASA weighted by answered calls
# (12*8 + 20*3 + 5*4) / 15 = 176 / 15; AHT (200*8 + 100*3 + 150*4) / 15 = 2500 / 15.
AIRCALL = Kpis(19, 15, 3, 100 * 3 / 19, 100 * 12 / 19, 176 / 15, 2500 / 15)
AIRCALL_1_MARCH = Kpis(15, 11, 3, 100 * 3 / 15, 100 * 8 / 15, (96 + 60) / 11, (1600 + 300) / 11)
AIRCALL_2_MARCH = Kpis(4, 4, 0, 0.0, 100.0, 5.0, 150.0)
UNMEASURED = Kpis(None, None, None, None, None, None, None)


@pytest.fixture()
def serving(tmp_path: Path) -> Path:
    path = tmp_path / "serving.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema reporting")
    con.execute(
        "create table reporting.kpi_daily (day date, provider varchar, connection_id varchar, offered_calls bigint, "
        "answered_calls bigint, abandoned_calls bigint, answered_within_threshold_calls bigint, asa_s double, "
        "abandonment_rate double, service_level double, aht_s double, service_level_threshold_s integer)"
    )
    con.executemany(f"insert into reporting.kpi_daily ({KPI_COLUMNS}) values ({', '.join(['?'] * 12)})", KPI_ROWS)
    con.execute(
        "create table reporting.calls_daily (day date, provider varchar, connection_id varchar, direction varchar, "
        "outcome varchar, calls bigint, reporting_timezone varchar default 'Europe/Paris')"
    )
    con.executemany("insert into reporting.calls_daily values (?, ?, ?, ?, ?, ?, default)", CALL_ROWS)
    con.close()
    return path


def _approx(k: Kpis) -> Kpis:
    return Kpis(*(None if v is None else pytest.approx(v) for v in vars(k).values()))


def test_the_columns_read_are_those_the_marts_declare() -> None:
    models = yaml.safe_load((DBT_PROJECT_DIR / "models" / "reporting" / "_reporting.yml").read_text())["models"]
    declared = {m["name"]: {c["name"] for c in m["columns"]} for m in models}
    assert set(KPI_COLUMNS.split(", ")) <= declared["kpi_daily"]
    calls_columns = {"day", "provider", "connection_id", "direction", "outcome", "calls", "reporting_timezone"}
    assert calls_columns <= declared["calls_daily"]


def test_window_figures_re_aggregate_counts_over_days_and_connections(serving: Path) -> None:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        figures = window_figures(con, days=2)  # ends on the newest day with calls: 2 March
    finally:
        con.close()
    assert (figures.first_day, figures.last_day) == (date(2026, 3, 1), date(2026, 3, 2))
    assert figures.service_level_threshold_s == [20]
    assert figures.reporting_timezone == "Europe/Paris"
    assert figures.providers == ["aircall", "eightbyeight"]  # Zendesk's only day is before the window
    assert figures.names == {"aircall": "Aircall", "eightbyeight": "8x8 Virtual Contact Center"}
    assert figures.totals["aircall"] == _approx(AIRCALL)
    assert figures.daily["aircall"] == {
        date(2026, 3, 1): _approx(AIRCALL_1_MARCH),
        date(2026, 3, 2): _approx(AIRCALL_2_MARCH),
    }
    assert figures.totals["eightbyeight"] == UNMEASURED
    assert figures.outcomes == {
        "INBOUND": {"aircall": {"ANSWERED": 15, "ABANDONED": 3, "MISSED": 1}, "eightbyeight": {"ANSWERED": 6}},
        "OUTBOUND": {"aircall": {"ANSWERED": 3}, "eightbyeight": {"ANSWERED": 2}},
        "INTERNAL": {"aircall": {"ANSWERED": 2}},
    }


def test_a_window_starts_at_its_first_day_with_calls(serving: Path) -> None:
    con = duckdb.connect(str(serving), read_only=True)
    try:
        figures = window_figures(con, days=30, last_day=date(2026, 3, 1))
    finally:
        con.close()
    assert (figures.first_day, figures.last_day) == (date(2026, 2, 27), date(2026, 3, 1))
    assert figures.totals["zendesk"] == Kpis(2, 1, 1, 50.0, 50.0, 30.0, None)
    assert figures.totals["aircall"].offered == 15


def test_unmeasured_kpis_read_n_a_never_zero() -> None:
    assert kpi_cells(UNMEASURED) == ["n/a"] * 6
    assert kpi_cells(Kpis(19, 15, 3, 100 * 3 / 19, 100 * 12 / 19, 176 / 15, 2500 / 15)) == [
        "19", "15", "15.8 %", "63.2 %", "12 s", "2 min 47 s"
    ]


def test_the_picture_plots_those_figures_and_writes_them_beside_it(serving: Path, tmp_path: Path) -> None:
    out = render_kpi_picture(serving, tmp_path / "reports" / "kpi.png", days=2)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    written = json.loads(figures_path(out).read_text())
    assert (written["first_day"], written["last_day"]) == ("2026-03-01", "2026-03-02")
    assert written["reporting_timezone"] == "Europe/Paris"
    assert written["totals"]["aircall"]["offered"] == 19
    assert written["totals"]["aircall"]["service_level_pct"] == pytest.approx(100 * 12 / 19)
    assert written["totals"]["eightbyeight"] == {k: None for k in vars(UNMEASURED)}
    assert written["daily"]["aircall"]["2026-03-02"]["asa_s"] == pytest.approx(5.0)

    con = duckdb.connect(str(serving), read_only=True)
    try:
        fig = draw(window_figures(con, days=2))
    finally:
        con.close()
    assert fig._suptitle.get_text() == "Call center KPIs, Sun 01 Mar 2026 – Mon 02 Mar 2026 (days in Europe/Paris)"
    service_level, abandonment, asa = fig.subfigs[0].axes
    assert "answered within 20 s" in service_level.get_title(loc="left")
    lines = {line.get_label(): list(line.get_ydata()) for line in service_level.get_lines()}
    assert lines == {"Aircall": [pytest.approx(100 * 8 / 15), pytest.approx(100.0)]}
    assert [list(line.get_ydata()) for line in abandonment.get_lines()] == [[pytest.approx(20.0), 0.0]]
    assert [list(line.get_ydata()) for line in asa.get_lines()] == [[pytest.approx(156 / 11), 5.0]]
    for ax in (service_level, abandonment, asa):  # no line drawn at 0 or 100 %: said to be n/a
        assert ax.get_xlabel() == "n/a: 8x8 Virtual Contact Center (not measured)"
    inbound = fig.subfigs[1].axes[0]
    assert inbound.get_title(loc="left") == "Inbound calls by outcome"
    assert [t.get_text() for t in inbound.get_yticklabels()] == ["8x8 Virtual Contact Center", "Aircall"]
    cells = fig.subfigs[2].axes[0].tables[0].get_celld()
    rows = {cells[r, 0].get_text().get_text(): [cells[r, c].get_text().get_text() for c in range(1, 7)]
            for r in (1, 2)}
    assert rows == {
        "Aircall": ["19", "15", "15.8 %", "63.2 %", "12 s", "2 min 47 s"],
        "8x8 Virtual Contact Center": ["n/a"] * 6,
    }


def test_an_empty_snapshot_says_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "serving.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema reporting")
    con.execute("create table reporting.calls_daily (day date, provider varchar, direction varchar, outcome varchar, "
                "calls bigint, reporting_timezone varchar)")
    con.close()
    with pytest.raises(RuntimeError, match="Extract and build some days first"):
        render_kpi_picture(path, tmp_path / "kpi.png")
