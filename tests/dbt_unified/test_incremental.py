"""Partitioned runs: a one-day run rewrites only the calls staged since the last run (whatever their
day) and the marts' local days they fall on, follows a record re-landed for another day, and the
landing read prunes to the window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from uc_pipeline.landing import write_partition

from . import kpis, standin
from .harness import copy_project
from .test_unified_models import coverage_of

D1, D2, D3 = date(2026, 4, 6), date(2026, 4, 7), date(2026, 4, 8)


def _loaded(project, table: str, day_col: str, stamp: str) -> dict[date, set]:
    rows = project.query(f"select {day_col}, {stamp} from {table}")
    out: dict[date, set] = {}
    for day, value in rows:
        out.setdefault(day, set()).add(value)
    return out


def test_one_day_run_rewrites_only_what_it_staged(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    data = standin.generate([D1, D2, D3], calls_per_day=20, seed=11)
    standin.install(project, data)
    project.run("build")
    first_calls = _loaded(project, "uc.uc_call", "call_date", "_loaded_at")
    first_kpis = _loaded(project, "reporting.kpi_daily", "day", "_uc_loaded_at")
    assert set(first_calls) == {D1, D2, D3} and all(len(v) == 1 for v in first_calls.values())

    # Day 2 is landed again: one of its calls changed outcome, and it carried a newer version of a
    # day-1 call (a late update), as a lookback re-extraction would.
    relanded = datetime.combine(D2, datetime.min.time(), UTC) + timedelta(days=5)
    day2 = next(
        c
        for c in data.calls("zendesk")
        if c["call_date"] == D2 and c["outcome"] == "ANSWERED" and c["type"] == "INBOUND"
    )
    day2.update(
        outcome="ABANDONED",
        missed_reason="abandoned_in_queue",
        answered_at=None,
        talk_s=0,
        user_id=None,
        user_name=None,
        _extracted_at=relanded,
    )
    day1 = next(c for c in data.calls("aircall") if c["call_date"] == D1 and c["type"] == "INBOUND")
    day1.update(wait_s=day1["wait_s"] + 7, _extracted_at=relanded, _landed_date=D2)
    standin.write_rows(project, data)

    project.run("build", "--select", "tag:partitioned", vars={"uc_start_date": str(D2), "uc_end_date": str(D2)})

    second_calls = _loaded(project, "uc.uc_call", "call_date", "_loaded_at")
    second_kpis = _loaded(project, "reporting.kpi_daily", "day", "_uc_loaded_at")
    assert second_calls[D3] == first_calls[D3]
    assert second_calls[D1] != first_calls[D1] and second_calls[D2] != first_calls[D2]
    assert second_kpis[D3] == first_kpis[D3]
    assert second_kpis[D1] != first_kpis[D1] and second_kpis[D2] != first_kpis[D2]
    assert project.query(f"select outcome from uc.uc_call where id = '{day2['id']}'") == [("ABANDONED",)]
    assert project.query(f"select wait_s from uc.uc_call where id = '{day1['id']}'") == [(day1["wait_s"],)]

    want = kpis.kpi_daily(data.calls(), coverage_of)
    rows = project.query_dicts("select * from reporting.kpi_daily")
    got = {(r["day"], r["provider"], r["connection_id"]): r for r in rows}
    assert got.keys() == want.keys()
    for key, expected in want.items():
        for column in ("offered_calls", "abandoned_calls", "asa_s", "abandonment_rate", "service_level"):
            value = expected[column]
            assert got[key][column] == (pytest.approx(value) if isinstance(value, float) else value), (key, column)

    # Nothing changed for day 3: a run for it rewrites day 3 and nothing else.
    project.run("run", "--select", "tag:partitioned", vars={"uc_start_date": str(D3), "uc_end_date": str(D3)})
    third_calls = _loaded(project, "uc.uc_call", "call_date", "_loaded_at")
    third_kpis = _loaded(project, "reporting.kpi_daily", "day", "_uc_loaded_at")
    assert third_calls[D1] == second_calls[D1] and third_calls[D2] == second_calls[D2]
    assert third_calls[D3] != second_calls[D3]
    assert third_kpis[D1] == second_kpis[D1] and third_kpis[D2] == second_kpis[D2]
    assert third_kpis[D3] != second_kpis[D3]
    assert project.query("select count(*) from uc.uc_call")[0][0] == len(data.calls())


def test_window_from_the_environment_keeps_dbts_parse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As Dagster runs a partition: the window in UC_START_DATE/UC_END_DATE limits the run as `--vars`
    does, and dbt reuses its saved parse instead of parsing the project again. `--vars` overrides it."""
    project = copy_project(tmp_path)
    data = standin.generate([D1, D2, D3], calls_per_day=20, seed=13)
    standin.install(project, data)
    project.run("build")
    first = _loaded(project, "uc.uc_call", "call_date", "_loaded_at")
    log = project.target_dir / "logs" / "dbt.log"
    logged = log.stat().st_size

    monkeypatch.setenv("UC_START_DATE", str(D3))
    monkeypatch.setenv("UC_END_DATE", str(D3))
    project.run("run", "--select", "tag:partitioned")
    second = _loaded(project, "uc.uc_call", "call_date", "_loaded_at")
    assert second[D1] == first[D1] and second[D2] == first[D2] and second[D3] != first[D3]
    this_run = log.read_bytes()[logged:].decode()
    assert "Partial parsing enabled, no changes found, skipping parsing" in this_run
    assert "Unable to do partial parsing" not in this_run

    project.run("run", "--select", "tag:partitioned", vars={"uc_start_date": str(D1), "uc_end_date": str(D1)})
    third = _loaded(project, "uc.uc_call", "call_date", "_loaded_at")
    assert third[D1] != second[D1] and third[D2] == second[D2] and third[D3] == second[D3]
    assert project.query("select count(*) from uc.uc_call")[0][0] == len(data.calls())


