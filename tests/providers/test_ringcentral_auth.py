"""RingCentral OAuth in the client: the token cache shared through the state directory, refresh
before expiry, falling back to the JWT when a refresh token is refused, reusing another process's
renewal, and exactly one renewal and retry on a 401."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from uc_pipeline.connections import Connection, Secret
from uc_pipeline.http import ApiClient, AuthError, HttpSettings, Quota
from uc_pipeline.providers.ringcentral import auth as ringcentral_auth
from uc_pipeline.providers.ringcentral.auth import RingCentralAuth

BASE = "https://platform.ringcentral.com"


@pytest.fixture(autouse=True)
def fresh_token_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens are cached per process and connection; every test here starts without one."""
    monkeypatch.setattr(ringcentral_auth._MemoryStore, "_tokens", {})


def connection() -> Connection:
    return Connection(provider="ringcentral", connection_id="rc-auth", base_url=BASE,
                      credentials={"client_id": Secret("cid"), "client_secret": Secret("csecret"),
                                   "jwt": Secret("eyJ.jwt.sig")},
                      quotas={"default": Quota(1000, 1.0), "auth": Quota(1000, 1.0)})


class Server:
    """Token endpoint and one data endpoint; `refuse_refresh` and `dead` steer the answers."""

    def __init__(self) -> None:
        self.grants: list[str] = []
        self.issued = 0
        self.dead: set[str] = set()
        self.refuse_refresh = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/restapi/oauth/token":
            grant = parse_qs(request.content.decode())["grant_type"][0]
            self.grants.append(grant)
            if grant == "refresh_token" and self.refuse_refresh:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "Token is revoked"})
            self.issued += 1
            return httpx.Response(200, json={"access_token": f"T{self.issued}", "token_type": "bearer",
                                             "expires_in": 3600, "refresh_token": f"R{self.issued}",
                                             "refresh_token_expires_in": 604800, "scope": "ReadCallLog",
                                             "owner_id": "1"})
        token = request.headers["authorization"].removeprefix("Bearer ")
        if token in self.dead:
            return httpx.Response(401, json={"errorCode": "TokenInvalid", "message": "Access token corrupted."})
        return httpx.Response(200, json={"token": token})


def client(server: Server, state_dir: Path | None) -> tuple[ApiClient, RingCentralAuth]:
    conn = connection()
    settings = HttpSettings(max_attempts=2, backoff_base_s=0.01, state_dir=str(state_dir) if state_dir else None)
    auth = RingCentralAuth(conn, settings)
    api = ApiClient(conn.connection_id, BASE, quotas=conn.quotas, settings=settings, auth=auth,
                    transport=httpx.MockTransport(server), secrets=conn.secret_values)
    auth.bind(api)
    return api, auth


def test_processes_share_one_token_and_one_renewal(tmp_path: Path) -> None:
    server = Server()
    api_a, auth_a = client(server, tmp_path)
    api_b, auth_b = client(server, tmp_path)  # another process: only the state directory is shared
    assert api_a.get("/x").json()["token"] == api_b.get("/x").json()["token"] == "T1"
    assert server.grants == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    server.dead.add("T1")
    assert api_a.get("/x").json()["token"] == "T2"  # 401, one refresh, one retry
    assert api_b.get("/x").json()["token"] == "T2"  # 401, finds A's renewal in the cache: no new grant
    assert server.grants[1:] == ["refresh_token"]


def test_a_token_near_expiry_is_refreshed_before_use(tmp_path: Path) -> None:
    server = Server()
    api, _ = client(server, tmp_path)
    api.get("/x")
    (cache,) = (tmp_path / "ringcentral").glob("*.json")
    data = json.loads(cache.read_text())
    data["expires_at"] -= 3590  # 10 s left: under the margin
    cache.write_text(json.dumps(data))
    assert api.get("/x").json()["token"] == "T2"
    assert server.grants[-1] == "refresh_token"


def test_a_refused_refresh_falls_back_to_the_jwt() -> None:
    server = Server()
    api, _ = client(server, None)
    api.get("/x")
    server.dead.add("T1")
    server.refuse_refresh = True
    assert api.get("/x").json()["token"] == "T2"
    assert server.grants == ["urn:ietf:params:oauth:grant-type:jwt-bearer", "refresh_token",
                             "urn:ietf:params:oauth:grant-type:jwt-bearer"]


def test_a_second_401_is_an_auth_error_after_one_renewal() -> None:
    server = Server()
    api, _ = client(server, None)
    api.get("/x")
    server.dead.update({"T1", "T2", "T3"})
    with pytest.raises(AuthError, match="HTTP 401"):
        api.get("/x")
    assert server.grants.count("refresh_token") == 1
