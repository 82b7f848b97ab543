"""The stores of the shared rate limiter (`uc_pipeline.http.limiter`): how to open SQLite and
PostgreSQL, begin a transaction holding a key's lock, read the clock, and tell a lost connection or
a stalled store from any other error. The SQL itself is shared.

PostgreSQL connections carry a connect timeout, a statement and lock timeout, and TCP keepalives
(with a user timeout), so that a store that stops answering fails the request in bounded time
instead of holding it forever. The timeouts default to the module constants; a `connect_timeout` or
`options` given in `limiter_url` wins. Those all need a server, or a peer kernel, that tells us
something: a backend paused mid-session, or a proxy that keeps the TCP connection open and forwards
nothing, lets every one of them wait forever (the kernel acknowledges each packet). So each
transaction also runs under a client-side watchdog (`PostgresDialect.guard`) that shuts the socket
down once the transaction outlives `watchdog_s`, and the blocked call returns with an error.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit, urlunsplit

import tenacity

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS uc_rate_slots (id {id_type} PRIMARY KEY, key TEXT NOT NULL, "
    "ts DOUBLE PRECISION NOT NULL, inflight INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS uc_rate_slots_key_ts ON uc_rate_slots (key, ts)",
    "CREATE TABLE IF NOT EXISTS uc_rate_gates (key TEXT PRIMARY KEY, until_ts DOUBLE PRECISION NOT NULL, "
    "reason TEXT NOT NULL)",
)

# Seconds. A limiter statement takes milliseconds; waiting longer than this means the store is stalled.
PG_CONNECT_TIMEOUT_S = 5
PG_STATEMENT_TIMEOUT_S = 10.0

# The server's own timeouts (a lock wait, then a statement) fire first while it is alive; a
# transaction outliving this many of them means nothing answers at all.
PG_WATCHDOG_FACTOR = 3

Problem = Literal["lost", "stalled"] | None


class LimiterError(RuntimeError):
    """The shared limiter's store cannot be opened or used; the message says what to check."""


class StoreSilent(Exception):
    """The client-side watchdog shut a connection down: the store sent nothing for `bound_s`."""

    def __init__(self, bound_s: float, detail: str) -> None:
        super().__init__(f"no answer within {bound_s:g}s, so the connection was shut down ({detail})")
        self.bound_s = bound_s


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


class Dialect:
    """What differs between SQLite and PostgreSQL; the SQL itself is shared."""

    id_type = "INTEGER"
    param = "?"
    stall_timeout_s = 60.0  # how long one statement may wait before the store counts as stalled

    def connect(self) -> Any:
        raise NotImplementedError

    def begin(self, cur: Any, key: str) -> None:
        raise NotImplementedError

    def commit(self, con: Any, cur: Any) -> None:
        raise NotImplementedError

    def rollback(self, con: Any, cur: Any) -> None:
        raise NotImplementedError

    def guard(self, con: Any) -> contextlib.AbstractContextManager[None]:
        """Bounds the store's calls made inside it, when the store's own timeouts cannot."""
        return contextlib.nullcontext()

    def problem(self, exc: BaseException, con: Any) -> Problem:
        """"lost" (the connection is gone: reconnect), "stalled" (the store did not answer in time),
        or None (any other error: a bug, not the store's state)."""
        return None

    def now(self, cur: Any) -> float:
        return time.time()

    def sql(self, text: str) -> str:
        return text.replace("?", self.param)


class SQLiteDialect(Dialect):
    id_type = "INTEGER"

    def __init__(self, path: str) -> None:
        self.path = path

    def connect(self) -> Any:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=self.stall_timeout_s, isolation_level=None, check_same_thread=False)
        # Several processes opening a new file at once: switching to WAL takes an exclusive lock that
        # does not wait on the busy timeout, so the setup is retried while another process holds it.
        retrying = tenacity.Retrying(retry=tenacity.retry_if_exception(_locked), wait=tenacity.wait_random(0.01, 0.2),
                                     stop=tenacity.stop_after_delay(60), reraise=True)
        for attempt in retrying:
            with attempt:
                if self.path != ":memory:" and con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                    con.execute("PRAGMA journal_mode=WAL")
                con.execute("BEGIN IMMEDIATE")
                try:
                    for statement in SCHEMA:
                        con.execute(statement.format(id_type=self.id_type))
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
        con.execute("PRAGMA synchronous=NORMAL")
        return con

    def begin(self, cur: Any, key: str) -> None:
        # IMMEDIATE takes SQLite's write lock up front, so count-then-insert is atomic across processes.
        cur.execute("BEGIN IMMEDIATE")

    def commit(self, con: Any, cur: Any) -> None:
        cur.execute("COMMIT")

    def rollback(self, con: Any, cur: Any) -> None:
        if con.in_transaction:
            cur.execute("ROLLBACK")

    def problem(self, exc: BaseException, con: Any) -> Problem:
        # The busy timeout ran out: another process held the file's write lock all that time.
        return "stalled" if _locked(exc) else None


