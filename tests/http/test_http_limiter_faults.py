"""The shared limiter when its PostgreSQL store misbehaves (a real server on 127.0.0.1:5432, in a
database of its own): a dropped connection is reopened and the next acquire works; a store that is
locked, down, a port that accepts and never answers, or a connection that stops answering
mid-session fails the request in bounded time with a message saying what to check; one failure
never poisons the process."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg2
import pytest

from uc_pipeline.http import limiter_store as http_limiter_store
from uc_pipeline.http.limiter import LimiterError, SharedLimiter, dialect_for

pytestmark = pytest.mark.postgres


def _admin(dsn: str, dbname: str = "postgres") -> psycopg2.extensions.connection:
    con = psycopg2.connect("postgresql://" + dsn.split("://", 1)[1].rsplit("/", 1)[0] + f"/{dbname}",
                           connect_timeout=5)
    con.autocommit = True
    return con


@pytest.fixture
def store_url(postgres_dsn: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database of its own (locking its tables stalls no other test), with short timeouts."""
    monkeypatch.setattr(http_limiter_store, "PG_STATEMENT_TIMEOUT_S", 1.0)
    monkeypatch.setattr(http_limiter_store, "PG_CONNECT_TIMEOUT_S", 2)
    name = f"uc_limiter_faults_{uuid.uuid4().hex[:10]}"
    admin = _admin(postgres_dsn)
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield postgres_dsn.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def _limiter(url: str) -> SharedLimiter:
    return SharedLimiter(url, dialect_for(url))


def _take(limiter: SharedLimiter, key: str = "conn/default") -> int:
    decision = limiter.acquire(key, 100, 1.0, stale_s=60.0)
    assert decision.slot is not None
    limiter.release(key, decision.slot)
    return decision.slot


def test_a_terminated_backend_is_reopened_and_the_next_acquire_works(store_url: str, postgres_dsn: str) -> None:
    limiter = _limiter(store_url)
    first = _take(limiter)
    admin = _admin(postgres_dsn)
    try:
        for _ in range(3):  # every drop is recovered, not only the first
            admin.cursor().execute("SELECT pg_terminate_backend(%s)", (limiter._con.get_backend_pid(),))
            assert _take(limiter) > first
    finally:
        admin.close()
        limiter.close()


def test_a_locked_store_fails_the_request_in_bounded_time_and_recovers(store_url: str, postgres_dsn: str) -> None:
    limiter = _limiter(store_url)
    _take(limiter)
    blocker = _admin(postgres_dsn, store_url.rsplit("/", 1)[1])
    blocker.autocommit = False
    cur = blocker.cursor()
    cur.execute("LOCK TABLE uc_rate_slots IN ACCESS EXCLUSIVE MODE")
    try:
        with pytest.raises(LimiterError) as info:
            _take(limiter)
        message = str(info.value)
        assert "did not answer within 1s" in message and "stalled" in message
        assert "pg_stat_activity" in message and "re-run" in message
    finally:
        blocker.rollback()
        blocker.close()
    _take(limiter)  # the same limiter works again once the lock is gone
    limiter.close()


