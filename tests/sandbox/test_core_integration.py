"""The core with the real emulators: the generated connections file loads in the pipeline, and every
provider is served under its prefix next to the control endpoints."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime

import httpx
import pytest

from uc_pipeline.connections import load_connections
from uc_pipeline.sandbox import PROVIDER_IDS, Clock, Sandbox, load_sandbox_config

MISSING = [p for p in PROVIDER_IDS if importlib.util.find_spec(f"uc_pipeline.sandbox.{p}") is None]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"emulators not written yet: {MISSING}")


def test_connections_yaml_loads_in_the_pipeline(tmp_path) -> None:
    sandbox = Sandbox(Sandbox.default_connections(calls_per_day=20), profile="documented")
    text, env = sandbox.connections_yaml("http://127.0.0.1:9", env_prefix="SBX_")
    path = tmp_path / "connections.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = {c.connection_id: c for c in load_connections(path, env)}
    assert set(loaded) == {f"demo-{p}" for p in PROVIDER_IDS}
    for conn in sandbox.connections:
        pipeline = loaded[conn.connection_id]
        assert pipeline.base_url == f"http://127.0.0.1:9/{conn.provider}"
        assert {k: str(v) for k, v in pipeline.credentials.items()} == conn.credentials
        for group, spec in sandbox.quotas(conn.connection_id).items():
            quota = pipeline.quotas[group]
            assert (quota.requests, quota.per_seconds, quota.penalty_seconds) == (
                spec.requests, spec.window_s, spec.penalty_s)
    assert all(name.startswith("SBX_DEMO_") for name in env)


def test_every_emulator_is_served_with_its_truth() -> None:
    clock = Clock(frozen=datetime(2026, 2, 1, tzinfo=UTC))
    sandbox = Sandbox(Sandbox.default_connections(calls_per_day=20), clock=clock)
    with sandbox.serve() as base:
        health = httpx.get(f"{base}/_sandbox/health").json()
        assert health["providers"] == sorted(PROVIDER_IDS)
        window = {"start": "2026-01-06T00:00:00Z", "end": "2026-01-07T00:00:00Z"}
        truth = httpx.get(f"{base}/_sandbox/truth/demo-aircall/calls", params=window).json()
        assert truth["count"] == len(sandbox.records("demo-aircall", "calls", *_window())) > 0
        assert httpx.get(f"{base}/aircall/v1/calls").status_code == 401  # no credentials
    assert sandbox.request_log.entries()[-1].path == "/aircall/v1/calls"


def test_sandbox_config_file(tmp_path) -> None:
    path = tmp_path / "sandbox.yaml"
    path.write_text(
        "profile: documented\n"
        "connections:\n"
        "  - {provider: zendesk, connection_id: acme-zd, seed: 3, calls_per_day: 50, timezone: Asia/Tokyo,\n"
        "     quotas: {default: {requests: 5, window_s: 60}}, faults: {error_5xx_rate: 0.5}}\n",
        encoding="utf-8",
    )
    connections, settings = load_sandbox_config(path)
    sandbox = Sandbox(connections, profile=settings["profile"])
    assert sandbox.quotas("acme-zd")["default"].requests == 5
    assert sandbox.ctx.faults.spec("acme-zd").error_5xx_rate == 0.5
    assert set(connections[0].credentials) == {"email", "api_token"}


def test_unknown_paths_answer_the_vendors_error_body_and_name_the_connection() -> None:
    clock = Clock(frozen=datetime(2026, 2, 1, tzinfo=UTC))
    sandbox = Sandbox(Sandbox.default_connections(calls_per_day=5), clock=clock)
    creds = {c.provider: c.credentials for c in sandbox.connections}
    aircall = (creds["aircall"]["api_id"], creds["aircall"]["api_token"])
    zendesk = (f"{creds['zendesk']['email']}/token", creds["zendesk"]["api_token"])
    rc = creds["ringcentral"]
    with sandbox.serve() as base:
        # Aircall's error object, Zendesk's, RingCentral's platform error; the answers a client parses.
        answer = httpx.get(f"{base}/aircall/v1/call", auth=aircall)
        assert answer.status_code == 404 and set(answer.json()) == {"error", "troubleshoot"}
        answer = httpx.get(f"{base}/zendesk/api/v2/channels/voice/stats/incremental/cals", auth=zendesk)
        assert answer.status_code == 404 and answer.json() == {"error": "InvalidEndpoint", "description": "Not found"}
        token = httpx.post(
            f"{base}/ringcentral/restapi/oauth/token",
            auth=(rc["client_id"], rc["client_secret"]),
            data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": rc["jwt"]},
        ).json()["access_token"]
        answer = httpx.get(
            f"{base}/ringcentral/restapi/v1.0/account/~/calllog", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 404 and answer.json()["errorCode"] == "CMN-102"
        assert answer.json()["errors"][0]["message"].startswith("Resource for parameter")
        # A path under no provider names what is served.
        answer = httpx.get(f"{base}/nosuchprovider/v2/calls")
        assert answer.status_code == 404 and "/aircall/" in answer.json()["message"]
        assert httpx.get(f"{base}/aircall/v1/call").status_code == 404  # no credentials: nobody's
    logged = [(e.path, e.status, e.connection_id) for e in sandbox.request_log.entries() if e.status == 404]
    assert logged == [
        ("/aircall/v1/call", 404, "demo-aircall"),
        ("/zendesk/api/v2/channels/voice/stats/incremental/cals", 404, "demo-zendesk"),
        ("/ringcentral/restapi/v1.0/account/~/calllog", 404, "demo-ringcentral"),
        ("/nosuchprovider/v2/calls", 404, None),
        ("/aircall/v1/call", 404, None),
    ]


def _window() -> tuple[datetime, datetime]:
    return datetime(2026, 1, 6, tzinfo=UTC), datetime(2026, 1, 7, tzinfo=UTC)
