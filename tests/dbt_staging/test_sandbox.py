"""Staging over 3 days landed from the sandbox (the emulators' native records, exactly what an
extraction must land, and one snapshot of every directory stream extracted over HTTP), checked against
the sandbox's canonical calls, and the coverage seeds
checked against the data: `unavailable` columns are all NULL, `native`/`derived` ones are not."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.dbt_staging import dbtrun, samples
from uc_pipeline.connections import load_connections
from uc_pipeline.http import HttpSettings
from uc_pipeline.providers import get_provider
from uc_pipeline.sandbox import Call, Sandbox
from uc_pipeline.sandbox.ringcentral import render as ringcentral_render
from uc_pipeline.sandbox.zendesk import render as zendesk_render
from uc_pipeline.snapshot import extract_snapshot

STREAMS = {
    "aircall": ["calls"], "ringcentral": ["call_log"], "eightbyeight": ["recordings", "recording_objects"],
    "zendesk": ["calls", "legs"],
}
START = datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 3
SEEDS_DIR = dbtrun.PROJECT_DIR / "seeds"


@pytest.fixture(scope="module")
def sandbox() -> Sandbox:
    return Sandbox(Sandbox.default_connections(providers=list(STREAMS), calls_per_day=40, seed=11), profile="fast")


@pytest.fixture(scope="module")
def built(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("sandbox")
    for provider, streams in STREAMS.items():
        emulator = sandbox.emulator(provider)
        for stream in streams:
            for n in range(DAYS):
                start = START + timedelta(days=n)
                records = sandbox.records(f"demo-{provider}", stream, start, start + timedelta(days=1))
                samples.land(data_dir, provider, stream, start.date(),
                             [(emulator.record_id(stream, r), r) for r in records],
                             connection=f"demo-{provider}")
    with sandbox.serve(port=0) as base:
        yaml_text, env = sandbox.connections_yaml(base)
        path = data_dir / "connections.yaml"
        path.write_text(yaml_text, encoding="utf-8")
        settings = HttpSettings(timeout_s=10.0, backoff_base_s=0.05, backoff_max_s=1.0)
        for connection in load_connections(path, env):
            for stream in sorted(get_provider(connection.provider).directory_streams):
                extract_snapshot(connection, stream, data_dir=data_dir, settings=settings,
                                 taken_at=START + timedelta(days=DAYS))
    dbtrun.build(data_dir)
    return data_dir


def truth(sandbox: Sandbox, provider: str, native_id: Any) -> dict[str, Call]:
    calls = sandbox.calls(f"demo-{provider}", START - timedelta(days=7), START + timedelta(days=DAYS))
    return {str(native_id(c)): c for c in calls}


def staged(data_dir: Path, provider: str) -> dict[str, dict[str, Any]]:
    rows = dbtrun.query(data_dir, f"select * from staging.stg_{provider}__uc_call")
    assert len({r["source_id"] for r in rows}) == len(rows), "one row per call"
    return {r["source_id"]: r for r in rows}


def in_window(call: Call) -> bool:
    return START <= call.start_at < START + timedelta(days=DAYS)


def test_aircall_matches_the_canonical_calls(sandbox: Sandbox, built: Path) -> None:
    calls = truth(sandbox, "aircall", lambda c: c.call_id)
    rows = staged(built, "aircall")
    assert set(rows) == {k for k, c in calls.items() if in_window(c)}
    for key, row in rows.items():
        call = calls[key]
        assert (row["outcome"], row["type"]) == (call.outcome, call.direction), key
        assert (row["start_at"], row["answered_at"], row["end_at"]) == (call.start_at, call.answered_at, call.end_at)
        assert row["duration_s"] == call.duration_s
        if call.direction == "INBOUND" or call.answered_at:
            assert row["wait_s"] == call.wait_s, key
        assert row["talk_s"] == call.talk_s + call.hold_s
        assert row["has_recording"] == (call.recording is not None)
        assert row["transfer_count"] == min(len(call.transfers), 1)
        if call.answered_at is not None and call.agent is not None:
            assert row["user_id"] == f"aircall:demo-aircall:{call.agent.agent_id}"


def test_ringcentral_one_row_per_session(sandbox: Sandbox, built: Path) -> None:
    conn = sandbox.connection("demo-ringcentral")
    calls = truth(sandbox, "ringcentral", lambda call: ringcentral_render.call_key(conn, call))
    rows = staged(built, "ringcentral")
    assert set(rows) == {k for k, c in calls.items() if in_window(c)}
    for key, row in rows.items():
        call = calls[key]
        assert (row["outcome"], row["type"]) == (call.outcome, call.direction), key
        assert (row["start_at"], row["end_at"]) == (call.start_at, call.end_at), key
        if call.direction == "INBOUND":
            assert row["answered_at"] == call.answered_at, key
            assert row["wait_s"] == call.wait_s, key
        assert row["transfer_count"] == len(call.transfers)
        assert row["has_recording"] == (call.recording is not None)
        if call.outcome != "ANSWERED":
            assert row["missed_reason"] is not None


def test_eightbyeight_calls_from_recordings(sandbox: Sandbox, built: Path) -> None:
    calls = truth(sandbox, "eightbyeight", lambda c: c.call_id)
    rows = staged(built, "eightbyeight")
    assert rows and set(rows) <= set(calls)
    for key, row in rows.items():
        call = calls[key]
        assert call.recording is not None
        assert (row["outcome"], row["type"], row["record_source"]) == ("ANSWERED", call.direction, "recording_metadata")
        assert (row["answered_at"], row["end_at"]) == (call.recording.start_at, call.recording.end_at)
        assert row["talk_s"] == call.talk_s + call.hold_s
        if call.queue is not None and not call.direct_to_agent:
            assert row["queue_name"] == call.queue.name


def test_zendesk_matches_the_canonical_calls(sandbox: Sandbox, built: Path) -> None:
    calls = truth(sandbox, "zendesk", zendesk_render.call_native_id)
    rows = staged(built, "zendesk")
    assert rows
    for key, row in rows.items():
        call = calls[key]
        assert (row["outcome"], row["type"]) == (call.outcome, call.direction), key
        assert (row["start_at"], row["answered_at"], row["end_at"]) == (call.start_at, call.answered_at, call.end_at)
        # an outbound call has no queue: its wait is the answer delay, NULL when nobody answered (the
        # export's wait_time of 0 is not a wait; README, mapping decisions)
        wait = call.wait_s if call.direction != "OUTBOUND" or call.answered_at is not None else None
        assert (row["wait_s"], row["talk_s"], row["hold_s"], row["wrap_up_s"], row["duration_s"]) == (
            wait, call.talk_s, call.hold_s, call.wrap_up_s, call.duration_s), key
        assert row["updated_at"] == call.updated_at.replace(microsecond=0)
        if row["transfer_count"] is not None:
            assert row["transfer_count"] == len(call.transfers), key


def coverage_rows(provider: str) -> list[dict[str, str]]:
    with open(SEEDS_DIR / provider / f"{provider}_field_coverage.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("provider", list(STREAMS))
def test_coverage_seed_matches_the_data(provider: str, built: Path) -> None:
    rows = coverage_rows(provider)
    assert {r["coverage"] for r in rows} <= {"native", "derived", "unavailable"}
    wrong = []
    for model in {r["model"] for r in rows}:
        table = dbtrun.provider_relation(provider, model)
        declared = [r["column_name"] for r in rows if r["model"] == model]
        actual = dbtrun.provider_columns(built, provider, model)
        assert declared == actual, f"{table}: the seed must list every contract column in order"
        counts = dbtrun.query(built, "select " + ", ".join(f'count("{c}") as "{c}"' for c in declared)
                              + f" from {table}")[0]
        for r in rows:
            if r["model"] != model:
                continue
            filled = counts[r["column_name"]] > 0
            if filled != (r["coverage"] != "unavailable"):
                wrong.append(f"{model}.{r['column_name']} is {r['coverage']} but has "
                             f"{counts[r['column_name']]} non-NULL values")
    assert not wrong, "\n".join(wrong)