class PostgresDialect(Dialect):
    id_type = "BIGSERIAL"
    param = "%s"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.stall_timeout_s = PG_STATEMENT_TIMEOUT_S

    @property
    def watchdog_s(self) -> float:
        return self.stall_timeout_s * PG_WATCHDOG_FACTOR

    def _options(self) -> dict[str, Any]:
        given = parse_qs(urlsplit(self.dsn).query)
        options: dict[str, Any] = {"application_name": "uc-pipeline-limiter", "keepalives": 1,
                                   "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3,
                                   "tcp_user_timeout": int(self.stall_timeout_s * 1000)}
        if "connect_timeout" not in given:
            options["connect_timeout"] = max(int(PG_CONNECT_TIMEOUT_S), 2)  # libpq's smallest
        if "options" not in given:
            ms = int(self.stall_timeout_s * 1000)
            options["options"] = f"-c statement_timeout={ms} -c lock_timeout={ms}"
        return options

    def connect(self) -> Any:
        import psycopg2

        self.stall_timeout_s = PG_STATEMENT_TIMEOUT_S
        con = psycopg2.connect(self.dsn, **self._options())
        con.autocommit = False
        try:
            with self.guard(con), con.cursor() as cur:
                # Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog; serialize it.
                cur.execute("SELECT pg_advisory_xact_lock(hashtext('uc_rate_schema'))")
                for statement in SCHEMA:
                    cur.execute(statement.format(id_type=self.id_type))
            con.commit()
        except BaseException:
            con.close()
            raise
        return con

    @contextlib.contextmanager
    def guard(self, con: Any) -> Iterator[None]:
        import psycopg2

        bound = self.watchdog_s
        state = threading.Lock()
        fired: list[str] = []
        done = False

        def shut() -> None:
            with state:  # never once the guarded calls are over: the connection may be reused by then
                if done:
                    return
                # Recorded first: the shutdown wakes the blocked call, which then reads this.
                fired.append("no reply from the server or the network path to it")
                # A copy of the descriptor: shutting the socket down wakes the blocked libpq call, while
                # the descriptor itself stays libpq's to close. Already closed: the call fails by itself.
                with contextlib.suppress(OSError, psycopg2.Error), socket.socket(fileno=os.dup(con.fileno())) as sock:
                    sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(bound, shut)
        timer.daemon = True
        timer.start()
        try:
            yield
        except Exception as exc:
            if fired:
                raise StoreSilent(bound, fired[0]) from exc
            raise
        finally:
            with state:
                done = True
            timer.cancel()

    def begin(self, cur: Any, key: str) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))

    def commit(self, con: Any, cur: Any) -> None:
        con.commit()

    def rollback(self, con: Any, cur: Any) -> None:
        if not con.closed:
            con.rollback()

    def problem(self, exc: BaseException, con: Any) -> Problem:
        import psycopg2
        from psycopg2 import errors

        if isinstance(exc, errors.QueryCanceled | errors.LockNotAvailable) and con is not None and not con.closed:
            return "stalled"
        if isinstance(exc, StoreSilent):
            return "stalled"
        if isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError):
            return "lost"
        return None

    def now(self, cur: Any) -> float:
        # One clock for every machine sharing the database.
        cur.execute("SELECT extract(epoch FROM clock_timestamp())::double precision")
        return float(cur.fetchone()[0])


def safe_url(url: str) -> str:
    """`url` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def dialect_for(url: str) -> Dialect:
    """The store `url` names: memory://, sqlite:///<path> or postgresql+psycopg2://..."""
    if url in ("memory://", "memory:"):
        return SQLiteDialect(":memory:")
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path:
            raise LimiterError(f"limiter_url {url!r} names no file. Fix: use sqlite:///<path to a .sqlite file>")
        return SQLiteDialect(path)
    scheme = url.split("://", 1)[0]
    if scheme in ("postgresql+psycopg2", "postgresql", "postgres"):
        return PostgresDialect("postgresql://" + url.split("://", 1)[1])
    raise LimiterError(
        f"unknown limiter_url {safe_url(url)!r}. Fix: use memory:// (one process), sqlite:///<path> (one "
        "machine) or postgresql+psycopg2://user:password@host:port/db (many machines)."
    )
