"""The sandbox's sparsity (uc_pipeline/sandbox/README.md, "Sparsity"): what each emulator leaves out or
changes as real payloads do, at the documented rates, the same for the same seed, with the canonical
calls (the ground truth) unchanged."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime, timedelta

import httpx

from uc_pipeline.sandbox import Clock, QuotaSpec, Sandbox, SandboxConnection
from uc_pipeline.sandbox.generator import ID_DAY_STRIDE
from uc_pipeline.sandbox.ringcentral.ids import SHARED_RECORDING as RINGCENTRAL_SHARED_RECORDING
from uc_pipeline.sandbox.ringcentral.ids import record_id, recording_native_id
from uc_pipeline.sandbox.zendesk.render import AGENT_ONLY_ON_LEGS as ZENDESK_AGENT_ONLY_ON_LEGS
from uc_pipeline.sandbox.zendesk.render import agent_user_id, call_native_id

START = datetime(2026, 1, 5, tzinfo=UTC)
ROOMY = {"default": QuotaSpec(1000, 60.0), "auth": QuotaSpec(1000, 60.0)}


def connection(provider: str, calls_per_day: int = 300, seed: int = 3, **options: object) -> SandboxConnection:
    conn = Sandbox.default_connections([provider], calls_per_day=calls_per_day, seed=seed,
                                       history_start=date(2025, 12, 1))[0]
    conn.options = dict(options)
    conn.quotas = dict(ROOMY) if provider == "ringcentral" else {}
    return conn


def sandbox(*conns: SandboxConnection) -> Sandbox:
    return Sandbox(list(conns), profile="fast", clock=Clock(frozen=datetime(2026, 2, 1, tzinfo=UTC)))


def test_zendesk_names_the_agent_of_some_answered_calls_only_on_their_legs() -> None:
    conn = connection("zendesk")
    box = sandbox(conn)
    end = START + timedelta(days=5)
    calls = {call_native_id(c): c for c in box.calls(conn.connection_id, START, end) if c.answered_at}
    objects = {r["id"]: r for r in box.records(conn.connection_id, "calls", START, end + timedelta(days=7))
               if r["id"] in calls}
    legs = box.records(conn.connection_id, "legs", START, end + timedelta(days=7))
    only_on_legs = [cid for cid, r in objects.items() if r["agent_id"] is None]
    share = len(only_on_legs) / len(objects)
    assert len(objects) > 500 and 0.5 * ZENDESK_AGENT_ONLY_ON_LEGS < share < 2 * ZENDESK_AGENT_ONLY_ON_LEGS
    for cid in only_on_legs:  # the legs still name the agent who answered
        agents = {leg["agent_id"] for leg in legs if leg["call_id"] == cid and leg["type"] == "agent"}
        assert agent_user_id(calls[cid].agent) in agents, cid
    again = {r["id"]: r["agent_id"] for r in sandbox(connection("zendesk")).records(
        conn.connection_id, "calls", START, end + timedelta(days=7)) if r["id"] in calls}
    assert [cid for cid, agent in again.items() if agent is None] == only_on_legs  # same seed, same calls


def test_ringcentral_some_recordings_carry_the_id_of_a_call_of_the_day_before() -> None:
    conn = connection("ringcentral", calls_per_day=400)
    box = sandbox(conn)
    end = START + timedelta(days=6)
    calls = {record_id(conn, c): c for c in box.calls(conn.connection_id, START - timedelta(days=1), end)}
    by_number = {c.call_id: c for c in calls.values()}
    records = [r for r in box.records(conn.connection_id, "call_log", START, end) if "recording" in r]
    shared = [r for r in records
              if r["recording"]["id"] != recording_native_id(calls[r["id"]], calls[r["id"]].recording.recording_id)]
    assert len(records) > 1000 and 0 < len(shared) < 4 * RINGCENTRAL_SHARED_RECORDING * len(records)
    carried = 0
    for r in shared:
        before = by_number.get(calls[r["id"]].call_id - ID_DAY_STRIDE)
        if before is not None and before.recording is not None:
            assert r["recording"]["id"] == recording_native_id(before, before.recording.recording_id)
            carried += 1
    assert carried, "no shared id is the id of a recorded call of the day before"


def token(web: httpx.Client, conn: SandboxConnection) -> str:
    creds = conn.credentials
    basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
    answer = web.post("/restapi/oauth/token", headers={"Authorization": f"Basic {basic}"},
                      data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": creds["jwt"]})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def test_ringcentral_simple_view_account_and_records_without_session_id() -> None:
    simple = connection("ringcentral", calls_per_day=60, detailed_view=False)
    simple.connection_id, simple.credentials = "rc-simple", {**simple.credentials, "client_id": "simple-id"}
    sessionless = connection("ringcentral", calls_per_day=60, sessionless_rate=0.3)
    box = sandbox(simple, sessionless)
    params = {"dateFrom": "2026-01-05T00:00:00.000Z", "dateTo": "2026-01-06T00:00:00.000Z", "view": "Detailed",
              "perPage": "1000"}
    with box.serve(port=0), httpx.Client(base_url=box.base_url("ringcentral"), timeout=10) as web:
        pages = {}
        for conn in (simple, sessionless):
            bearer = {"Authorization": f"Bearer {token(web, conn)}"}
            answer = web.get("/restapi/v1.0/account/~/call-log", params=params, headers=bearer)
            assert answer.status_code == 200, answer.text
            pages[conn.connection_id] = answer.json()["records"]
    # An account that answers only in the Simple view: no legs although Detailed was asked for.
    assert pages["rc-simple"] and not any("legs" in r for r in pages["rc-simple"])
    assert all(r["uri"].endswith("view=Simple") for r in pages["rc-simple"])
    # Records without sessionId leave the key out (as the vendor's sync examples do), the others keep it.
    records = pages[sessionless.connection_id]
    without = [r for r in records if "sessionId" not in r]
    assert all("legs" in r for r in records) and 0.15 < len(without) / len(records) < 0.45
    assert not any(r.get("sessionId", "") is None for r in records)


def test_aircall_missed_call_reason_spelling_follows_the_routing_of_the_day() -> None:
    conn = connection("aircall", smartflows_since="2026-01-08")
    box = sandbox(conn)
    records = box.records(conn.connection_id, "calls", START, START + timedelta(days=7))
    switch = datetime(2026, 1, 8, tzinfo=UTC).timestamp()
    classic = {r["missed_call_reason"] for r in records if r["started_at"] < switch}
    smartflows = {r["missed_call_reason"] for r in records if r["started_at"] >= switch}
    assert "abandoned_in_classic" in classic and "abandoned" not in classic
    assert "abandoned" in smartflows and "abandoned_in_classic" not in smartflows


def test_public_holidays_hold_one_or_two_calls() -> None:
    for provider in ("aircall", "zendesk"):
        conn = connection(provider, calls_per_day=500)
        box = sandbox(conn)
        for day in (date(2025, 12, 25), date(2025, 12, 26), date(2026, 1, 1)):
            start = datetime.combine(day, datetime.min.time(), UTC)
            calls = box.calls(conn.connection_id, start, start + timedelta(days=1))
            assert 1 <= len(calls) <= 2, (provider, day, len(calls))
        normal = box.calls(conn.connection_id, START, START + timedelta(days=1))
        assert len(normal) > 300
