"""What `uc-pipeline demo` prints, as a user piping it to a file sees it (terminal width 100).

The demo runs for real (sandbox, Dagster jobs, dbt build, publish) in a subprocess over a temporary
data directory; the verbose run lands on the loopback S3 server instead of the local disk. Its output
must carry no warning and no dbt node line (those go to the log file), its tables must fit the width
without cutting a name, their titles must name the extracted days, and their numbers must be those of
the KPI picture (the figures written beside it) and of the calls in the serving snapshot for those days.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from tests.s3_server import S3Landing
from uc_pipeline.demo import summary_tables
from uc_pipeline.providers import PROVIDER_IDS
from uc_pipeline.report_data import Kpis, WindowFigures

WIDTH = 100
DBT_NODE_LINE = re.compile(r"\d+ of \d+ (START|PASS|OK|ERROR|WARN|SKIP)\b|Running with dbt=|OK created")
DIRECTIONS = {"inbound": "INBOUND", "outbound": "OUTBOUND", "internal": "INTERNAL"}


def _run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "UC_DATA_DIR", "UC_CONNECTIONS_FILE")}
    env.update(COLUMNS=str(WIDTH), DO_NOT_TRACK="1")
    return subprocess.run(
        [sys.executable, *args, "--data-dir", str(data_dir), "--days", "2", "--calls-per-day", "20"],
        env=env, capture_output=True, text=True, timeout=1200, check=False,
    )


def _table(text: str, title: str) -> tuple[re.Match[str], list[str], list[list[str]]]:
    """The title match, the column headers and the rows of the rich table titled `title` in `text`;
    a cell folded over several lines is joined back with spaces."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.search(title, line))
    match = re.search(title, lines[start])
    assert match
    headers: list[list[str]] = []
    rows: list[list[str]] = []
    for line in lines[start + 1 :]:
        if line.startswith("└"):
            break
        if line.startswith(("┃", "│")):
            cells = [c.strip() for c in line.strip().strip("┃│").split("┃" if line.startswith("┃") else "│")]
            target = headers if line.startswith("┃") else rows
            if target is rows and rows and not cells[-1]:  # a folded label goes on: no number on its line
                rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
            else:
                target.append(cells)
    names = [" ".join(part for part in column if part) for column in zip(*headers, strict=True)]
    return match, names, rows