def test_partitioned_run_tests_only_the_rows_it_wrote(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    data = standin.generate([D1, D2, D3], calls_per_day=20, seed=12)
    standin.install(project, data)
    project.run("build", "--select", "tag:partitioned")
    # a broken row on D1, which a run of the D3 partition neither rewrites nor tests
    con = duckdb.connect(str(project.warehouse))
    call_id, provider = con.execute(
        f"select id, provider from uc.uc_call where call_date = date '{D1}' order by id limit 1").fetchone()
    # uc_call is a view over the per-provider tables
    con.execute(f"update staging.stg_{provider}__uc_call set outcome = null where id = ?", [call_id])
    con.close()

    project.run("build", "--select", "tag:partitioned", vars={"uc_start_date": str(D3), "uc_end_date": str(D3)})
    assert project.query("select count(*) from uc.uc_call where outcome is null") == [(1,)]
    test_sql = (project.target_dir / "compiled" / "uc_pipeline" / "models" / "uc" / "_uc.yml"
                / "uc_call_columns_not_null.sql").read_text()
    assert "_loaded_at = cast(" in test_sql, test_sql

    unwindowed = project.run("test", "--select", "uc_call", check=False)
    failed = {r.node.name: r.failures for r in unwindowed.result.results if str(r.status) == "fail"}
    assert failed == {"uc_call_columns_not_null": 1}  # one failing row: the column `outcome`

    # the several-column accepted_values test names the column whose value is not accepted
    con = duckdb.connect(str(project.warehouse))
    con.execute("update reporting.kpi_daily set aht_fidelity = 'estimated' "
                "where day = (select min(day) from reporting.kpi_daily)")
    con.close()
    failing = project.run("test", "--select", "kpi_daily", check=False)
    failed = {r.node.name for r in failing.result.results if str(r.status) == "fail"}
    assert failed == {"kpi_daily_fidelity_values"}
    rows = project.query(
        (project.target_dir / "compiled" / "uc_pipeline" / "models" / "reporting" / "_reporting.yml"
         / "kpi_daily_fidelity_values.sql").read_text())
    assert [row[0] for row in rows] == ["aht_fidelity"]


_LOCATION = (
    "read_parquet('{{ env_var('UC_DATA_DIR', '../data') }}/landing/aircall/{name}/*/*/part.parquet', "
    "hive_partitioning = true, hive_types_autocast = false)"
)
_SOURCE = f"""version: 2
sources:
  - name: aircall
    tables:
      - name: calls
        meta:
          external_location: "{_LOCATION}"
"""


def test_landing_read_prunes_to_the_window(tmp_path: Path) -> None:
    project = copy_project(tmp_path)
    standin.install(project, standin.generate([D1], calls_per_day=1))  # the rest of the project must parse
    probe = project.project_dir / "models" / "probe"
    probe.mkdir()
    (probe / "_sources.yml").write_text(_SOURCE)
    (probe / "landing_probe.sql").write_text("select * from {{ landing_source('aircall', 'calls') }}\n")
    for day in (D1, D2, D3):
        start = datetime.combine(day, datetime.min.time(), UTC)
        records = [(str(i), {"id": i, "started_at": int(start.timestamp()) + i}) for i in range(5)]
        end = start + timedelta(days=1)
        write_partition(
            project.data_dir,
            "aircall",
            "calls",
            "air-main",
            day,
            records,
            window_start=start,
            window_end=end,
            extracted_at=end,
        )
    project.run("compile", "--select", "landing_probe", vars={"uc_start_date": str(D2), "uc_end_date": str(D2)})
    sql = project.compiled("landing_probe", folder="probe")
    con = duckdb.connect()
    try:
        plan = con.execute(f"explain analyze {sql}").fetchall()[0][1]
        rows = con.execute(f'select count(*), min("date"), max("date") from ({sql})').fetchone()
    finally:
        con.close()
    assert "Scanning Files: 1/3" in plan, plan
    assert rows == (5, D2, D2)
