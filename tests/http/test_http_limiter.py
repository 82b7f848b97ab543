"""The shared limiter against a live loopback server that counts arrivals like a provider does:
no sliding window ever holds more than the quota, across threads, across processes sharing a
SQLite file and across processes sharing PostgreSQL; rate headers slow clients down before a 429."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict, deque
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from uc_pipeline.http import ApiClient, HttpSettings, Quota, RateHeaders

REPO = Path(__file__).resolve().parents[2]
PG_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


class QuotaServer:
    """A provider stand-in: per key, a sliding-window quota counted at arrival (429 when over), and
    optionally X-Remaining / X-Reset headers of that quota."""

    def __init__(self) -> None:
        self.quotas: dict[str, tuple[int, float]] = {}
        self.headers: set[str] = set()
        self.reset_delay: dict[str, float] = {}  # added to the reported reset, as a provider rounding it up
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.accepted: dict[str, deque[float]] = defaultdict(deque)
        self.rejected: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        app = Starlette(routes=[Route("/{key}/{rest:path}", self.handle)])
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                                     lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    async def handle(self, request: Request) -> JSONResponse:
        key = request.path_params["key"]
        with self._lock:
            now = time.monotonic()
            self.arrivals[key].append(now)
            limit, window = self.quotas.get(key, (10**9, 1.0))
            accepted = self.accepted[key]
            while accepted and now - accepted[0] >= window:
                accepted.popleft()
            headers = {}
            if len(accepted) >= limit:
                self.rejected[key] += 1
                return JSONResponse({"error": "rate limited"}, status_code=429,
                                    headers={"Retry-After": f"{accepted[0] + window - now:.3f}"})
            accepted.append(now)
            if key in self.headers:
                reset = time.time() + (accepted[0] + window - now) + self.reset_delay.get(key, 0.0)
                headers = {"X-Remaining": str(limit - len(accepted)), "X-Reset": f"{reset:.6f}"}
        return JSONResponse({"ok": True}, headers=headers)

    def url(self, key: str) -> str:
        return f"{self.base}/{key}"

    def max_in_window(self, key: str, window: float) -> int:
        """The most arrivals any half-open window of `window` seconds holds."""
        times = sorted(self.arrivals[key])
        best, start = 0, 0
        for end, t in enumerate(times):
            # 1 ms of slack for clock granularity; the client's guarantee is strict in real time.
            while t - times[start] >= window - 0.001:
                start += 1
            best = max(best, end - start + 1)
        return best

    def __enter__(self) -> QuotaServer:
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@pytest.fixture(scope="module")
def server():
    with QuotaServer() as srv:
        yield srv


def _key() -> str:
    return "k" + uuid.uuid4().hex[:12]


def _client(server: QuotaServer, key: str, quota: Quota, limiter_url: str, **kw) -> ApiClient:
    return ApiClient(key, server.url(key), quotas={"default": quota},
                     settings=HttpSettings(limiter_url=limiter_url, max_attempts=1), **kw)


def test_threads_sharing_one_connection_stay_under_the_quota(server: QuotaServer) -> None:
    key = _key()
    server.quotas[key] = (4, 0.3)
    clients = [_client(server, key, Quota(4, 0.3), "memory://") for _ in range(4)]

    def work(client: ApiClient) -> None:
        for i in range(5):
            client.get(f"/calls/{i}")

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(server.arrivals[key]) == 20
    assert server.rejected[key] == 0
    assert server.max_in_window(key, 0.3) <= 4
    assert sum(c.stats.requests for c in clients) == 20
    assert sum(c.stats.throttled for c in clients) == 0


_CHILD = r"""
import json, sys
from uc_pipeline.http import ApiClient, HttpSettings, Quota
url, limiter, key, n, limit, window = sys.argv[1:7]
settings = HttpSettings(limiter_url=limiter, max_attempts=1)
with ApiClient(key, url, quotas={"default": Quota(int(limit), float(window))}, settings=settings) as client:
    for i in range(int(n)):
        client.get(f"/calls/{i}")
    print(json.dumps(client.stats.as_dict()))
