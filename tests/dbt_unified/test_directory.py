"""Directory snapshots end to end against the sandbox: three days of calls and a snapshot of every directory
stream extracted over HTTP with the real clients, built with the real staging models. The calls' agents and
queues resolve to named `uc_user` / `uc_queue` rows whose names are the sandbox directory's (Dialpad and Zoom
Phone name them in the calls; 8x8 names queues in the recordings and agents in the Cloud Storage objects of
the same recordings), RingCentral
queues are call queues and never agents' extensions, `queue_daily` equals the same KPIs computed here from
the ground truth, and a second snapshot that renames an agent keeps the agent's calls attributed (the
current name in uc_user, the name at the time in uc_user_history)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow.parquet as pq
import pytest

from uc_pipeline.connections import load_connections
from uc_pipeline.extract import extract_partition
from uc_pipeline.http import HttpSettings
from uc_pipeline.landing import partition_path, write_partition
from uc_pipeline.providers import get_provider
from uc_pipeline.sandbox import Call, Sandbox
from uc_pipeline.sandbox.aircall.render import format_number
from uc_pipeline.sandbox.ringcentral.ids import agent_extension_id, queue_extension_id
from uc_pipeline.snapshot import extract_snapshot

from . import kpis
from .harness import DbtProject, copy_project

# recent days: Zoom Phone serves only the last six months of call history
FIRST = datetime.now(UTC).date() - timedelta(days=12)
DAYS = 3
LANDED_DAYS = DAYS + 4  # Zendesk lands a call on the day of its last update
START = datetime.combine(FIRST, datetime.min.time(), UTC)
END = START + timedelta(days=DAYS)
SNAPSHOT_AT = START + timedelta(days=4, hours=3)
RENAMED_AT = SNAPSHOT_AT + timedelta(days=1)
# the calls of the three days (uc_call also holds the later days landed for Zendesk's updates)
IN_DAYS = f"c.start_at >= '{START.isoformat()}' and c.start_at < '{END.isoformat()}'"
PROVIDERS = ("aircall", "ringcentral", "zendesk")
# Dialpad and Zoom Phone name agents and queues in the calls themselves (no directory stream is extracted);
# 8x8's Recordings API names queues and the agent's login; the agents' names come from Cloud Storage objects.
NAMED_FROM_CALLS = ("dialpad", "zoomphone")
QUEUE_KINDS = {"queue", "team", "group", "department", "line"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtProject, Sandbox]:
    tmp = tmp_path_factory.mktemp("directory")
    project = copy_project(tmp, keep_staging=True)
    sandbox = Sandbox(Sandbox.default_connections(calls_per_day=12, seed=5), profile="fast")
    with sandbox.serve(port=0) as base:
        yaml_text, env = sandbox.connections_yaml(base)
        path = tmp / "connections.yaml"
        path.write_text(yaml_text, encoding="utf-8")
        settings = HttpSettings(timeout_s=10.0, backoff_base_s=0.05, backoff_max_s=1.0)
        for connection in load_connections(path, env):
            source = get_provider(connection.provider)
            for stream in sorted(source.streams):
                for n in range(LANDED_DAYS):
                    extract_partition(
                        connection, stream, FIRST + timedelta(days=n), data_dir=project.data_dir, settings=settings
                    )
            for stream in sorted(source.directory_streams):
                extract_snapshot(connection, stream, data_dir=project.data_dir, settings=settings, taken_at=SNAPSHOT_AT)
    project.run("build")
    return project, sandbox


def directory_names(sandbox: Sandbox, provider: str) -> tuple[set[str], set[str]]:
    """(agent names, queue names) of the provider's sandbox connection, from the generator's directory."""
    calls = sandbox.calls(f"demo-{provider}", START, END)
    agents = {c.agent.name for c in calls if c.agent is not None}
    queues = {c.queue.name for c in calls if c.queue is not None}
    return agents, queues


@pytest.mark.parametrize("provider", PROVIDERS + NAMED_FROM_CALLS)
def test_calls_name_their_agents_and_queues(built: tuple[DbtProject, Sandbox], provider: str) -> None:
    project, sandbox = built
    agents, queues = directory_names(sandbox, provider)
    users = project.query_dicts(
        f"select c.user_id, u.name from uc.uc_call c left join uc.uc_user u on u.id = c.user_id "
        f"where c.provider = '{provider}' and c.user_id is not null and {IN_DAYS}"
    )
    assert users, provider
    named = [r for r in users if r["name"]]
    assert len(named) / len(users) >= 0.99, (provider, len(named), len(users))
    assert {r["name"] for r in named} <= agents, provider
    rows = project.query_dicts(
        f"select c.queue_id, q.name, q.kind from uc.uc_call c left join uc.uc_queue q on q.id = c.queue_id "
        f"where c.provider = '{provider}' and c.queue_id is not null and {IN_DAYS}"
    )
    assert rows, provider
    assert all(r["name"] and r["kind"] in QUEUE_KINDS for r in rows), provider
    # Aircall's queue is the line a call came in on: a queue's line, or an agent's direct line
    allowed = queues | agents if provider == "aircall" else queues
    assert {r["name"] for r in rows} <= allowed, provider


def test_eightbyeight_calls_name_their_queues_and_agents_by_login(built: tuple[DbtProject, Sandbox]) -> None:
    project, sandbox = built
    _, queues = directory_names(sandbox, "eightbyeight")
    rows = project.query_dicts(
        "select q.name, q.kind from uc.uc_call c join uc.uc_queue q on q.id = c.queue_id "
        f"where c.provider = 'eightbyeight' and {IN_DAYS}"
    )
    assert rows and {r["name"] for r in rows} <= queues and {r["kind"] for r in rows} == {"queue"}
    # Agents: the login on the recordings, named by the Cloud Storage objects of the same recordings (the
    # sandbox connection carries the storage credentials); each name is the agent's in the sandbox directory.
    expected = {(c.call_id, c.agent.name) for c in sandbox.calls("demo-eightbyeight", START, END)
                if c.agent is not None and c.recording is not None and c.direction != "INTERNAL"}
    users = project.query_dicts(
        "select c.source_id, u.name from uc.uc_call c left join uc.uc_user u on u.id = c.user_id "
        f"where c.provider = 'eightbyeight' and c.user_id is not null and {IN_DAYS}"
    )
    assert users
    named = [r for r in users if r["name"]]
    assert len(named) / len(users) >= 0.99, (len(named), len(users))
    assert {(int(r["source_id"]), r["name"]) for r in named} <= expected


def test_ringcentral_queues_are_call_queues_never_agents(built: tuple[DbtProject, Sandbox]) -> None:
    project, sandbox = built
    calls = sandbox.calls("demo-ringcentral", START, END)
    agent_exts = {str(agent_extension_id(a)) for c in calls for a in (*([c.agent] if c.agent else []), *c.transfers)}
    queue_exts = {str(queue_extension_id(c.queue)) for c in calls if c.queue is not None}
    got = {r[0] for r in project.query(
        "select distinct q.source_id from uc.uc_call c join uc.uc_queue q on q.id = c.queue_id "
        "where c.provider = 'ringcentral'")}
    assert got and got <= queue_exts
    assert not got & agent_exts
    kinds = {r[0] for r in project.query("select distinct kind from uc.uc_queue where provider = 'ringcentral'")}
    assert kinds == {"queue"}


def _queue_of(provider: str, call: Call) -> str | None:
    """The name of the queue the provider's call record names, from the ground truth."""
    if call.direction != "INBOUND":
        return None
    if call.queue is not None:
        return call.queue.name
    if provider == "aircall" and call.agent is not None:
        return call.agent.name  # the agent's direct line, named after the agent
    return None