def _number(cell: str) -> float | None:
    """A cell as a number: "1,234" -> 1234, "33.3 %" -> 33.3, "3 min 48 s" -> 228, "n/a" -> None."""
    if cell == "n/a":
        return None
    if m := re.fullmatch(r"(\d+) min (\d+) s", cell):
        return int(m[1]) * 60 + int(m[2])
    return float(re.sub(r"[ ,%s]", "", cell))


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def test_demo_prints_a_quiet_summary_that_matches_the_picture(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    proc = _run(["-m", "uc_pipeline.cli", "demo"], data_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "warning" not in (out + proc.stderr).lower(), out + proc.stderr
    assert not DBT_NODE_LINE.search(out + proc.stderr), out
    assert "…" not in out, out  # nothing cut
    # the tables fit the width (the paths at the end are printed whole, to be copied)
    assert max(len(line) for line in out.splitlines() if re.match(r"[┏┃┡│└]", line)) <= WIDTH, out
    log = (data_dir / "logs" / "demo.log").read_text(encoding="utf-8")
    assert DBT_NODE_LINE.search(log) and "Completed successfully" in log  # dbt's output went there

    end = datetime.now(UTC).date() - timedelta(days=1)
    check_summary(out, data_dir, end - timedelta(days=1), end)


def check_summary(out: str, data_dir: Path, start: date, end: date) -> None:
    """The summary in `out` names the days `start` .. `end` and shows the numbers of the picture's
    figures and of the snapshot's calls of those days."""
    figures = json.loads((data_dir / "reports" / "kpi_last_30_days.json").read_text(encoding="utf-8"))
    assert (figures["first_day"], figures["last_day"]) == (start.isoformat(), end.isoformat())
    names = {name: provider for provider, name in figures["names"].items()}

    window = r"(\d{4}-\d\d-\d\d) \.\. (\d{4}-\d\d-\d\d) \((\d+) days?, ([^)]+)\)"
    title, headers, rows = _table(out, "Calls by direction and outcome, " + window)
    assert title.groups() == (start.isoformat(), end.isoformat(), "2", "UTC")
    assert headers[:2] == ["direction", "outcome"]
    providers = [names[h] for h in headers[2:]]
    shown: dict[str, dict[str, dict[str, int]]] = {}
    direction = ""
    for label, outcome, *counts in rows:
        direction = DIRECTIONS[label] if label else direction
        numbers = [int(c.replace(",", "")) for c in counts]
        by_provider = shown.setdefault(direction, {})
        if outcome == "total":
            assert numbers == [sum(by_provider.get(p, {}).values()) for p in providers], (direction, numbers)
            continue
        for provider, n in zip(providers, numbers, strict=True):
            if n:
                by_provider.setdefault(provider, {})[outcome.upper()] = n
    assert shown == figures["outcomes"]

    # the window's calls, counted in the snapshot's unified model (reporting zone UTC, the default)
    con = duckdb.connect(str(data_dir / "serving.duckdb"), read_only=True)
    try:
        in_window = dict(
            con.execute(
                "select provider, count(*) from uc.uc_call where start_at >= ?::timestamptz "
                "and start_at < ?::timestamptz group by provider",
                [start.isoformat(), (end + timedelta(days=1)).isoformat()],
            ).fetchall()
        )
    finally:
        con.close()
    per_provider: dict[str, int] = {}
    for by_provider in shown.values():
        for provider, counts in by_provider.items():
            per_provider[provider] = per_provider.get(provider, 0) + sum(counts.values())
    assert per_provider == in_window

    title, headers, rows = _table(out, "Inbound KPIs, " + window)
    assert title.groups() == (start.isoformat(), end.isoformat(), "2", "UTC")
    assert {names[h] for h in headers[1:]} == set(figures["totals"])
    shown_kpis = {row[0]: dict(zip(headers[1:], row[1:], strict=True)) for row in rows}
    assert list(shown_kpis)[:3] == ["offered", "answered", "abandon rate"] and list(shown_kpis)[-2:] == ["ASA", "AHT"]
    service_level = next(label for label in shown_kpis if label.startswith("service level"))
    threshold = figures["service_level_threshold_s"]
    assert service_level == f"service level ≤ {threshold[0]} s" and len(threshold) == 1
    for name in headers[1:]:
        expected = figures["totals"][names[name]]
        assert [_number(shown_kpis[label][name]) for label in shown_kpis] == [
            expected["offered"],
            expected["answered"],
            _rounded(expected["abandonment_pct"], 1),
            _rounded(expected["service_level_pct"], 1),
            _rounded(expected["asa_s"], 0),
            _rounded(expected["aht_s"], 0),
        ], name
    assert (data_dir / "reports" / "kpi_last_30_days.png").stat().st_size > 10_000


def test_verbose_demo_on_an_object_store_shows_dbt_output(s3_landing: S3Landing, tmp_path: Path) -> None:
    # the whole demo with the landing zone in a bucket of the loopback S3 server (UC_LANDING_URL and the
    # AWS variables come from `s3_landing`): nothing lands on the local disk, dbt builds from the bucket
    # and the serving snapshot is published beside the landing
    data_dir = tmp_path / "data"
    proc = _run(["-m", "uc_pipeline.demo", "--verbose"], data_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert DBT_NODE_LINE.search(proc.stdout), proc.stdout
    assert not (data_dir / "landing").exists()
    keys = s3_landing.object_keys()
    for provider in PROVIDER_IDS:
        assert any(k.startswith(f"landing/{provider}/") for k in keys), provider
    assert "serving.duckdb" in keys
    served = duckdb.connect(str(data_dir / "serving.duckdb"), read_only=True)
    try:
        assert served.execute("select count(distinct provider) from uc.uc_call").fetchone()[0] == len(PROVIDER_IDS)
    finally:
        served.close()


def test_tables_fold_names_rather_than_cut_them_on_a_narrow_terminal() -> None:
    from rich.console import Console

    unmeasured = Kpis(None, None, None, None, None, None, None)
    figures = WindowFigures(
        first_day=date(2026, 3, 1),
        last_day=date(2026, 3, 1),
        service_level_threshold_s=[20],
        reporting_timezone="Europe/Paris",
        names={"eightbyeight": "8x8 Virtual Contact Center"},
        totals={"eightbyeight": unmeasured},
        daily={},
        outcomes={"INBOUND": {"eightbyeight": {"ANSWERED": 1234, "VOICEMAIL": 5}}},
    )
    console = Console(width=50, record=True, file=open(os.devnull, "w"))  # noqa: SIM115 - closed with the console
    for table in summary_tables(figures):
        console.print(table)
    text = console.export_text()
    console.file.close()
    assert "…" not in text and max(map(len, text.splitlines())) <= 50
    assert "2026-03-01 .. 2026-03-01 (1 day, Europe/Paris)" in " ".join(text.split())  # the title wraps
    _, headers, rows = _table(text, "Inbound KPIs")
    assert headers == ["", "8x8 Virtual Contact Center"]  # wrapped between words, whole
    assert [row[1] for row in rows] == ["n/a"] * 6
    _, headers, rows = _table(text, "Calls by direction")
    assert headers == ["direction", "outcome", "8x8 Virtual Contact Center"]
    assert rows == [["inbound", "answered", "1,234"], ["", "voicemail", "5"], ["", "total", "1,239"]]
