"""The shared rate limiter of the HTTP layer: one sliding-window quota per (connection, rate group),
shared by every thread and process that uses the same `HttpSettings.limiter_url`, plus a shared
"blocked until" per key (a provider said the quota is spent, or a 429 asked us to pause).

Backends, chosen by URL: `sqlite:///<path>` (one machine, many processes: SQLite's own file lock
through `BEGIN IMMEDIATE`, WAL journal), `postgresql+psycopg2://...` (many machines: a transaction
holding `pg_advisory_xact_lock` per key, timestamps from the database clock) and `memory://` (one
process: an in-memory SQLite database, so every backend runs the same SQL).

Why not pyrate-limiter (4.5.1, which has SQLite/Redis/Postgres buckets): a provider counts a request
when it *arrives*, which is some time after we acquired the slot; under load (many processes on
few cores) that delay is unbounded, so a fixed safety margin is either wasteful or wrong. The one
stamp that is always at or after the arrival is the moment the response arrives, so a slot here is
held "in flight" from acquisition until the response and then stamped with that moment. pyrate's
buckets stamp a slot once at acquisition and offer no way to move it; its blocking loop also
advances a waiting item's stamp by the planned sleep instead of reading the clock (an overslept
wait then stamps too early), its Postgres bucket needs psycopg 3 and psycopg_pool (this project
ships psycopg2 with dagster-postgres), and it has no shared "blocked until". What is left to write
is two small tables and one transaction, below.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import tenacity

log = logging.getLogger("uc_pipeline.http")

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS uc_rate_slots (id {id_type} PRIMARY KEY, key TEXT NOT NULL, "
    "ts DOUBLE PRECISION NOT NULL, inflight INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS uc_rate_slots_key_ts ON uc_rate_slots (key, ts)",
    "CREATE TABLE IF NOT EXISTS uc_rate_gates (key TEXT PRIMARY KEY, until_ts DOUBLE PRECISION NOT NULL, "
    "reason TEXT NOT NULL)",
)


class LimiterError(RuntimeError):
    """The shared limiter's store cannot be opened or used; the message says what to check."""


@dataclass(frozen=True)
class Decision:
    """The outcome of one try: a slot id, or how long to wait (and why) before trying again."""

    slot: int | None
    wait_s: float
    reason: str = "quota"  # "quota" (window full) or the reason stored with a gate
    counted: int = 0  # with a slot: the slots of the key in the window, this one included


def _locked(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


class _Dialect:
    """What differs between SQLite and PostgreSQL; the SQL itself is shared."""

    id_type = "INTEGER"
    param = "?"

    def connect(self) -> Any:
        raise NotImplementedError

    def begin(self, cur: Any, key: str) -> None:
        raise NotImplementedError

    def now(self, cur: Any) -> float:
        return time.time()

    def sql(self, text: str) -> str:
        return text.replace("?", self.param)


class _SQLite(_Dialect):
    id_type = "INTEGER"

    def __init__(self, path: str) -> None:
        self.path = path

    def connect(self) -> Any:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
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
                    for statement in _SCHEMA:
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


class _Postgres(_Dialect):
    id_type = "BIGSERIAL"
    param = "%s"

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn

    def connect(self) -> Any:
        import psycopg2

        con = psycopg2.connect(self.dsn, connect_timeout=10)
        con.autocommit = False
        with con.cursor() as cur:
            # Concurrent CREATE ... IF NOT EXISTS can still collide in the catalog; serialize it.
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('uc_rate_schema'))")
            for statement in _SCHEMA:
                cur.execute(statement.format(id_type=self.id_type))
        con.commit()
        return con

    def begin(self, cur: Any, key: str) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))

    def now(self, cur: Any) -> float:
        # One clock for every machine sharing the database.
        cur.execute("SELECT extract(epoch FROM clock_timestamp())::double precision")
        return float(cur.fetchone()[0])