"""


def _run_processes(server: QuotaServer, key: str, limiter_url: str, processes: int, each: int,
                   limit: int, window: float) -> list[dict[str, int]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [server.url(key), limiter_url, key, str(each), str(limit), str(window)]
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(processes)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_processes_sharing_a_sqlite_limiter_stay_under_the_quota(server: QuotaServer, tmp_path: Path) -> None:
    key = _key()
    server.quotas[key] = (4, 0.4)
    results = _run_processes(server, key, f"sqlite:///{tmp_path / 'limiter.sqlite'}", 4, 5, 4, 0.4)
    assert len(server.arrivals[key]) == 20
    assert server.rejected[key] == 0
    assert server.max_in_window(key, 0.4) <= 4
    assert sum(r["requests"] for r in results) == 20
    assert all(r["throttled"] == 0 for r in results)


@pytest.mark.postgres
def test_processes_sharing_a_postgres_limiter_stay_under_the_quota(server: QuotaServer) -> None:
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server at 127.0.0.1:5432 (user postgres, trust auth): {exc}")
    key = _key()
    server.quotas[key] = (3, 0.4)
    results = _run_processes(server, key, PG_URL, 3, 4, 3, 0.4)
    assert len(server.arrivals[key]) == 12
    assert server.rejected[key] == 0
    assert server.max_in_window(key, 0.4) <= 3
    assert all(r["throttled"] == 0 for r in results)


def _headers(response: httpx.Response) -> RateHeaders:
    remaining = response.headers.get("X-Remaining")
    reset = response.headers.get("X-Reset")
    return RateHeaders(remaining=int(remaining) if remaining else None, reset_at=float(reset) if reset else None)


def test_rate_headers_slow_down_before_a_429(server: QuotaServer) -> None:
    # The provider allows 3 per 0.4 s while the connection is configured far higher: only the
    # headers can keep the client under it.
    key = _key()
    server.quotas[key] = (3, 0.4)
    server.headers.add(key)
    with _client(server, key, Quota(1000, 1.0), "memory://", rate_headers=_headers) as client:
        for i in range(9):
            client.get(f"/calls/{i}")
        assert client.stats.throttled == 0
    assert server.rejected[key] == 0
    assert server.max_in_window(key, 0.4) <= 3


def test_a_spent_quota_that_the_limiter_already_counts_does_not_wait_for_the_reported_reset(
    server: QuotaServer,
) -> None:
    # The configured quota is the provider's: when a response says 0 remaining, the limiter is full
    # too and its next slot opens no earlier than the provider's window allows; a reset reported
    # late (rounded up to whole seconds, say) must not add its delay to every window.
    key = _key()
    server.quotas[key] = (3, 0.4)
    server.headers.add(key)
    server.reset_delay[key] = 3.0
    with _client(server, key, Quota(3, 0.4), "memory://", rate_headers=_headers) as client:
        for i in range(9):
            client.get(f"/calls/{i}")
        assert client.stats.throttled == 0
    arrivals = server.arrivals[key]
    assert server.rejected[key] == 0 and server.max_in_window(key, 0.4) <= 3
    assert arrivals[-1] - arrivals[0] < 3.0  # the reported resets were 3 s late each


def test_a_429_is_counted_and_honoured_from_the_servers_retry_after(server: QuotaServer) -> None:
    # A connection configured above the provider's real quota: the 429 is counted, then honoured.
    key = _key()
    server.quotas[key] = (2, 0.4)
    settings = HttpSettings(limiter_url="memory://", max_attempts=3)
    with ApiClient(key, server.url(key), quotas={"default": Quota(100, 1.0)}, settings=settings) as client:
        for i in range(3):
            client.get(f"/calls/{i}")
        assert client.stats.throttled == 1
        assert client.stats.retries == 1
        assert client.stats.requests == 4
    arrivals = server.arrivals[key]
    # The retry came no earlier than the Retry-After the 429 carried.
    assert arrivals[3] - arrivals[0] >= 0.4 - 0.001
