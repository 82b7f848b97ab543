"""Zoom Server-to-Server OAuth in the client: one token shared by every process of a connection through
the state directory (mode 0600), a new grant only when the token is near its end (there is no refresh
token), a new token (one per dead token) and a retry after a 401 code 124, the token's `api_url` followed
only when it is a Zoom host or the connection's own, and a refused grant failing with what to check and no secret."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from uc_pipeline.connections import Connection, Secret
from uc_pipeline.extract import extract_partition
from uc_pipeline.http import HttpSettings, Quota
from uc_pipeline.providers.zoomphone.auth import TokenGrantError, ZoomToken, api_base, token_url
from uc_pipeline.sandbox import FaultSpec, Sandbox, SandboxConnection

TODAY = datetime.now(UTC).date()
DAY = TODAY - timedelta(days=1)
TOKEN_PATH = "/zoomphone/oauth/token"
CHILD = """
import sys
from datetime import date
from uc_pipeline.connections import Connection, Secret
from uc_pipeline.extract import extract_partition
from uc_pipeline.http import HttpSettings
base, state, data, day = sys.argv[1:5]
conn = Connection(provider="zoomphone", connection_id="zp-cache", base_url=base,
                  credentials={"account_id": Secret("acct-zp-cache"), "client_id": Secret("cid-zp-cache"),
                               "client_secret": Secret("secret-zp-cache-x")})
extract_partition(conn, "call_history", date.fromisoformat(day), data_dir=data,
                  settings=HttpSettings(state_dir=state))
"""


def zoom(connection_id: str, **over: object) -> SandboxConnection:
    fields: dict = dict(provider="zoomphone", connection_id=connection_id, seed=5, calls_per_day=30,
                        credentials={"account_id": f"acct-{connection_id}", "client_id": f"cid-{connection_id}",
                                     "client_secret": f"secret-{connection_id}-x"},
                        history_start=TODAY - timedelta(days=5))
    fields.update(over)
    return SandboxConnection(**fields)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox([zoom("zp-cache"), zoom("zp-expiry", faults=FaultSpec(token_expiry_after=1, seed=2)),
                   zoom("zp-wrong")], profile="fast")
    with box.serve(port=0):
        yield box


def connection(box: Sandbox, connection_id: str, **credential_over: str) -> Connection:
    conn = box.connection(connection_id)
    return Connection(provider="zoomphone", connection_id=connection_id, base_url=box.base_url("zoomphone"),
                      credentials={k: Secret(v) for k, v in {**conn.credentials, **credential_over}.items()},
                      quotas={g: Quota(s.requests, s.window_s) for g, s in box.quotas(connection_id).items()})


def grants(box: Sandbox, connection_id: str) -> int:
    return sum(e.path == TOKEN_PATH and e.status == 200 for e in box.request_log.entries(connection_id))


def test_processes_share_one_token_through_the_state_dir(sandbox: Sandbox, tmp_path) -> None:
    state = tmp_path / "state"
    settings = HttpSettings(state_dir=str(state))
    extract_partition(connection(sandbox, "zp-cache"), "call_history", DAY, data_dir=tmp_path, settings=settings)
    files = list((state / "zoomphone").glob("*.json"))
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert "secret-zp-cache-x" not in files[0].read_text()
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", CHILD, sandbox.base_url("zoomphone"), str(state), str(tmp_path),
                        DAY.isoformat()], check=True, env=env, timeout=120)
    assert grants(sandbox, "zp-cache") == 1
    # Every API request carried that one token (none was refused for it: a 429 of the sandbox's rate
    # limit, retried, is the only other answer), and none carried it in the query string.
    api = [e for e in sandbox.request_log.entries("zp-cache") if "/v2/phone/" in e.path]
    assert sum(e.path.endswith("/call_history") for e in api) == 3
    assert all(e.status in (200, 429) and "access_token" not in e.query for e in api)


def test_a_token_near_its_end_is_replaced_by_a_new_grant() -> None:
    token = ZoomToken("a", time.time() + 30, 3599, None, None, "https://api-eu.zoom.us")
    assert not token.usable(time.time())  # within the last minute: a new grant is asked for
    assert ZoomToken("b", time.time() + 3000, 3599, None, None).usable(time.time())


def test_a_401_gets_a_new_token_and_a_retry(sandbox: Sandbox, tmp_path) -> None:
    # One detail at a time: every refused request is then one the sandbox killed the token on.
    conn = replace(connection(sandbox, "zp-expiry"), options={"detail_threads": 1})
    result = extract_partition(conn, "call_history", DAY, data_dir=tmp_path,
                               settings=HttpSettings(backoff_base_s=0.01))
    assert result.landed.rows > 0
    entries = sandbox.request_log.entries("zp-expiry")
    refused = [e for e in entries if e.status == 401]
    kills = sandbox.fault_counts("zp-expiry").get("token_expiry", 0)
    assert refused and kills == len(refused) and grants(sandbox, "zp-expiry") == kills + 1


def test_a_refused_grant_says_what_to_check_without_the_secret(sandbox: Sandbox, tmp_path) -> None:
    conn = connection(sandbox, "zp-wrong", client_secret="not-the-secret-123")
    with pytest.raises(TokenGrantError) as failed:
        extract_partition(conn, "call_history", DAY, data_dir=tmp_path, settings=HttpSettings())
    message = str(failed.value)
    assert "invalid_client" in message and "client_secret" in message and "Server-to-Server" in message
    assert "not-the-secret-123" not in message
    assert not [e for e in sandbox.request_log.entries("zp-wrong") if "/v2/phone/" in e.path]


def test_api_url_is_followed_only_to_zoom_or_the_connection_itself() -> None:
    conn = Connection(provider="zoomphone", connection_id="c", base_url="https://api.zoom.us", credentials={})
    def tok(url: str | None) -> ZoomToken:
        return ZoomToken("t", time.time() + 3000, 3599, None, None, url)
    assert api_base(conn, tok("https://api-eu.zoom.us")) == "https://api-eu.zoom.us"
    assert api_base(conn, tok(None)) == "https://api.zoom.us"
    assert api_base(conn, tok("https://evil.example.com")) == "https://api.zoom.us"
    assert api_base(conn, tok("http://api-eu.zoom.us")) == "https://api.zoom.us"
    assert token_url("https://api.zoom.us") == "https://zoom.us/oauth/token"
    assert token_url("http://127.0.0.1:9/zoomphone") == "http://127.0.0.1:9/zoomphone/oauth/token"
