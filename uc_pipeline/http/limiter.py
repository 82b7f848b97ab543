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

The store may fail under a run: a dropped connection is reopened with backoff (a few tries, then a
`LimiterError` naming the store; the next request tries afresh, so one outage never poisons the
process), and a stalled store (a statement past its timeout, see `limiter_store`) fails the
request at once with a message saying what to check; so does a store that sends nothing at all, once
the client-side watchdog shuts its connection down. Either way the partition fails with nothing
landed, within bounded time, and the connection's lock is never held past that time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from uc_pipeline.http.limiter_store import Dialect, LimiterError, dialect_for, safe_url

__all__ = ["Decision", "LimiterError", "SharedLimiter", "dialect_for", "get_limiter", "safe_url"]

log = logging.getLogger("uc_pipeline.http")
T = TypeVar("T")
RECONNECT_WAITS_S = (0.2, 0.5, 1.0, 2.0)  # pauses between reconnection attempts after a lost connection


@dataclass(frozen=True)
class Decision:
    """The outcome of one try: a slot id, or how long to wait (and why) before trying again."""

    slot: int | None
    wait_s: float
    reason: str = "quota"  # "quota" (window full) or the reason stored with a gate
    counted: int = 0  # with a slot: the slots of the key in the window, this one included


class SharedLimiter:
    """Slots and gates of every key, in one store; safe for threads (one connection, one lock)."""

    def __init__(self, url: str, dialect: Dialect) -> None:
        self.url = url
        self._dialect = dialect
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._con: Any = self._open()

    def _open(self) -> Any:
        try:
            return self._dialect.connect()
        except Exception as exc:
            raise LimiterError(
                f"cannot open the shared rate limiter at {safe_url(self.url)} ({type(exc).__name__}: "
                f"{_first_line(exc)}). Check HttpSettings.limiter_url (UC_LIMITER_URL): the SQLite folder must be "
                "writable, the PostgreSQL server reachable with those credentials. Nothing of the partition was "
                "landed; re-run it once the store answers."
            ) from None

    def _run(self, key: str, work: Callable[[Any], T]) -> T:
        """`work(cursor)` in one transaction holding `key`'s lock; reconnects after a lost connection."""
        # Another thread's statement is bounded by the store's timeouts and reconnections; past that
        # (and a margin), this process's store is wedged and waiting longer would hide it.
        bound = getattr(self._dialect, "watchdog_s", self._dialect.stall_timeout_s * 2)
        patience = bound + sum(RECONNECT_WAITS_S) + 30
        if not self._lock.acquire(timeout=patience):
            raise LimiterError(f"the shared rate limiter at {safe_url(self.url)} kept this request waiting over "
                               f"{patience:.0f}s behind another of this process; check the store's server, then "
                               "re-run the partition (nothing of it was landed).")
        try:
            for attempt, pause in enumerate((*RECONNECT_WAITS_S, None), start=1):
                try:
                    return self._once(key, work)
                except Exception as exc:
                    problem = self._dialect.problem(exc, self._con)
                    if problem is None:
                        raise
                    if problem == "stalled":
                        if self._con is not None and getattr(self._con, "closed", 0):
                            self._drop()  # shut down by the watchdog: the next request opens a new one
                        bound = getattr(exc, "bound_s", self._dialect.stall_timeout_s)
                        raise LimiterError(
                            f"the shared rate limiter at {safe_url(self.url)} did not answer within "
                            f"{bound:g}s ({type(exc).__name__}: {_first_line(exc)}): the store is stalled (a lock "
                            "held by another session, an overloaded or paused server, or a network path that "
                            "stopped forwarding). The partition fails with nothing landed; check the server (for "
                            "PostgreSQL, blocking sessions in pg_stat_activity) and the network to it, then re-run it."
                        ) from None
                    self._drop()
                    if pause is None:
                        raise LimiterError(
                            f"the shared rate limiter at {safe_url(self.url)} is unreachable: the connection was "
                            f"lost and {attempt - 1} reconnections failed (last: {type(exc).__name__}: "
                            f"{_first_line(exc)}). The partition fails with nothing landed; check that the store "
                            "of HttpSettings.limiter_url (UC_LIMITER_URL) is up and reachable, then re-run it."
                        ) from None
                    log.warning("[%s] lost the shared rate limiter's connection (%s: %s); reconnecting in %gs",
                                key, type(exc).__name__, _first_line(exc), pause)
                    time.sleep(pause)
            raise AssertionError("unreachable")  # the loop returns or raises
        finally:
            self._lock.release()

    def _once(self, key: str, work: Callable[[Any], T]) -> T:
        if self._con is None or os.getpid() != self._pid:  # lost, or a forked child: never share a connection
            self._pid, self._con = os.getpid(), None
            self._con = self._dialect.connect()
        con = self._con
        with self._dialect.guard(con):
            cur = con.cursor()
            try:
                self._dialect.begin(cur, key)
                result = work(cur)
                self._dialect.commit(con, cur)
                return result
            except BaseException:
                try:
                    self._dialect.rollback(con, cur)
                except Exception:  # noqa: BLE001 - the first error is the one to report; a broken connection is dropped
                    log.debug("rollback failed on the limiter's store", exc_info=True)
                raise
            finally:
                with contextlib.suppress(Exception):  # closing a cursor of a dead connection
                    cur.close()

    def _drop(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            with contextlib.suppress(Exception):  # it is gone either way
                con.close()

    def try_acquire(self, key: str, limit: int, window_s: float, stale_s: float) -> Decision:
        """Take a slot of `key` now if the gate is open and fewer than `limit` slots are in the window."""
        q = self._dialect.sql
        def work(cur: Any) -> Decision:
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

        return self._run(key, work)

    def release(self, key: str, slot: int) -> None:
        """The response of `slot` arrived (or the request failed): its window starts now."""
        q = self._dialect.sql
        def work(cur: Any) -> None:
            now = self._dialect.now(cur)
            cur.execute(q("UPDATE uc_rate_slots SET ts = ?, inflight = 0 WHERE id = ?"), (now, slot))

        self._run(key, work)

    def block(self, key: str, seconds: float, reason: str) -> float:
        """Send nothing on `key`, from any process, for `seconds` (extends, never shortens); returns
        the seconds the key is now blocked for."""
        q = self._dialect.sql
        def work(cur: Any) -> float:
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

        return self._run(key, work)

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
        def work(cur: Any) -> None:
            cur.execute(q("DELETE FROM uc_rate_slots WHERE key LIKE ?"), (key_prefix + "%",))
            cur.execute(q("DELETE FROM uc_rate_gates WHERE key LIKE ?"), (key_prefix + "%",))

        self._run(key_prefix, work)

    def close(self) -> None:
        with self._lock:
            self._drop()


_limiters: dict[tuple[int, str], SharedLimiter] = {}
_limiters_lock = threading.Lock()


def get_limiter(url: str) -> SharedLimiter:
    """The process's limiter for `url` (one per URL and process, shared by every client)."""
    with _limiters_lock:
        key = (os.getpid(), url)
        limiter = _limiters.get(key)
        if limiter is None:
            limiter = _limiters[key] = SharedLimiter(url, dialect_for(url))
        return limiter


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]
