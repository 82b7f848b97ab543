"""Zoom Phone staging over 3 days landed from the sandbox (the emulator's native records of every stream,
exactly what an extraction lands), checked against the sandbox's canonical calls: one row per call, the
outcome, direction, times, wait, talk, hold, queue, agent and transfers, recordings linked to their calls,
users, the coverage seed against the data, and unknown enum values reported rather than bucketed."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.dbt_staging import dbtrun, samples
from uc_pipeline.sandbox import Call, Sandbox
from uc_pipeline.sandbox.zoomphone import render

PROVIDER = "zoomphone"
CONN = "demo-zoomphone"
STREAMS = ["call_history", "recordings"]
START = datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 3
SEEDS = dbtrun.PROJECT_DIR / "seeds" / PROVIDER


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox(Sandbox.default_connections(providers=[PROVIDER], calls_per_day=60, seed=11), profile="fast")


@pytest.fixture(scope="module")
def built(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("zoomphone")
    emulator = sandbox.emulator(PROVIDER)
    for stream in STREAMS:
        for n in range(DAYS):
            start = START + timedelta(days=n)
            records = sandbox.records(CONN, stream, start, start + timedelta(days=1))
            if n == 1 and stream == "call_history":
                # one call's detail with an element event and a result its seed does not know
                records = [json.loads(json.dumps(r)) for r in records]
                records[0]["call_elements"].append({"event": "teleport", "result": "vanished", "segment": 99})
            keyed = [(emulator.record_id(stream, r), r) for r in records]
            samples.land(data_dir, PROVIDER, stream, start.date(), keyed, connection=CONN)
    dbtrun.build(data_dir, select=f"{dbtrun.STAGED} path:seeds/{PROVIDER}")
    return data_dir


def calls(sandbox: Sandbox) -> dict[str, Call]:
    conn = sandbox.connection(CONN)
    return {render.history_uuid(conn, c): c for c in sandbox.calls(CONN, START, START + timedelta(days=DAYS))}


def staged(data_dir: Path, model: str) -> list[dict[str, Any]]:
    return dbtrun.query(data_dir, f"select * from staging.stg_{PROVIDER}__{model}")


def test_one_row_per_call_matching_the_canonical_calls(sandbox: Sandbox, built: Path) -> None:
    truth = calls(sandbox)
    rows = {r["source_id"]: r for r in staged(built, "uc_call")}
    assert len(rows) == len(staged(built, "uc_call"))
    assert set(rows) == set(truth)
    conn = sandbox.connection(CONN)
    for key, row in rows.items():
        call = truth[key]
        assert row["id"] == f"{PROVIDER}:{CONN}:{key}"
        assert (row["outcome"], row["type"]) == (call.outcome, call.direction), key
        assert (row["start_at"], row["answered_at"], row["end_at"]) == (call.start_at, call.answered_at, call.end_at)
        assert (row["duration_s"], row["hold_s"], row["talk_s"]) == (call.duration_s, call.hold_s, call.talk_s), key
        if call.direction == "INBOUND" or call.answered_at is not None:
            assert row["wait_s"] == call.wait_s, key
        assert row["transfer_count"] == len(call.transfers), key
        assert row["has_recording"] == (call.recording is not None)
        assert row["missed_reason"] == (None if call.outcome == "ANSWERED" else render.result(call)), key
        queue = render.queue_party(conn, call.queue)["ext_id"] if call.queue else None
        assert row["queue_id"] == (f"{PROVIDER}:{CONN}:{queue}" if queue else None), key
        assert row["queue_name"] == (call.queue.name if call.queue else None)
        if call.agent is not None and (call.outcome == "ANSWERED" or call.direction != "INBOUND"):
            agent = render.user_party(conn, call.agent)
            assert (row["user_id"], row["user_name"], row["user_phone"]) == (
                f"{PROVIDER}:{CONN}:{agent['ext_id']}", call.agent.name, call.agent.extension), key
        if call.direction != "INTERNAL":
            expected = None if call.external_number == "anonymous" else call.external_number
            assert row["telephone"] == expected, key


def test_unknown_element_values_are_reported_not_bucketed(built: Path) -> None:
    flagged = [r for r in staged(built, "uc_call") if r["_unknown_enums"]]
    assert len(flagged) == 1
    assert sorted((e["field"], e["value"]) for e in flagged[0]["_unknown_enums"]) == [
        ("call_result", "vanished"), ("event", "teleport")]


def test_recordings_link_to_their_calls_and_agents(sandbox: Sandbox, built: Path) -> None:
    conn = sandbox.connection(CONN)
    truth = calls(sandbox)
    rows = staged(built, "uc_recording")
    recorded = {render.recording_id(conn, c): c for c in truth.values()
                if c.recording is not None and START <= c.recording.start_at < START + timedelta(days=DAYS)}
    assert {r["source_id"] for r in rows} == set(recorded)
    for row in rows:
        call = recorded[row["source_id"]]
        assert row["call_id"] == f"{PROVIDER}:{CONN}:{render.history_uuid(conn, call)}"
        assert (row["start_at"], row["end_at"]) == (call.recording.start_at, call.recording.end_at)
        assert row["user_name"] == call.agent.name and row["kind"] == "recording"


def test_users_are_the_agents_with_their_extensions(sandbox: Sandbox, built: Path) -> None:
    conn = sandbox.connection(CONN)
    users = {r["source_id"]: r for r in dbtrun.query(built, f"select * from uc.uc_user where provider = '{PROVIDER}'")}
    agents = {c.agent.agent_id: c.agent for c in calls(sandbox).values() if c.agent is not None}
    for agent in agents.values():
        party = render.user_party(conn, agent)
        if party["ext_id"] in users:
            row = users[party["ext_id"]]
            assert (row["name"], row["extension"], row["email"]) == (agent.name, agent.extension, agent.email)
    assert len(users) >= len(agents) // 2


def test_coverage_seed_matches_the_data(built: Path) -> None:
    with open(SEEDS / f"{PROVIDER}_field_coverage.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    wrong = []
    for model in {r["model"] for r in rows}:
        table = dbtrun.provider_relation(PROVIDER, model)
        if model == "uc_call":
            table = table.replace("exclude (", 'exclude ("native_call_id", "landed_date", ')
        declared = [r["column_name"] for r in rows if r["model"] == model]
        counts = dbtrun.query(built, "select " + ", ".join(f'count("{c}") as "{c}"' for c in declared)
                              + f" from {table}")[0]
        for r in rows:
            if r["model"] == model and (counts[r["column_name"]] > 0) != (r["coverage"] != "unavailable"):
                wrong.append(f"{model}.{r['column_name']} is {r['coverage']} with {counts[r['column_name']]} values")
    assert not wrong, "\n".join(wrong)
