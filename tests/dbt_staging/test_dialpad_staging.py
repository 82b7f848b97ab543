"""Dialpad staging over 3 days landed from the sandbox (the emulator's native records, ids and times encoded
as strings for some calls and numbers for others), checked against the sandbox's canonical calls; the coverage
seed checked against the data (`unavailable` columns all NULL, the others not); the enum seed's shape; and an
unknown value of every mapped enum made visible rather than bucketed."""

from __future__ import annotations

import copy
import csv
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.dbt_staging import dbtrun, samples
from uc_pipeline.sandbox import Call, Sandbox, SandboxConnection
from uc_pipeline.sandbox.dialpad.render import local_contact_id

START = datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 3
SEEDS = dbtrun.PROJECT_DIR / "seeds" / "dialpad"
CONNECTION = "demo-dialpad"
STRANGE_DAY = date(2026, 3, 9)
SAMPLE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "dialpad"
                     / "call_get_200_spec_example.json").read_text(encoding="utf-8"))
# What stg_dialpad__uc_call keeps after the contract's columns, for the other Dialpad models.
EXTRAS = ["has_voicemail", "target", "queue", "contact", "recording_details", "landed_date"]
GROUPS = {"NO_AGENT_AVAILABLE", "AGENT_NO_ANSWER", "ABANDONED_IN_QUEUE", "ABANDONED_IN_IVR", "SHORT_ABANDON",
          "OUT_OF_HOURS", "DECLINED", "OTHER"}


def uid(source_id: Any) -> str:
    return f"dialpad:{CONNECTION}:{source_id}"


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    conn = SandboxConnection(provider="dialpad", connection_id=CONNECTION, credentials={"api_key": "k"}, seed=11,
                             calls_per_day=40, options={"int64": "mixed"})
    return Sandbox([conn], profile="fast")


def strange_call() -> dict[str, Any]:
    """The spec's example with a value no enum of the seed knows in every mapped field."""
    record = copy.deepcopy(SAMPLE)
    start = int(datetime.combine(STRANGE_DAY, datetime.min.time(), UTC).timestamp() * 1000)
    record.update(call_id="990000001", date_started=str(start), date_rang=str(start), date_connected=str(start + 2000),
                  date_ended=str(start + 62000), direction="sideways", state="teleported",
                  entry_point_target={**record["entry_point_target"], "type": "hologram"},
                  recording_details=[{"duration": 60000, "id": "r-1", "recording_type": "screenshare",
                                      "start_time": start + 2000, "url": "https://dialpad.com/r/1"}])
    return record


