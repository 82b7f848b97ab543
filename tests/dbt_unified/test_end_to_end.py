"""End to end against the sandbox: 7 days of every registered provider extracted over HTTP with the real
clients, landed, built with the real staging models; uc_call holds exactly one row per ground-truth call
each provider can expose, with matching outcome, direction and times, and the KPI marts equal KPIs
computed here from the ground truth for the fields each provider covers; daily partitioned runs build
the same unified model and marts as one full build."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from uc_pipeline.connections import load_connections
from uc_pipeline.extract import extract_partition
from uc_pipeline.http import HttpSettings
from uc_pipeline.providers import get_provider
from uc_pipeline.sandbox import Call, Sandbox, SandboxConnection
from uc_pipeline.sandbox.ringcentral.render import call_key
from uc_pipeline.sandbox.zendesk.render import call_native_id

from . import kpis
from .harness import DbtProject, copy_project

FIRST = date(2026, 3, 2)
DAYS = 7
# Zendesk lands a call on the day of its last update (comments can come days later): land a few more days.
LANDED_DAYS = DAYS + 4
START = datetime.combine(FIRST, datetime.min.time(), UTC)
END = START + timedelta(days=DAYS)
LANDED_END = START + timedelta(days=LANDED_DAYS)

# The provider's id of a call, as `uc_call.source_id` holds it (a RingCentral record without `sessionId`
# is keyed by its own `id`).
NATIVE_ID: dict[str, Callable[[SandboxConnection, Call], Any]] = {
    "aircall": lambda _, c: c.call_id,
    "ringcentral": call_key,
    "eightbyeight": lambda _, c: c.call_id,
    "zendesk": lambda _, c: call_native_id(c),
    "dialpad": lambda _, c: c.call_id,
}


def exposed(provider: str, call: Call) -> bool:
    """Whether the provider can expose the call at all from what was landed."""
    if provider == "eightbyeight":
        return call.recording is not None  # 8x8 VCC calls are known only from their recordings
    if provider == "zendesk":
        return call.updated_at < LANDED_END  # landed by update time
    return True


@pytest.fixture(scope="module")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> tuple[DbtProject, Sandbox]:
    tmp = tmp_path_factory.mktemp("e2e")
    project = copy_project(tmp, keep_staging=True)
    sandbox = Sandbox(Sandbox.default_connections(calls_per_day=12, seed=21), profile="fast")
    with sandbox.serve(port=0) as base:
        yaml_text, env = sandbox.connections_yaml(base)
        path = tmp / "connections.yaml"
        path.write_text(yaml_text, encoding="utf-8")
        settings = HttpSettings(timeout_s=10.0, backoff_base_s=0.05, backoff_max_s=1.0)
        for connection in load_connections(path, env):
            for stream in sorted(get_provider(connection.provider).streams):
                for n in range(LANDED_DAYS):
                    extract_partition(
                        connection, stream, FIRST + timedelta(days=n), data_dir=project.data_dir, settings=settings
                    )
    project.run("build")
    return project, sandbox


def truth(sandbox: Sandbox, provider: str) -> dict[str, Call]:
    conn = sandbox.connection(f"demo-{provider}")
    calls = sandbox.calls(conn.connection_id, START, END)
    return {str(NATIVE_ID[provider](conn, c)): c for c in calls if exposed(provider, c)}


@pytest.mark.parametrize("provider", list(NATIVE_ID))
def test_one_uc_call_per_ground_truth_call(e2e: tuple[DbtProject, Sandbox], provider: str) -> None:
    project, sandbox = e2e
    want = truth(sandbox, provider)
    rows = project.query_dicts(
        f"select * from uc.uc_call where provider = '{provider}' and start_at >= '{START.isoformat()}' "
        f"and start_at < '{END.isoformat()}'"
    )
    got = {r["source_id"]: r for r in rows}
    assert len(got) == len(rows)
    assert want, "the sandbox generated no calls"
    assert set(got) == set(want)
    for key, row in got.items():
        call = want[key]
        assert row["id"] == f"{provider}:demo-{provider}:{key}"
        assert row["type"] == call.direction, key
        assert row["outcome"] == call.outcome, key
        if provider == "eightbyeight":  # times are the recording's
            assert (row["answered_at"], row["end_at"]) == (call.recording.start_at, call.recording.end_at), key
        else:
            assert (row["start_at"], row["end_at"]) == (call.start_at, call.end_at), key
        assert row["call_date"] == row["start_at"].date()


def _coverage(project: DbtProject) -> Callable[[str, str], str]:
    rows = project.query("select provider, column_name, coverage from uc.uc_field_coverage where model = 'uc_call'")
    table = {(p, c): v for p, c, v in rows}
    return lambda provider, column: table.get((provider, column), "unavailable")


def _as_row(provider: str, call: Call) -> dict[str, Any]:
    return {
        "provider": provider,
        "connection_id": f"demo-{provider}",
        "start_at": call.start_at,
        "type": call.direction,
        "outcome": call.outcome,
        "wait_s": call.wait_s,
        "talk_s": call.talk_s,
        "hold_s": call.hold_s,
        "wrap_up_s": call.wrap_up_s,
        "missed_reason": call.missed_reason,
        "user_id": None,
        # 8x8 calls are known only from their recordings
        "record_source": "recording_metadata" if provider == "eightbyeight" else "call_log",
    }


def test_kpis_equal_ground_truth(e2e: tuple[DbtProject, Sandbox]) -> None:
    project, sandbox = e2e
    coverage = _coverage(project)
    calls = [_as_row(p, c) for p in NATIVE_ID for c in truth(sandbox, p).values()]
    want = kpis.kpi_daily(calls, coverage)
    rows = project.query_dicts(f"select * from reporting.kpi_daily where day < '{END.date()}' and day >= '{FIRST}'")
    got = {(r["day"], r["provider"], r["connection_id"]): r for r in rows}
    assert got.keys() == want.keys()
    compared = 0
    for key, expected in want.items():
        for column in (
            "offered_calls",
            "answered_calls",
            "abandoned_calls",
            "asa_s",
            "abandonment_rate",
            "adjusted_abandonment_rate",
            "service_level",
            "aht_s",
        ):
            value = expected[column]
            assert got[key][column] == (pytest.approx(value) if isinstance(value, float) else value), (key, column)
            compared += value is not None
        for column in ("asa", "abandonment_rate", "aht"):
            assert got[key][f"{column}_fidelity"] == expected[f"{column}_fidelity"], (key, column)
    assert compared > 0


# Every unified model and the daily marts, without the columns that say which run wrote a row.
_COMPARED = {
    "uc.uc_call": "_loaded_at",
    "uc.uc_recording": "_loaded_at",
    "uc.uc_comment": "_loaded_at",
    "uc.uc_user": "_loaded_at",
    "uc.uc_contact": "_loaded_at",
    "reporting.calls_daily": "_uc_loaded_at",
    "reporting.kpi_daily": "_uc_loaded_at",
    "reporting.agent_daily": "_uc_loaded_at",
}


def test_daily_runs_build_what_one_full_build_builds(e2e: tuple[DbtProject, Sandbox], tmp_path: Path) -> None:
    full, _ = e2e
    daily = copy_project(tmp_path, keep_staging=True)
    shutil.copytree(full.data_dir / "landing", daily.data_dir / "landing")
    # Windows in order, then an old window again (a lookback): each run reads only its landing days
    # and the per-provider tables only what staging wrote since they last ran.
    for first, last in [(0, 3), (4, 7), (8, LANDED_DAYS - 1), (2, 3)]:
        window = {"uc_start_date": str(FIRST + timedelta(days=first)), "uc_end_date": str(FIRST + timedelta(days=last))}
        daily.run("build", "--select", "tag:partitioned", vars=window)
    for relation, stamp in _COMPARED.items():
        sql = f"select * exclude ({stamp}) from {relation}"
        # rows as their repr: list columns (uc_contact's emails, telephones) are not hashable
        want, got = Counter(map(repr, full.query(sql))), Counter(map(repr, daily.query(sql)))
        assert want, relation
        assert got == want, (relation, want - got, got - want)
