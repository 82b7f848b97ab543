"""Data tests that fit windowed runs, ids unique over whole tables, and provider enum drift made
visible: real dbt builds over landed vendor samples, and the Dagster asset check on the warehouse."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from tests.dbt_staging import dbtrun, samples
from uc_pipeline.assets.checks import ASSET_CHECKS, UC_CALL, uc_call_unknown_enum_values
from uc_pipeline.assets.resources import PipelineResource

UC_TABLES = ("uc_call", "uc_recording", "uc_comment", "uc_contact", "uc_user")


def window(day: date) -> dict[str, str]:
    return {"uc_start_date": day.isoformat(), "uc_end_date": day.isoformat()}


def daily_build(data_dir: Path, day: date) -> dict[str, dict[str, Any]]:
    """The whole project as the daily job builds a partition (models, seeds, data tests); results by name."""
    results = dbtrun.dbt(data_dir, ["build", "--exclude-resource-type", "unit_test"], vars=window(day))
    return {r["unique_id"].split(".")[2]: r for r in results}


def duplicate_ids(data_dir: Path) -> dict[str, list[str]]:
    found = {}
    for table in UC_TABLES:
        rows = dbtrun.query(data_dir, f"select id from uc.{table} group by id having count(*) > 1")
        found[table] = [r["id"] for r in rows]
    return found


def test_a_one_call_day_builds_green_and_coverage_only_warns(data_dir: Path) -> None:
    # A day with one Zendesk call that names no agent, no customer and no group, and no legs: every
    # column the coverage marks native for Zendesk (user_id, contact_id, queue_id, ...) is NULL on
    # every row of the day. That is a normal day, not a broken build.
    call = samples.fixture_json("zendesk_talk_incremental_call_object.json")
    bare = {**call, "agent_id": None, "customer_id": None, "call_group_id": None}
    day = date(2020, 10, 15)
    samples.land(data_dir, "zendesk", "calls", day, [(str(bare["id"]), bare)])
    samples.land(data_dir, "zendesk", "legs", day, [])
    results = daily_build(data_dir, day)  # raises on any error

    assert results["uc_call_unavailable_columns_are_null"]["status"] == "pass"
    filled = results["uc_field_coverage_filled_in_history"]
    assert filled["status"] == "warn" and filled["failures"] >= 3  # user_id, contact_id, queue_id at least
    kpis = dbtrun.query(data_dir, "select provider, offered_calls, answered_calls from reporting.kpi_daily")
    assert [(k["provider"], k["offered_calls"], k["answered_calls"]) for k in kpis] == [("zendesk", 1, 1)]


def test_a_column_marked_unavailable_with_values_fails_the_build(data_dir: Path) -> None:
    # 8x8's coverage marks missed_reason unavailable; a stored row holding one breaks the contract.
    samples.land(data_dir, "eightbyeight", "recordings", date(2007, 12, 20),
                 [(r["filename"], r) for r in samples.eightbyeight_recordings()])
    dbtrun.dbt(data_dir, ["build", "--exclude-resource-type", "unit_test"])
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    con.execute("update staging.stg_eightbyeight__uc_call set missed_reason = 'invented'")
    con.close()
    try:
        dbtrun.dbt(data_dir, ["test", "--select", "uc_call_unavailable_columns_are_null"])
    except dbtrun.DbtFailed as failed:
        assert "uc_call_unavailable_columns_are_null" in str(failed)
    else:
        raise AssertionError("a value in a column marked unavailable must fail the test")


def test_a_landed_record_without_its_key_fails_the_source_test_naming_the_column(data_dir: Path) -> None:
    calls = samples.aircall_calls()
    samples.land(data_dir, "aircall", "calls", date(2022, 3, 4), [(str(c["id"]), c) for c in calls])
    test = ["test", "--select", "landed_aircall_calls_keys_are_not_null", "--store-failures"]
    dbtrun.dbt(data_dir, test)  # every landed record has both keys
    # A file landed by something other than the pipeline's writer (copied in by hand, an older version)
    # holding a record without its `_record_id`.
    part = next((data_dir / "landing" / "aircall" / "calls").glob("connection=*/date=*/part.parquet"))
    con = duckdb.connect()
    con.execute(f"copy (select * replace (case when _record_id = '{calls[0]['id']}' then null else _record_id end"
                f" as _record_id) from read_parquet('{part}')) to '{part}.tmp' (format parquet)")
    con.close()
    part.with_name("part.parquet.tmp").replace(part)
    try:
        dbtrun.dbt(data_dir, test)
    except dbtrun.DbtFailed as failed:
        assert "landed_aircall_calls_keys_are_not_null" in str(failed) and "Got 1 result" in str(failed)
    else:
        raise AssertionError("a landed record without its _record_id must fail the source test")
    [stored] = dbtrun.query(data_dir, "select schema_name from duckdb_tables() "
                                      "where table_name = 'landed_aircall_calls_keys_are_not_null'")
    failures = dbtrun.query(data_dir, f"select * from {stored['schema_name']}.landed_aircall_calls_keys_are_not_null")
    assert failures == [{"null_column": "_record_id", "connection": samples.CONNECTION}]


def test_ids_stay_unique_over_whole_tables_when_windows_land_the_same_ids(data_dir: Path) -> None:
    samples.land_all_samples(data_dir)
    dbtrun.dbt(data_dir, ["build", "--exclude-resource-type", "unit_test"])
    assert duplicate_ids(data_dir) == {t: [] for t in UC_TABLES}
    counts = {t: dbtrun.query(data_dir, f"select count(*) as n from uc.{t}")[0]["n"] for t in UC_TABLES}

    # Every record lands again on a later day (a lookback re-extracted them), and the two RingCentral
    # sessions that share recording 1662272004 are re-landed too: the day's window writes the same
    # ids again, which must replace the stored rows, not add to them.
    later = date(2024, 1, 10)
    extracted = datetime(2024, 1, 11, tzinfo=UTC)
    samples.land(data_dir, "aircall", "calls", later, [(str(c["id"]), c) for c in samples.aircall_calls()],
                 extracted_at=extracted)
    relanded = []
    for r in samples.ringcentral_records():
        r = copy.deepcopy(r)
        r["lastModifiedTime"] = "2024-01-10T12:00:00.000Z"
        relanded.append((r["id"], r))
    samples.land(data_dir, "ringcentral", "call_log", later, relanded, extracted_at=extracted)
    samples.land(data_dir, "eightbyeight", "recordings", later,
                 [(r["filename"], r) for r in samples.eightbyeight_recordings()], extracted_at=extracted)
    call = samples.fixture_json("zendesk_talk_incremental_call_object.json")
    newer = "2024-01-10T12:00:00Z"
    samples.land(data_dir, "zendesk", "calls", later, [(str(call["id"]), {**call, "updated_at": newer})],
                 extracted_at=extracted)
    leg = samples.fixture_json("zendesk_talk_incremental_leg_object.json")
    samples.land(data_dir, "zendesk", "legs", later, [(str(leg["id"]), {**leg, "updated_at": newer})],
                 extracted_at=extracted)
    daily_build(data_dir, later)
    # and an old day run again (a backfill re-running a partition)
    daily_build(data_dir, date(2023, 4, 10))

    assert duplicate_ids(data_dir) == {t: [] for t in UC_TABLES}
    assert {t: dbtrun.query(data_dir, f"select count(*) as n from uc.{t}")[0]["n"] for t in UC_TABLES} == counts
    shared = dbtrun.query(data_dir, "select call_id from uc.uc_recording where source_id = '1662272004' order by 1")
    assert [r["call_id"] for r in shared] == ["ringcentral:acme:1039811321016", "ringcentral:acme:13916417004"]


def run_asset_check(data_dir: Path) -> dg.AssetCheckEvaluation:
    """The asset check as Dagster runs it: a job selecting the check, on the warehouse of `data_dir`."""
    defs = dg.Definitions(
        assets=[dg.AssetSpec(UC_CALL)],
        asset_checks=ASSET_CHECKS,
        jobs=[dg.define_asset_job("checks", selection=dg.AssetSelection.checks(uc_call_unknown_enum_values))],
        resources={"uc": PipelineResource(data_dir=str(data_dir), connections_file=str(data_dir / "none.yaml"))},
    )
    result = defs.resolve_job_def("checks").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    return evaluation


def test_an_invented_enum_value_is_unknown_and_named_by_the_test_and_the_asset_check(data_dir: Path) -> None:
    day = date(2022, 3, 4)
    calls = samples.aircall_calls()
    ended = next(c for c in calls if c["missed_call_reason"] == "agents_did_not_answer")
    drifted = {**ended, "id": 990001, "missed_call_reason": "abandoned_in_hyperspace", "voicemail": None,
               "asset": None}
    samples.land(data_dir, "aircall", "calls", day, [(str(c["id"]), c) for c in [*calls, drifted]])
    rc = [r for r in samples.ringcentral_records() if r["id"] == "ASaoSC9FIMaOF24"][0]
    rc_drifted = {**rc, "id": "Xinvented1", "sessionId": "990002", "result": "Teleported", "recording": None}
    samples.land(data_dir, "ringcentral", "call_log", day, [(rc_drifted["id"], rc_drifted)])
    assert run_asset_check(data_dir).passed  # nothing built yet: nothing to report

    results = daily_build(data_dir, day)
    rows = dbtrun.query(data_dir, "select id, outcome, missed_reason, missed_reason_group from uc.uc_call "
                                  "where id in ('aircall:acme:990001', 'ringcentral:acme:990002') order by id")
    assert [(r["outcome"], r["missed_reason"], r["missed_reason_group"]) for r in rows] == [
        ("UNKNOWN", "abandoned_in_hyperspace", "UNKNOWN"), ("UNKNOWN", "Teleported", "UNKNOWN")]

    test = results["uc_call_no_unknown_enum_values"]
    assert (test["status"], test["failures"]) == ("warn", 2)
    named = dbtrun.query(data_dir, "select provider, field, value, calls "
                                   "from dbt_test__audit.uc_call_no_unknown_enum_values order by provider")
    assert [(r["provider"], r["field"], r["value"], r["calls"]) for r in named] == [
        ("aircall", "missed_call_reason", "abandoned_in_hyperspace", 1), ("ringcentral", "result", "Teleported", 1)]

    evaluation = run_asset_check(data_dir)
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert "aircall missed_call_reason 'abandoned_in_hyperspace': 1 call" in evaluation.description
    assert "ringcentral result 'Teleported': 1 call" in evaluation.description
    assert evaluation.metadata["calls"].value == 2