def test_a_store_that_goes_down_fails_clearly_then_works_when_back(store_url: str, postgres_dsn: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = _limiter(store_url)
    _take(limiter)
    dialect = limiter._dialect
    real_dsn = dialect.dsn
    dialect.dsn = "postgresql://postgres@127.0.0.1:1/none"  # the store's address stops answering
    admin = _admin(postgres_dsn)
    admin.cursor().execute("SELECT pg_terminate_backend(%s)", (limiter._con.get_backend_pid(),))
    admin.close()
    with pytest.raises(LimiterError) as info:
        _take(limiter)
    message = str(info.value)
    assert "unreachable" in message and "4 reconnections failed" in message
    assert "UC_LIMITER_URL" in message and "re-run" in message
    dialect.dsn = real_dsn  # back up: the next request reconnects by itself
    _take(limiter)
    limiter.close()


class _SilentServer:
    """Accepts TCP connections and never answers, as a wedged server or a half-open firewall."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def test_a_port_that_accepts_and_never_answers_fails_at_the_connect_timeout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_limiter_store, "PG_CONNECT_TIMEOUT_S", 2)
    server = _SilentServer()
    try:
        url = f"postgresql+psycopg2://postgres@127.0.0.1:{server.port}/postgres"
        started = time.monotonic()
        with pytest.raises(LimiterError) as info:
            _limiter(url)
        elapsed = time.monotonic() - started
        assert "cannot open the shared rate limiter" in str(info.value) and "timeout" in str(info.value)
        assert len(server.accepted) >= 1
        print(f"silent store: failed after {elapsed:.1f}s, {len(server.accepted)} connection(s)")
    finally:
        server.close()


def test_a_key_stalled_by_another_session_does_not_stop_the_other_keys(store_url: str, postgres_dsn: str) -> None:
    limiter = _limiter(store_url)
    _take(limiter, "stalled/default")
    blocker = _admin(postgres_dsn, store_url.rsplit("/", 1)[1])
    blocker.autocommit = False
    blocker.cursor().execute("SELECT pg_advisory_xact_lock(hashtext('stalled/default'))")  # as a wedged process
    outcome: dict[str, object] = {}

    def stalled() -> None:
        try:
            _take(limiter, "stalled/default")
        except LimiterError as exc:
            outcome["stalled"] = exc

    try:
        thread = threading.Thread(target=stalled)
        thread.start()
        for _ in range(5):  # the other connection keeps its slots meanwhile and after
            outcome.setdefault("other", []).append(_take(limiter, "other/default"))  # type: ignore[union-attr]
        thread.join(timeout=30)
    finally:
        blocker.rollback()
        blocker.close()
    assert not thread.is_alive()
    assert isinstance(outcome.get("stalled"), LimiterError) and "did not answer within 1s" in str(outcome["stalled"])
    assert len(outcome["other"]) == 5  # type: ignore[arg-type]
    limiter.close()


class _PausableProxy:
    """A loopback TCP proxy to PostgreSQL that can stop forwarding while keeping every connection
    open: it still reads (so the kernel acknowledges everything) and forwards nothing, as a paused
    backend or a wedged middlebox. A side that closes closes its peer, and what was held is dropped."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.forwarding = threading.Event()
        self.forwarding.set()
        self._stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target, timeout=5)
            self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        held = b""
        try:
            while not self._stop.is_set():
                if held and self.forwarding.is_set():
                    dst.sendall(held)
                    held = b""
                if not select.select([src], [], [], 0.05)[0]:
                    continue
                data = src.recv(65536)
                if not data:
                    break
                held += data
        except (OSError, ValueError):
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        for sock in self._sockets:
            sock.close()


def test_a_store_that_stops_answering_mid_session_fails_clearly_then_recovers(
        store_url: str, postgres_dsn: str) -> None:
    host_port = store_url.split("@", 1)[1].split("/", 1)[0]
    host, port = host_port.rsplit(":", 1)
    proxy = _PausableProxy((host, int(port)))
    limiter = _limiter(store_url.replace(host_port, f"127.0.0.1:{proxy.port}"))
    try:
        _take(limiter)  # connected through the proxy, and one acquire worked
        proxy.forwarding.clear()  # the connection stays open, nothing comes back: no server timeout can fire
        started = time.monotonic()
        with pytest.raises(LimiterError) as info:
            _take(limiter)
        elapsed = time.monotonic() - started
        message = str(info.value)
        assert f"127.0.0.1:{proxy.port}" in message and "did not answer within 3s" in message
        assert "stalled" in message and "network path" in message and "re-run" in message
        assert elapsed < 60  # bounded: without the watchdog this acquire never returns
        print(f"silent store mid-session: failed after {elapsed:.1f}s: {message}")
        proxy.forwarding.set()
        _take(limiter)  # the next request opens a new connection and works
    finally:
        limiter.close()
        proxy.close()