class SharedLimiter:
    """Slots and gates of every key, in one store; safe for threads (one connection, one lock)."""

    def __init__(self, url: str, dialect: _Dialect) -> None:
        self.url = url
        self._dialect = dialect
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._con = self._open()

    def _open(self) -> Any:
        try:
            return self._dialect.connect()
        except Exception as exc:
            raise LimiterError(
                f"cannot open the shared rate limiter at {safe_url(self.url)} ({type(exc).__name__}: {exc}). "
                "Check HttpSettings.limiter_url (UC_LIMITER_URL): the SQLite folder must be writable, the "
                "PostgreSQL server reachable with those credentials."
            ) from None

    @contextmanager
    def _transaction(self, key: str) -> Iterator[Any]:
        with self._lock:
            if os.getpid() != self._pid:  # a forked child must not share the parent's connection
                self._pid, self._con = os.getpid(), self._open()
            cur = self._con.cursor()
            try:
                self._dialect.begin(cur, key)
                yield cur
                if isinstance(self._dialect, _SQLite):
                    cur.execute("COMMIT")
                else:
                    self._con.commit()
            except BaseException:
                if isinstance(self._dialect, _SQLite):
                    if self._con.in_transaction:
                        cur.execute("ROLLBACK")
                else:
                    self._con.rollback()
                raise
            finally:
                cur.close()

    def try_acquire(self, key: str, limit: int, window_s: float, stale_s: float) -> Decision:
        """Take a slot of `key` now if the gate is open and fewer than `limit` slots are in the window."""
        q = self._dialect.sql
        with self._transaction(key) as cur:
            now = self._dialect.now(cur)
            cur.execute(q("SELECT until_ts, reason FROM uc_rate_gates WHERE key = ?"), (key,))
            gate = cur.fetchone()
            if gate and gate[0] > now:
                return Decision(None, gate[0] - now, gate[1])
            # Released slots count until `window_s` after their response; in-flight ones until released,
            # or, when their process died mid-request, as if released `stale_s` after acquisition.
            cur.execute(
                q("DELETE FROM uc_rate_slots WHERE key = ? AND ts <= ? AND (inflight = 0 OR ts <= ?)"),
                (key, now - window_s, now - window_s - stale_s),
            )
            cur.execute(q("SELECT COUNT(*) FROM uc_rate_slots WHERE key = ?"), (key,))
            used = int(cur.fetchone()[0])
            if used < limit:
                cur.execute(q("INSERT INTO uc_rate_slots (key, ts, inflight) VALUES (?, ?, 1) RETURNING id"),
                            (key, now))
                return Decision(int(cur.fetchone()[0]), 0.0, counted=used + 1)
            # The (used - limit + 1)-th oldest released slot frees the first place; an in-flight slot
            # frees no earlier than a full window from now.
            cur.execute(
                q("SELECT ts FROM uc_rate_slots WHERE key = ? AND inflight = 0 ORDER BY ts LIMIT 1 OFFSET ?"),
                (key, used - limit),
            )
            row = cur.fetchone()
            return Decision(None, (row[0] + window_s - now) if row else window_s)

    def release(self, key: str, slot: int) -> None:
        """The response of `slot` arrived (or the request failed): its window starts now."""
        q = self._dialect.sql
        with self._transaction(key) as cur:
            now = self._dialect.now(cur)
            cur.execute(q("UPDATE uc_rate_slots SET ts = ?, inflight = 0 WHERE id = ?"), (now, slot))

    def block(self, key: str, seconds: float, reason: str) -> float:
        """Send nothing on `key`, from any process, for `seconds` (extends, never shortens); returns
        the seconds the key is now blocked for."""
        q = self._dialect.sql
        with self._transaction(key) as cur:
            now = self._dialect.now(cur)
            cur.execute(q("SELECT until_ts FROM uc_rate_gates WHERE key = ?"), (key,))
            row = cur.fetchone()
            until = now + max(seconds, 0.0)
            if row is None:
                cur.execute(q("INSERT INTO uc_rate_gates (key, until_ts, reason) VALUES (?, ?, ?)"),
                            (key, until, reason))
            elif row[0] < until:
                cur.execute(q("UPDATE uc_rate_gates SET until_ts = ?, reason = ? WHERE key = ?"),
                            (until, reason, key))
            else:
                until = row[0]
            return until - now

    def acquire(
        self,
        key: str,
        limit: int,
        window_s: float,
        *,
        stale_s: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Decision:
        """Wait until `key` has room, then take a slot; its id (`slot`) is for `release`."""
        while True:
            decision = self.try_acquire(key, limit, window_s, stale_s)
            if decision.slot is not None:
                return decision
            if decision.reason == "quota":
                log.debug("[%s] quota of %d per %gs in use; next slot in %.3fs", key, limit, window_s,
                          decision.wait_s)
            else:
                log.info("[%s] paused for %.2fs: %s", key, decision.wait_s, decision.reason)
            sleep(max(decision.wait_s, 0.001))

    def reset(self, key_prefix: str) -> None:
        """Forget every slot and gate whose key starts with `key_prefix` (tests and benchmarks)."""
        q = self._dialect.sql
        with self._transaction(key_prefix) as cur:
            cur.execute(q("DELETE FROM uc_rate_slots WHERE key LIKE ?"), (key_prefix + "%",))
            cur.execute(q("DELETE FROM uc_rate_gates WHERE key LIKE ?"), (key_prefix + "%",))

    def close(self) -> None:
        with self._lock:
            self._con.close()


def safe_url(url: str) -> str:
    """`url` without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def _dialect_for(url: str) -> _Dialect:
    if url in ("memory://", "memory:"):
        return _SQLite(":memory:")
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///"):]
        if not path:
            raise LimiterError(f"limiter_url {url!r} names no file. Fix: use sqlite:///<path to a .sqlite file>")
        return _SQLite(path)
    scheme = url.split("://", 1)[0]
    if scheme in ("postgresql+psycopg2", "postgresql", "postgres"):
        return _Postgres("postgresql://" + url.split("://", 1)[1])
    raise LimiterError(
        f"unknown limiter_url {safe_url(url)!r}. Fix: use memory:// (one process), sqlite:///<path> (one "
        "machine) or postgresql+psycopg2://user:password@host:port/db (many machines)."
    )


_limiters: dict[tuple[int, str], SharedLimiter] = {}
_limiters_lock = threading.Lock()


def get_limiter(url: str) -> SharedLimiter:
    """The process's limiter for `url` (one per URL and process, shared by every client)."""
    with _limiters_lock:
        key = (os.getpid(), url)
        limiter = _limiters.get(key)
        if limiter is None:
            limiter = _limiters[key] = SharedLimiter(url, _dialect_for(url))
        return limiter
