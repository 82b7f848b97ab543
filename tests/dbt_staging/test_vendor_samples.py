"""Staging over landing files built from the vendor samples: parsing, mapping and the contract shape."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.dbt_staging import dbtrun, samples

PROVIDERS = ("aircall", "ringcentral", "eightbyeight", "zendesk")
CONTRACT = {
    "uc_call": "id provider connection_id source_id created_at updated_at start_at answered_at end_at call_date type "
               "telephone user_id user_name user_phone contact_id is_private outcome missed_reason missed_reason_group "
               "queue_id queue_name wait_s talk_s hold_s wrap_up_s duration_s has_recording transfer_count "
               "record_source _extracted_at",
    "uc_recording": "id provider connection_id source_id call_id contact_id user_id user_name start_at end_at "
                    "duration_s type kind web_url created_at updated_at _extracted_at",
    "uc_contact": "id provider connection_id source_id name first_name last_name title company email telephone "
                  "emails telephones created_at updated_at _extracted_at",
    "uc_comment": "id provider connection_id source_id call_id content user_id created_at updated_at _extracted_at",
    "uc_user": "id provider connection_id source_id name email phone extension role _extracted_at",
    "uc_queue": "id provider connection_id source_id name kind number extension first_seen_at last_seen_at "
                "is_current _extracted_at",
}


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("samples")
    samples.land_all_samples(data_dir)
    dbtrun.build(data_dir)
    return data_dir


def calls(data_dir: Path, provider: str) -> dict[str, dict]:
    rows = dbtrun.query(data_dir, f"select * from staging.stg_{provider}__uc_call")
    return {r["source_id"]: r for r in rows}


def test_every_staging_model_has_the_contract_columns_in_order(built: Path) -> None:
    for provider in PROVIDERS:
        for model, columns in CONTRACT.items():
            actual = dbtrun.provider_columns(built, provider, model)
            assert actual == columns.split(), f"stg_{provider}__{model}"


def test_a_stored_table_keeps_its_provider_columns_after_the_contract(built: Path) -> None:
    for (provider, model), extra in dbtrun.PROVIDER_COLUMNS.items():
        names = dbtrun.columns(built, f"staging.stg_{provider}__{model}")
        contract = CONTRACT[model].split()
        assert names[: len(contract)] == contract and set(extra) <= set(names), f"stg_{provider}__{model}"


def test_raw_views_expose_every_landed_record(built: Path) -> None:
    counts = {r["n"] for r in dbtrun.query(built, "select count(*) as n from raw.aircall_calls")}
    assert counts == {3}  # six webhook events of three calls; the last event per call was landed
    rc = dbtrun.query(built, "select _record_id from raw.ringcentral_call_log order by 1")
    assert [r["_record_id"] for r in rc] == ["ASaoSC9FIMaOF24", "ASaxDDkSZ5s42MA", "VgLcd1KWffJVzUA"]


def test_aircall_calls(built: Path) -> None:
    rows = calls(built, "aircall")
    voicemail = rows["780836754"]
    assert (voicemail["outcome"], voicemail["type"], voicemail["missed_reason"]) == (
        "VOICEMAIL", "INBOUND", "agents_did_not_answer")
    assert voicemail["start_at"] == datetime.fromtimestamp(1646389739, UTC)
    assert voicemail["answered_at"] is None and voicemail["wait_s"] == 17 and voicemail["duration_s"] == 17
    answered = rows["780883160"]  # the commented event is the call's latest state
    # its transfer to 530103 failed (the call.unsuccessful_transfer event; the call went back to 731416),
    # yet the call object keeps transferred_to and says nothing of the failure: the attempt counts
    assert (answered["outcome"], answered["type"], answered["transfer_count"]) == ("ANSWERED", "INBOUND", 1)
    assert (answered["wait_s"], answered["talk_s"], answered["hold_s"]) == (15, 193, None)
    assert answered["user_id"] == "aircall:acme:731416" and answered["queue_id"] == "aircall:acme:397375"
    assert answered["updated_at"] == datetime.fromtimestamp(1646391469, UTC)  # the comment's posted_at
    outbound = rows["780836699"]
    assert (outbound["outcome"], outbound["type"], outbound["queue_id"]) == ("ANSWERED", "OUTBOUND", None)
    recs = dbtrun.query(built, "select * from uc.uc_recording where provider = 'aircall'")
    assert [(r["source_id"], r["kind"], r["web_url"]) for r in recs] == [
        ("780836754:voicemail", "voicemail", "https://assets.aircall.io/calls/780836754/voicemail")]
    comments = dbtrun.query(built, "select * from uc.uc_comment where provider = 'aircall'")
    assert [(c["id"], c["call_id"], c["user_id"]) for c in comments] == [
        ("aircall:acme:24923492", "aircall:acme:780883160", "aircall:acme:731416")]
    aircall_users = dbtrun.provider_relation("aircall", "uc_user")
    users = dbtrun.query(built, f"select source_id, name from {aircall_users} order by 1")
    assert [u["source_id"] for u in users] == ["530103", "731416", "736640"]


def test_ringcentral_sessions(built: Path) -> None:
    rows = calls(built, "ringcentral")
    assert set(rows) == {"1039811321016", "13914800004", "13916417004"}  # one row per sessionId
    detailed = rows["1039811321016"]
    assert (detailed["outcome"], detailed["type"], detailed["telephone"]) == ("ANSWERED", "INBOUND", "+14155555908")
    assert detailed["start_at"] == ts("2023-04-10T23:58:47.594Z")
    assert detailed["end_at"] == ts("2023-04-11T00:02:01.654Z")  # start + durationMs
    assert detailed["user_id"] == "ringcentral:acme:664573005" and detailed["transfer_count"] == 0
    # the agent leg's `to` is the dialled line (+15625555778, the number the caller called), not a number
    # of the agent, and it names no extension: user_phone stays NULL rather than the dialled line
    assert detailed["user_phone"] is None
    outbound = rows["13914800004"]
    assert (outbound["outcome"], outbound["type"], outbound["transfer_count"]) == ("ANSWERED", "OUTBOUND", None)
    # the samples' sessions 1039811321016 and 13916417004 (landed on different days) carry the same
    # recording id: each call keeps its own recording row, under an id of its own
    recs = dbtrun.query(built, "select id, call_id, source_id, web_url from staging.stg_ringcentral__uc_recording")
    assert sorted((r["call_id"], r["source_id"], r["web_url"]) for r in recs) == [
        ("ringcentral:acme:1039811321016", "1662272004", None),
        ("ringcentral:acme:13914800004", "1659910004", None),
        ("ringcentral:acme:13916417004", "1662272004", None),
    ]
    assert len({r["id"] for r in recs}) == 3


def test_eightbyeight_call_from_recording(built: Path) -> None:
    rows = calls(built, "eightbyeight")
    call = rows["1"]
    assert call["record_source"] == "recording_metadata"
    assert (call["outcome"], call["type"], call["telephone"]) == ("ANSWERED", "INBOUND", "bill")
    assert call["start_at"] == ts("2007-12-20T03:16:36Z")  # 2007-12-19T19:16:36-08:00 in UTC
    assert call["end_at"] == ts("2007-12-20T03:17:03Z") and call["talk_s"] == 27
    assert call["queue_id"] == "eightbyeight:acme:fernandez~~queue~~phone~~102" and call["queue_name"] == "phoneq1"


def test_zendesk_call(built: Path) -> None:
    call = calls(built, "zendesk")["123"]
    assert (call["outcome"], call["type"], call["missed_reason"]) == ("ANSWERED", "INBOUND", None)
    assert call["start_at"] == ts("2020-10-15T13:19:09Z") and call["updated_at"] == ts("2020-10-15T14:12:22Z")
    assert call["answered_at"] == ts("2020-10-15T13:19:40Z")  # created_at + time_to_answer
    assert (call["wait_s"], call["talk_s"], call["hold_s"], call["wrap_up_s"], call["duration_s"]) == (
        31, 751, 0, 66, 782)
    assert call["contact_id"] == "zendesk:acme:1" and call["has_recording"] is True
