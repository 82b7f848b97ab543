"""Incremental runs: a record landed again on a later day keeps its newest version, whichever day's
window runs last (deduped within the batch and against the rows already staged); a rebuilt call
replaces its comments and recordings, and the marts recompute a day that a call's start left."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from tests.dbt_staging import dbtrun, samples

DAY1, DAY2 = date(2020, 10, 15), date(2020, 10, 16)


def window(day: date) -> dict[str, str]:
    return {"uc_start_date": day.isoformat(), "uc_end_date": day.isoformat()}


def staged(data_dir: Path, sql: str) -> list[dict]:
    return dbtrun.query(data_dir, sql)


def test_later_version_wins_whatever_order_the_days_run(data_dir: Path) -> None:
    call_v1 = samples.fixture_json("zendesk_talk_incremental_call_object.json")
    call_v2 = {**call_v1, "updated_at": "2020-10-16T09:00:00Z", "wrap_up_time": 90}
    samples.land(data_dir, "zendesk", "calls", DAY1, [(str(call_v1["id"]), call_v1)])
    samples.land(data_dir, "zendesk", "legs", DAY1, [])
    created = samples.fixture_json("aircall_webhook_call_created_outbound.json")["data"]
    ended = samples.fixture_json("aircall_webhook_call_ended_outbound.json")["data"]
    # Aircall reports no update time: the later extraction wins.
    samples.land(data_dir, "aircall", "calls", DAY1, [(str(created["id"]), created)],
                 extracted_at=datetime(2020, 10, 15, 12, tzinfo=UTC))
    select = "staging.zendesk staging.aircall"
    dbtrun.build(data_dir, select, vars=window(DAY1))
    zd = staged(data_dir, "select source_id, updated_at, wrap_up_s from staging.stg_zendesk__uc_call")
    assert [(r["source_id"], r["wrap_up_s"]) for r in zd] == [("123", 66)]
    ac = staged(data_dir, "select source_id, outcome from staging.stg_aircall__uc_call")
    assert [(r["source_id"], r["outcome"]) for r in ac] == [("780836699", "UNKNOWN")]

    samples.land(data_dir, "zendesk", "calls", DAY2, [(str(call_v2["id"]), call_v2)])
    samples.land(data_dir, "aircall", "calls", DAY2, [(str(ended["id"]), ended)],
                 extracted_at=datetime(2020, 10, 16, 12, tzinfo=UTC))
    dbtrun.build(data_dir, select, vars=window(DAY2))
    zd = staged(data_dir, "select source_id, updated_at, wrap_up_s from staging.stg_zendesk__uc_call")
    assert [(r["source_id"], r["updated_at"], r["wrap_up_s"]) for r in zd] == [
        ("123", datetime(2020, 10, 16, 9, tzinfo=UTC), 90)]
    ac = staged(data_dir, "select source_id, outcome, talk_s from staging.stg_aircall__uc_call")
    assert [(r["source_id"], r["outcome"], r["talk_s"]) for r in ac] == [("780836699", "ANSWERED", 15)]

    # Re-running the older day (a lookback) must not bring the older versions back, nor rewrite the
    # newer stored rows (their `_loaded_at` stays, so the uc_* models have nothing to redo).
    stamps = ("select _loaded_at from staging.stg_zendesk__uc_call "
              "union all select _loaded_at from staging.stg_aircall__uc_call")
    before = staged(data_dir, stamps)
    dbtrun.build(data_dir, select, vars=window(DAY1))
    zd = staged(data_dir, "select wrap_up_s, landed_date from staging.stg_zendesk__uc_call")
    assert [(r["wrap_up_s"], r["landed_date"]) for r in zd] == [(90, DAY2)]
    ac = staged(data_dir, "select outcome, landed_date from staging.stg_aircall__uc_call")
    assert [(r["outcome"], r["landed_date"]) for r in ac] == [("ANSWERED", DAY2)]
    assert staged(data_dir, stamps) == before

    # Re-running the day that brought the stored versions, with nothing new landed, writes nothing.
    dbtrun.build(data_dir, select, vars=window(DAY2))
    assert staged(data_dir, stamps) == before


def test_full_history_run_dedupes_within_the_batch(data_dir: Path) -> None:
    call_v1 = samples.fixture_json("zendesk_talk_incremental_call_object.json")
    call_v2 = {**call_v1, "updated_at": "2020-10-16T09:00:00Z", "completion_status": "abandoned_in_queue"}
    # The newer version sits on the earlier partition: the provider's update time decides, not the day.
    samples.land(data_dir, "zendesk", "calls", DAY1, [(str(call_v2["id"]), call_v2)])
    samples.land(data_dir, "zendesk", "calls", DAY2, [(str(call_v1["id"]), call_v1)])
    samples.land(data_dir, "zendesk", "legs", DAY1, [])
    # Aircall reports no update time: the later extraction decides, here the earlier day's (a lookback
    # re-extracted it after the later day had landed).
    created = samples.fixture_json("aircall_webhook_call_created_outbound.json")["data"]
    ended = samples.fixture_json("aircall_webhook_call_ended_outbound.json")["data"]
    samples.land(data_dir, "aircall", "calls", DAY1, [(str(ended["id"]), ended)],
                 extracted_at=datetime(2020, 10, 17, 12, tzinfo=UTC))
    samples.land(data_dir, "aircall", "calls", DAY2, [(str(created["id"]), created)],
                 extracted_at=datetime(2020, 10, 16, 12, tzinfo=UTC))
    dbtrun.build(data_dir, "staging.zendesk staging.aircall")
    rows = staged(data_dir, "select source_id, outcome, missed_reason from staging.stg_zendesk__uc_call")
    assert [(r["source_id"], r["outcome"], r["missed_reason"]) for r in rows] == [
        ("123", "ABANDONED", "abandoned_in_queue")]
    rows = staged(data_dir, "select outcome, landed_date from staging.stg_aircall__uc_call")
    assert [(r["outcome"], r["landed_date"]) for r in rows] == [("ANSWERED", DAY1)]


def test_provider_uc_tables_rewrite_only_what_staging_wrote_since(data_dir: Path) -> None:
    call = samples.fixture_json("zendesk_talk_incremental_call_object.json")
    samples.land(data_dir, "zendesk", "calls", DAY1, [(str(call["id"]), call)])
    samples.land(data_dir, "zendesk", "legs", DAY1, [])
    created = samples.fixture_json("aircall_webhook_call_created_outbound.json")["data"]
    samples.land(data_dir, "aircall", "calls", DAY1, [(str(created["id"]), created)])
    select = "staging.zendesk staging.aircall"
    dbtrun.build(data_dir, select, vars=window(DAY1))
    rows = "select id, transfer_count, _loaded_at from staging.stg_{}__uc_call"
    [zd1] = staged(data_dir, rows.format("zendesk"))
    [ac1] = staged(data_dir, rows.format("aircall"))
    assert zd1["transfer_count"] is None  # no legs seen yet

    # Day 2 lands only a leg of the Zendesk call (an agent leg transferred from another agent).
    leg = {**samples.fixture_json("zendesk_talk_incremental_leg_object.json"), "call_id": call["id"],
           "type": "agent", "agent_id": 7, "transferred_from": 6}
    samples.land(data_dir, "zendesk", "legs", DAY2, [(str(leg["id"]), leg)])
    dbtrun.build(data_dir, select, vars=window(DAY2))
    [zd2] = staged(data_dir, rows.format("zendesk"))
    [ac2] = staged(data_dir, rows.format("aircall"))
    assert (zd2["id"], zd2["transfer_count"]) == (zd1["id"], 1)
    assert zd2["_loaded_at"] > zd1["_loaded_at"]
    assert ac2 == ac1  # nothing of it was staged again: not rewritten
    # a per-provider table built from other staging tables reads only what they wrote after its own
    # newest row, as a literal
    compiled = (data_dir / "target" / "compiled" / "uc_pipeline" / "models" / "staging" / "zendesk"
                / "stg_zendesk__uc_call.sql").read_text()
    assert re.search(r"_loaded_at > cast\('[0-9-]+ [0-9:.]+\+00' as timestamptz\)", compiled), compiled

    # Day 3 lands an older extraction of the call (its backfill ran late) and a second transfer: the
    # stored version stays, and its transfers are counted again.
    DAY3 = date(2020, 10, 17)
    samples.land(data_dir, "zendesk", "calls", DAY3, [(str(call["id"]), call)],
                 extracted_at=datetime(2020, 10, 16, tzinfo=UTC))
    second = {**leg, "id": leg["id"] + 1, "agent_id": 8, "transferred_from": 7}
    samples.land(data_dir, "zendesk", "legs", DAY3, [(str(second["id"]), second)])
    dbtrun.build(data_dir, select, vars=window(DAY3))
    [zd3] = staged(data_dir, rows.format("zendesk"))
    assert (zd3["id"], zd3["transfer_count"]) == (zd1["id"], 2)
    landed = staged(data_dir, "select landed_date from staging.stg_zendesk__uc_call")
    assert [r["landed_date"] for r in landed] == [DAY1]


def test_contact_comes_from_the_latest_call_that_shows_it(data_dir: Path) -> None:
    call = samples.fixture_json("aircall_webhook_call_ended_inbound.json")["data"]

    def with_contact(call_id: int, started_at: int, first_name: str) -> tuple[str, dict]:
        contact = {"id": 42, "first_name": first_name, "last_name": "Doe", "company_name": "Acme",
                   "emails": [{"value": f"{first_name.lower()}@example.com"}], "phone_numbers": []}
        return str(call_id), {**call, "id": call_id, "started_at": started_at, "contact": contact}

    # One extraction shows the contact on two calls: the call that started later has the newer name.
    samples.land(data_dir, "aircall", "calls", DAY1, [
        with_contact(2, 1602770000, "Janet"), with_contact(1, 1602760000, "Jane")])
    dbtrun.build(data_dir, vars=window(DAY1))
    names = "select source_id, first_name, email from uc.uc_contact"
    assert [(r["source_id"], r["first_name"], r["email"]) for r in staged(data_dir, names)] == [
        ("42", "Janet", "janet@example.com")]

    # A later extraction wins over a later start: day 2 lands the earlier call again, renamed.
    samples.land(data_dir, "aircall", "calls", DAY2, [with_contact(1, 1602760000, "J.")])
    dbtrun.build(data_dir, vars=window(DAY2))
    assert [r["first_name"] for r in staged(data_dir, names)] == ["J."]


def test_a_comment_or_recording_gone_from_a_newer_version_of_its_call_goes(data_dir: Path) -> None:
    call = samples.fixture_json("aircall_webhook_call_ended_inbound.json")["data"]
    comment = {"id": 5, "content": "call back", "posted_at": 1646389800, "posted_by": {"id": 9}}
    kept = {**call, "id": 2, "comments": [{**comment, "id": 6}], "recording": "https://x.example/r.mp3",
            "voicemail": None, "asset": "https://assets.aircall.io/calls/2/recording"}
    v1 = {**call, "id": 1, "comments": [comment, {**comment, "id": 7}], "recording": "https://x.example/r.mp3",
          "asset": "https://assets.aircall.io/calls/1/recording"}
    # the newer version: one comment deleted, the recording deleted, the voicemail still there
    v2 = {**v1, "comments": [comment], "recording": None, "asset": "https://assets.aircall.io/calls/1/voicemail"}
    record = next(r for r in samples.ringcentral_records() if r.get("recording"))
    record_v2 = {**record, "recording": None, "lastModifiedTime": "2023-04-12T00:00:00.000Z"}
    samples.land(data_dir, "aircall", "calls", DAY1, [("1", v1), ("2", kept)])
    samples.land(data_dir, "ringcentral", "call_log", DAY1, [(record["id"], record)])
    # Aircall's media and comments are read from its stored calls by the uc views (their staging models are ephemeral)
    select = "+uc_recording +uc_comment"
    media = "select source_id from uc.uc_recording where provider = '{}' order by source_id"
    comments = "select source_id, call_id from uc.uc_comment where provider = 'aircall' order by source_id"
    dbtrun.build(data_dir, select, vars=window(DAY1))
    assert [r["source_id"] for r in staged(data_dir, media.format("aircall"))] == [
        "1:recording", "1:voicemail", "2:recording"]
    assert [r["source_id"] for r in staged(data_dir, comments)] == ["5", "6", "7"]
    assert [r["source_id"] for r in staged(data_dir, media.format("ringcentral"))] == [record["recording"]["id"]]

    # A run that fails on a comment time it cannot read leaves the call, its comments and its media
    # as they were; the next run catches up.
    broken = {**v2, "comments": [{**comment, "posted_at": "soon"}]}
    samples.land(data_dir, "aircall", "calls", DAY2, [("1", broken)])
    with pytest.raises(dbtrun.DbtFailed, match="stg_aircall__uc_call"):
        dbtrun.build(data_dir, "staging.aircall", vars=window(DAY2))
    assert [r["source_id"] for r in staged(data_dir, comments)] == ["5", "6", "7"]
    assert [r["source_id"] for r in staged(data_dir, media.format("aircall"))] == [
        "1:recording", "1:voicemail", "2:recording"]

    # the day extracted again (Aircall has no update time: the later extraction wins)
    samples.land(data_dir, "aircall", "calls", DAY2, [("1", v2)], extracted_at=datetime(2020, 10, 17, 9, tzinfo=UTC))
    samples.land(data_dir, "ringcentral", "call_log", DAY2, [(record["id"], record_v2)])
    dbtrun.build(data_dir, select, vars=window(DAY2))
    assert [r["source_id"] for r in staged(data_dir, media.format("aircall"))] == ["1:voicemail", "2:recording"]
    assert [(r["source_id"], r["call_id"]) for r in staged(data_dir, comments)] == [
        ("5", "aircall:acme:1"), ("6", "aircall:acme:2")]
    assert staged(data_dir, media.format("ringcentral")) == []


def test_a_call_whose_start_moves_to_an_earlier_day_leaves_the_later_days_marts(data_dir: Path) -> None:
    # One RingCentral session across midnight: its second record's day runs first (a backfill runs days
    # in any order); the first record, landed on the day before, moves the call's start to that day.
    record = samples.fixture_json("ringcentral_call_log_record_simple.json")
    first = {**record, "id": "A1", "sessionId": "S1", "startTime": "2020-10-15T23:59:00.000Z"}
    second = {**record, "id": "B1", "sessionId": "S1", "startTime": "2020-10-16T00:01:00.000Z"}
    # the coverage tests need every provider's fields somewhere in the data; one record has too few
    build = ["build", "--indirect-selection", "cautious", "--select", "staging", "raw", "uc", "reporting",
             "resource_type:seed", "--exclude", "test_name:matches_field_coverage"]
    per_day = ("select day, sum(calls) as calls from reporting.calls_daily where provider = 'ringcentral' "
               "group by day order by day")
    samples.land(data_dir, "ringcentral", "call_log", DAY2, [("B1", second)])
    dbtrun.dbt(data_dir, build, vars=window(DAY2))
    assert [(r["day"], r["calls"]) for r in staged(data_dir, per_day)] == [(DAY2, 1)]

    samples.land(data_dir, "ringcentral", "call_log", DAY1, [("A1", first)])
    dbtrun.dbt(data_dir, build, vars=window(DAY1))
    calls = staged(data_dir, "select source_id, call_date, _previous_call_dates from uc.uc_call")
    assert [(r["source_id"], r["call_date"], r["_previous_call_dates"]) for r in calls] == [("S1", DAY1, [DAY2])]
    assert [(r["day"], r["calls"]) for r in staged(data_dir, per_day)] == [(DAY1, 1)]


def test_a_table_built_before_it_kept_its_provider_columns_stops_the_run_with_the_fix(data_dir: Path) -> None:
    created = samples.fixture_json("aircall_webhook_call_created_outbound.json")["data"]
    samples.land(data_dir, "aircall", "calls", DAY1, [(str(created["id"]), created)])
    dbtrun.build(data_dir, "staging.aircall", vars=window(DAY1))
    # as an earlier version stored Aircall calls: without the nested comments and contact
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"))
    try:
        con.execute("alter table staging.stg_aircall__uc_call drop column comments")
        con.execute("alter table staging.stg_aircall__uc_call drop column contact")
    finally:
        con.close()
    with pytest.raises(dbtrun.DbtFailed, match=r"lacks the columns comments, contact\. .*--full-refresh"):
        dbtrun.build(data_dir, "staging.aircall", vars=window(DAY1))
    dbtrun.dbt(data_dir, ["build", "--full-refresh", "--indirect-selection", "cautious", "--select", "staging.aircall"])
    assert [r["comments"] for r in staged(data_dir, "select comments from staging.stg_aircall__uc_call")] == [[]]