def test_queue_daily_equals_ground_truth(built: tuple[DbtProject, Sandbox]) -> None:
    project, sandbox = built
    rows: list[dict[str, Any]] = []
    for provider in PROVIDERS:
        for call in sandbox.calls(f"demo-{provider}", START, END):
            name = _queue_of(provider, call)
            if name is None:
                continue
            rows.append({"provider": provider, "queue_id": name, "start_at": call.start_at, "type": call.direction,
                         "outcome": call.outcome, "wait_s": call.wait_s, "talk_s": call.talk_s,
                         "hold_s": call.hold_s, "wrap_up_s": call.wrap_up_s})
    want = kpis.queue_daily(rows)
    got = {
        (r["day"], r["provider"], r["queue_name"]): r
        for r in project.query_dicts(
            f"select * from reporting.queue_daily where day >= '{FIRST}' and day < '{END.date()}' "
            f"and provider in {PROVIDERS}"
        )
    }
    assert want and got.keys() == want.keys()
    for key, expected in want.items():
        for column in ("offered_calls", "answered_calls", "abandoned_calls", "service_level", "asa_s"):
            value = expected[column]
            assert got[key][column] == (pytest.approx(value) if isinstance(value, float) else value), (key, column)


def _renamed_snapshot(project: DbtProject, provider: str, stream: str, renamed_id: str, name_key: str,
                      new_name: str) -> None:
    """A second snapshot: the first one's records, one of them renamed."""
    conn = f"demo-{provider}"
    first = pq.read_table(partition_path(project.data_dir, provider, stream, conn, SNAPSHOT_AT)).to_pylist()

    def records() -> Any:
        for row in first:
            record = json.loads(row["_record"])
            if row["_record_id"] == renamed_id:
                record[name_key] = new_name
            yield row["_record_id"], record

    write_partition(project.data_dir, provider, stream, conn, RENAMED_AT, records(),
                    window_start=RENAMED_AT, window_end=RENAMED_AT, extracted_at=RENAMED_AT)


