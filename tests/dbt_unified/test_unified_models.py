"""The uc_* union, its tests, and the reporting marts against KPIs computed independently in Python,
on stand-in staging models (tests/dbt_unified/standin.py) in a private copy of the dbt project."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from . import kpis, standin
from .harness import DbtProject, copy_project

DAYS = [date(2026, 3, 2), date(2026, 3, 3), date(2026, 3, 4)]


def coverage_of(provider: str, column: str) -> str:
    if column in standin.UNAVAILABLE.get(provider, {}).get("uc_call", set()):
        return "unavailable"
    return "derived" if column in standin.DERIVED else "native"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtProject, standin.StandinData]:
    project = copy_project(tmp_path_factory.mktemp("uc_models"))
    data = standin.generate(DAYS, calls_per_day=30)
    standin.install(project, data)
    project.run("build")
    return project, data


def test_uc_models_are_the_union_of_staging(built: tuple[DbtProject, standin.StandinData]) -> None:
    project, data = built
    for model in standin.UNIFIED_MODELS:
        got = dict(project.query(f"select provider, count(*) from uc.{model} group by 1"))
        want: dict[str, int] = {}
        for row in data.rows[model]:
            want[row["provider"]] = want.get(row["provider"], 0) + 1
        assert got == want, model
    cols = [
        r[0]
        for r in project.query(
            "select column_name from information_schema.columns where table_schema = 'uc' and table_name = 'uc_call' "
            "order by ordinal_position"
        )
    ]
    assert cols == [name for name, _ in standin.CONTRACT["uc_call"]] + [
        "_loaded_at", "_previous_call_dates", "_unknown_enums"]
    # one stored call compares equal, column by column, to its staging row
    call = data.calls("ringcentral")[5]
    row = project.query_dicts(f"select * from uc.uc_call where id = '{call['id']}'")[0]
    assert {k: row[k] for k in call} == call


def test_kpi_daily_matches_python(built: tuple[DbtProject, standin.StandinData]) -> None:
    project, data = built
    want = kpis.kpi_daily(data.calls(), coverage_of)
    rows = project.query_dicts("select * from reporting.kpi_daily")
    got = {(r["day"], r["provider"], r["connection_id"]): r for r in rows}
    assert got.keys() == want.keys()
    for key, expected in want.items():
        row = got[key]
        for column, value in expected.items():
            actual = row[column]
            if column == "missed_by_reason" and actual is not None:
                actual = json.loads(actual)
            if isinstance(value, float):
                assert actual == pytest.approx(value), (key, column)
            else:
                assert actual == value, (key, column)
    # the stand-in coverage makes AHT unavailable for Aircall (no hold / wrap-up) and 8x8 lose ASA
    assert {r["aht_fidelity"] for r in rows if r["provider"] == "aircall"} == {"unavailable"}
    assert {r["asa_fidelity"] for r in rows if r["provider"] == "eightbyeight"} == {"unavailable"}
    assert {r["aht_fidelity"] for r in rows if r["provider"] == "zendesk"} == {"derived"}
    assert all(r["aht_s"] is not None for r in rows if r["provider"] == "zendesk")


def test_queue_daily_matches_python(built: tuple[DbtProject, standin.StandinData]) -> None:
    project, data = built
    want = kpis.queue_daily(data.calls())
    rows = project.query_dicts("select * from reporting.queue_daily")
    got = {(r["day"], r["provider"], r["queue_id"]): r for r in rows}
    assert got.keys() == want.keys()
    for key, expected in want.items():
        row = got[key]
        provider = key[1]
        for column, value in expected.items():
            # a KPI the provider's coverage cannot measure is NULL (the stand-in: no ASA for 8x8, no AHT
            # for Aircall)
            if provider == "eightbyeight" and column in ("asa_s", "service_level", "answered_within_threshold_calls"):
                value = None
            if provider == "aircall" and column == "aht_s":
                value = None
            if isinstance(value, float):
                assert row[column] == pytest.approx(value), (key, column)
            else:
                assert row[column] == value, (key, column)
        assert row["queue_name"] == "Support" and row["queue_kind"] == "queue", key


def test_agent_and_calls_daily_match_python(built: tuple[DbtProject, standin.StandinData]) -> None:
    project, data = built
    want = kpis.agent_daily(data.calls())
    rows = project.query_dicts("select * from reporting.agent_daily")
    got = {(r["day"], r["provider"], r["user_id"]): r for r in rows}
    assert got.keys() == want.keys()
    for key, expected in want.items():
        assert got[key]["handled_calls"] == expected["handled_calls"], key
        assert got[key]["talk_s_sum"] == expected["talk_s_sum"], key
        assert got[key]["outbound_calls"] == expected["outbound_calls"], key
        if key[1] == "aircall":
            assert got[key]["aht_s"] is None and got[key]["aht_fidelity"] == "unavailable"
        else:
            assert got[key]["aht_s"] == pytest.approx(expected["aht_s"]), key

    daily = project.query(
        "select day, provider, direction, outcome, sum(calls), sum(answered_calls) "
        "from reporting.calls_daily group by all"
    )
    counts: dict[tuple, list[int]] = {}
    for c in data.calls():
        key = (c["start_at"].date(), c["provider"], c["type"], c["outcome"])
        counts.setdefault(key, [0, 0])
        counts[key][0] += 1
        counts[key][1] += c["outcome"] == "ANSWERED"
    assert {r[:4]: [r[4], r[5]] for r in daily} == counts

    heat = project.query("select sum(calls) from reporting.calls_hour_of_week")[0][0]
    assert heat == len(data.calls())


def test_warehouse_is_created_in_the_profiles_storage_version(built: tuple[DbtProject, standin.StandinData]) -> None:
    """dbt creates the warehouse in DuckDB storage v1.4 (profiles.yml `config_options`): its text compression
    writes the tables about a third faster than the default v1.0 format."""
    project, _ = built
    tags = dict(project.query("select database_name, tags from duckdb_databases()"))
    assert tags[project.warehouse.stem]["storage_version"] == "v1.4.0+"


def test_docs_generate(built: tuple[DbtProject, standin.StandinData]) -> None:
    project, _ = built
    project.run("docs", "generate")
    catalog = json.loads((project.target_dir / "catalog.json").read_text())
    manifest = json.loads((project.target_dir / "manifest.json").read_text())
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["schema"] in ("uc", "reporting"):
            stored = catalog["nodes"][node["unique_id"]]["columns"]
            undocumented = [c for c in stored if not node["columns"].get(c, {}).get("description")]
            assert not undocumented, (node["name"], undocumented)


def test_coverage_test_catches_disagreement(built: tuple[DbtProject, standin.StandinData]) -> None:
    """Claiming a filled column unavailable fails the build (error); claiming a column that is NULL in
    the whole history native is a warning (matches_field_coverage, the two checks)."""
    project, _ = built
    seed = project.project_dir / "seeds" / "coverage" / "aircall_field_coverage.csv"
    rows = list(csv.reader(seed.open()))
    for row in rows:
        if row[1] == "uc_call" and row[2] == "hold_s":
            row[3] = "native"  # Aircall's hold_s is NULL on every row
        if row[1] == "uc_call" and row[2] == "talk_s":
            row[3] = "unavailable"  # but talk_s has values
    with seed.open("w", newline="") as out:
        csv.writer(out).writerows(rows)
    project.run("seed", "--select", "aircall_field_coverage")
    project.run("run", "--select", "uc_field_coverage")
    result = project.run(
        "test", "--select", "uc_call,test_name:matches_field_coverage", "uc_field_coverage_filled_in_history",
        "--store-failures", check=False,
    )
    assert not result.success
    statuses = {r.node.name: str(r.status) for r in result.result.results if r.node.resource_type == "test"}
    assert statuses == {"uc_call_unavailable_columns_are_null": "fail", "uc_field_coverage_filled_in_history": "warn"}
    failures = project.query_dicts("select * from dbt_test__audit.uc_call_unavailable_columns_are_null")
    assert [(f["provider"], f["column_name"], f["coverage"]) for f in failures] == [
        ("aircall", "talk_s", "unavailable")]
    warnings = project.query_dicts(
        "select * from dbt_test__audit.uc_field_coverage_filled_in_history where model = 'uc_call'")
    assert [(f["provider"], f["column_name"], f["coverage"]) for f in warnings] == [("aircall", "hold_s", "native")]


def test_bad_window_vars_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = copy_project(tmp_path)
    standin.install(project, standin.generate(DAYS[:1], calls_per_day=2))
    result = project.run("compile", "--select", "uc_call", vars={"uc_start_date": "2026-03-02"}, check=False)
    assert not result.success
    assert "Set both uc_start_date and uc_end_date" in str(result.exception or result.result)

    monkeypatch.setenv("UC_START_DATE", "2026-03-02")
    monkeypatch.setenv("UC_END_DATE", "2026-03-01")
    result = project.run("compile", "--select", "uc_call", check=False)
    assert not result.success
    assert "uc_start_date (2026-03-02) is after uc_end_date (2026-03-01)" in str(result.exception or result.result)