@pytest.fixture(scope="module")
def built(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("dialpad-staging")
    emulator = sandbox.emulator("dialpad")
    for n in range(DAYS):
        start = START + timedelta(days=n)
        records = sandbox.records(CONNECTION, "calls", start, start + timedelta(days=1))
        samples.land(data_dir, "dialpad", "calls", start.date(),
                     [(emulator.record_id("calls", r), r) for r in records], connection=CONNECTION)
    strange = strange_call()
    samples.land(data_dir, "dialpad", "calls", STRANGE_DAY, [(strange["call_id"], strange)], connection=CONNECTION)
    dbtrun.dbt(data_dir, ["build", "--indirect-selection", "cautious", "--select",
                          "staging", "raw", "uc_user", "uc_contact", "uc_recording", "uc_comment",
                          "path:seeds"])
    return data_dir


def truth(sandbox: Sandbox) -> dict[str, Call]:
    calls = sandbox.calls(CONNECTION, START, START + timedelta(days=DAYS))
    return {str(c.call_id): c for c in calls}


def staged(data_dir: Path) -> dict[str, dict[str, Any]]:
    rows = dbtrun.query(data_dir, "select * from staging.stg_dialpad__uc_call where source_id <> '990000001'")
    assert len({r["source_id"] for r in rows}) == len(rows), "one row per call"
    return {r["source_id"]: r for r in rows}


def test_calls_match_the_canonical_calls(sandbox: Sandbox, built: Path) -> None:
    calls = truth(sandbox)
    rows = staged(built)
    assert set(rows) == set(calls) and len(rows) > 60
    conn = sandbox.connection(CONNECTION)
    for key, row in rows.items():
        call = calls[key]
        assert row["id"] == uid(key)
        assert (row["outcome"], row["type"]) == (call.outcome, call.direction), key
        assert (row["start_at"], row["answered_at"], row["end_at"]) == (call.start_at, call.answered_at, call.end_at)
        assert (row["wait_s"], row["talk_s"], row["duration_s"]) == (call.wait_s, call.talk_s, call.duration_s), key
        assert (row["hold_s"], row["wrap_up_s"], row["missed_reason"], row["missed_reason_group"]) == (None,) * 4
        assert row["has_recording"] == (call.recording is not None)
        assert row["transfer_count"] == min(len(call.transfers), 1)
        agent = call.agent if call.answered_at is not None or call.direction == "OUTBOUND" else None
        assert row["user_id"] == (uid(agent.agent_id) if agent else None), key
        assert row["user_name"] == (agent.name if agent else None)
        queue = call.queue if call.direction == "INBOUND" else None
        assert (row["queue_id"], row["queue_name"]) == ((uid(queue.queue_id), queue.name) if queue else (None, None))
        if call.contact is not None:
            assert row["contact_id"] == uid(call.contact.contact_id)
        elif call.external_number == "anonymous":
            assert row["contact_id"] is None and row["telephone"] is None
        else:
            assert row["contact_id"] == uid(local_contact_id(conn, call.external_number))
        if call.external_number != "anonymous":
            assert row["telephone"] == call.external_number
        assert row["_unknown_enums"] is None


def test_recordings_and_voicemails(sandbox: Sandbox, built: Path) -> None:
    calls = truth(sandbox)
    rows = dbtrun.query(built, "select * from uc.uc_recording where provider = 'dialpad' and call_id <> ?",
                        [uid("990000001")])
    want = {}
    for key, call in calls.items():
        for media, kind in ((call.recording, "recording"), (call.voicemail, "voicemail")):
            if media is not None:
                want[uid(media.recording_id)] = (uid(key), kind, media.start_at, media.end_at,
                                                 int((media.end_at - media.start_at).total_seconds()))
    got = {r["id"]: (r["call_id"], r["kind"], r["start_at"], r["end_at"], r["duration_s"]) for r in rows}
    assert got == want and {k for _, k, *_ in want.values()} == {"recording", "voicemail"}


def test_users_and_contacts(sandbox: Sandbox, built: Path) -> None:
    calls = truth(sandbox).values()
    agents = {c.agent for c in calls if c.agent and (c.answered_at or c.direction == "OUTBOUND")}
    users = {r["id"]: r for r in dbtrun.query(built, "select * from uc.uc_user where provider = 'dialpad'")}
    assert {uid(a.agent_id): (a.name, a.email, a.phone) for a in agents} == {
        k: (u["name"], u["email"], u["phone"]) for k, u in users.items() if k != uid(2)}
    contacts = {r["id"]: r for r in dbtrun.query(built, "select * from uc.uc_contact where provider = 'dialpad'")}
    for c in calls:
        if c.contact is not None:
            row = contacts[uid(c.contact.contact_id)]
            assert (row["name"], row["email"], row["telephone"]) == (
                f"{c.contact.first_name} {c.contact.last_name}", c.contact.email, c.contact.phone)


def test_unknown_values_are_visible_not_bucketed(built: Path) -> None:
    (row,) = dbtrun.query(built, "select * from staging.stg_dialpad__uc_call where source_id = '990000001'")
    assert row["type"] == "UNKNOWN" and row["outcome"] == "ANSWERED"  # connected, whatever the direction says
    assert sorted((e["field"], e["value"]) for e in row["_unknown_enums"]) == [
        ("direction", "sideways"), ("entry_point_target.type", "hologram"), ("recording_type", "screenshare"),
        ("state", "teleported")]
    assert row["has_recording"] is False  # an unknown media type is not taken for a call recording
    (rec,) = dbtrun.query(built, "select * from uc.uc_recording where provider = 'dialpad' and call_id = ?",
                          [uid("990000001")])
    assert rec["kind"] == "unknown"  # a media type the seed does not know: neither recording nor voicemail


def coverage_rows() -> list[dict[str, str]]:
    with open(SEEDS / "dialpad_field_coverage.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def relation(model: str) -> str:
    if model in dbtrun.MERGED_IN_UC:
        return dbtrun.provider_relation("dialpad", model)
    left_out = ["_loaded_at"]
    if model == "uc_call":
        left_out += ["_previous_call_dates", "_unknown_enums", *(f'"{c}"' for c in EXTRAS)]
    return f"(select * exclude ({', '.join(left_out)}) from staging.stg_dialpad__{model})"


def test_coverage_seed_matches_the_data(built: Path) -> None:
    rows = coverage_rows()
    assert {r["coverage"] for r in rows} <= {"native", "derived", "unavailable"}
    assert all(r["provider"] == "dialpad" and r["note"] for r in rows)
    wrong = []
    for model in ("uc_call", "uc_recording", "uc_contact", "uc_comment", "uc_user"):
        declared = [r["column_name"] for r in rows if r["model"] == model]
        actual = dbtrun.columns(built, relation(model))
        assert declared == actual, f"{model}: the seed must list every contract column in order"
        counts = dbtrun.query(built, "select " + ", ".join(f'count("{c}") as "{c}"' for c in declared)
                              + f" from {relation(model)}")[0]
        for r in (r for r in rows if r["model"] == model):
            if (counts[r["column_name"]] > 0) != (r["coverage"] != "unavailable"):
                wrong.append(f"{model}.{r['column_name']} is {r['coverage']} but has "
                             f"{counts[r['column_name']]} non-NULL values")
    assert not wrong, "\n".join(wrong)


def test_enum_seed_shape() -> None:
    with open(SEEDS / "dialpad_enums.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    seen = set()
    for row in rows:
        assert list(row) == ["provider", "field", "value", "meaning", "missed_reason_group", "source"]
        assert row["provider"] == "dialpad" and row["field"] and row["value"] and row["meaning"] and row["source"]
        assert (row["field"], row["value"]) not in seen
        seen.add((row["field"], row["value"]))
        assert row["missed_reason_group"] in GROUPS | {""}
    values = {(r["field"], r["value"]): r["meaning"] for r in rows}
    # The spec's enums (../shared/providers.md, Dialpad): both directions, every target type, every
    # recording type, and the call-event states, old and new.
    assert {v for f, v in values if f == "direction"} == {"inbound", "outbound"}
    assert {v for f, v in values if f == "target_type"} == {
        "callcenter", "callrouter", "channel", "coachinggroup", "coachingteam", "department", "office", "room",
        "staffgroup", "unknown", "user"}
    assert values[("target_type", "callcenter")] == values[("target_type", "department")] == "QUEUE"
    assert values[("target_type", "user")] == "AGENT"
    assert {v for f, v in values if f == "recording_type"} == {"admincallrecording", "callrecording", "voicemail"}
    assert {"hangup", "missed", "voicemail", "connected", "blocked", "recap_summary"} <= {
        v for f, v in values if f == "state"}
    assert values[("state", "connected")] == "IN_PROGRESS" and values[("state", "hangup")] == "FINISHED"