def test_aircall_contacts_carry_every_email_and_number(built: tuple[DbtProject, Sandbox]) -> None:
    """uc_contact's `emails` / `telephones` lists hold every address and number of the contact directory,
    typed by its label ("Work" in the sandbox's directory: WORK); the first of each is `email` / `telephone`."""
    project, sandbox = built
    contacts = {c.contact for c in sandbox.calls("demo-aircall", START, END) if c.contact is not None}
    assert contacts
    rows = {r["id"]: r for r in project.query_dicts("select * from uc.uc_contact where provider = 'aircall'")}
    for contact in contacts:
        row = rows[f"aircall:demo-aircall:{contact.contact_id}"]
        number = format_number(contact.phone)
        assert row["telephones"] == [{"telephone": number, "type": "WORK"}] and row["telephone"] == number
        emails = [{"email": contact.email, "type": "WORK"}] if contact.email else []
        assert row["emails"] == emails and row["email"] == contact.email


def test_renamed_agent_keeps_their_calls(built: tuple[DbtProject, Sandbox]) -> None:
    """Old calls stay on the same user id: uc_user shows the new (current) name, uc_user_history the name
    each version had, with the rename's snapshot as the boundary."""
    project, _ = built
    row = project.query_dicts(
        "select c.user_id, u.source_id, u.name, count(*) as calls from uc.uc_call c join uc.uc_user u "
        "on u.id = c.user_id where c.provider = 'aircall' group by all order by calls desc, c.user_id limit 1"
    )[0]
    _renamed_snapshot(project, "aircall", "users", row["source_id"], "name", "Renamed Agent")
    project.run("build")
    after = project.query_dicts(
        f"select u.name, count(*) as calls from uc.uc_call c join uc.uc_user u on u.id = c.user_id "
        f"where c.user_id = '{row['user_id']}' group by all"
    )
    assert after == [{"name": "Renamed Agent", "calls": row["calls"]}]
    history = project.query_dicts(
        f"select version, name, valid_from, valid_to, is_current from uc.uc_user_history "
        f"where id = '{row['user_id']}' order by version"
    )
    assert history == [
        {"version": 1, "name": row["name"], "valid_from": None, "valid_to": RENAMED_AT, "is_current": False},
        {"version": 2, "name": "Renamed Agent", "valid_from": RENAMED_AT, "valid_to": None, "is_current": True},
    ]
    # a call's agent at the time of the call: the old name before the rename's snapshot, the new one after
    then = project.query(
        f"select c.start_at < '{RENAMED_AT.isoformat()}' as before, h.name, count(*) from uc.uc_call c "
        f"join uc.uc_user_history h on h.id = c.user_id and (h.valid_from is null or c.start_at >= h.valid_from) "
        f"and (h.valid_to is null or c.start_at < h.valid_to) where c.user_id = '{row['user_id']}' group by all"
    )
    names = {before: name for before, name, _ in then}
    assert names[True] == row["name"]
    assert names.get(False, "Renamed Agent") == "Renamed Agent"
    assert sum(n for *_, n in then) == row["calls"]
