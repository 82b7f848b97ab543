"""`Sandbox`: the Python API of the sandbox. It loads the emulators it needs, owns the context (clock,
truth, quotas, faults, request log) and serves the app with uvicorn in a background thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import uvicorn

from uc_pipeline.sandbox.app import build_app
from uc_pipeline.sandbox.clock import Clock
from uc_pipeline.sandbox.config import connections_yaml, default_connections
from uc_pipeline.sandbox.context import Context
from uc_pipeline.sandbox.contract import Emulator
from uc_pipeline.sandbox.emulators import PROVIDER_IDS, load_emulator
from uc_pipeline.sandbox.model import Call, FaultSpec, QuotaSpec, SandboxConnection
from uc_pipeline.sandbox.requestlog import RequestLog


class Sandbox:
    """Emulated provider accounts. `profile` picks the quotas: "fast" (tests, benchmarks) or "documented"
    (the providers' real limits); a connection's own `quotas` override either. `emulators` replaces the
    built-in emulators by provider id (tests); otherwise they are imported as needed."""

    def __init__(
        self,
        connections: Sequence[SandboxConnection],
        profile: str = "fast",
        clock: Clock | None = None,
        *,
        emulators: Mapping[str, Emulator] | None = None,
        request_log_capacity: int | None = None,
    ) -> None:
        given = dict(emulators or {})
        needed = {c.provider for c in connections}
        loaded = {p: given[p] if p in given else load_emulator(p) for p in sorted(needed | set(given))}
        log = RequestLog(request_log_capacity) if request_log_capacity else RequestLog()
        self.clock = clock or Clock()
        self.ctx = Context(list(connections), loaded, profile=profile, clock=self.clock, log=log)
        self.app = build_app(self.ctx)
        self._base: str | None = None

    # --- building connections -------------------------------------------------------------------------

    @staticmethod
    def default_connections(
        providers: Iterable[str] = PROVIDER_IDS,
        calls_per_day: int = 200,
        seed: int = 1,
        history_start: date = date(2026, 1, 1),
    ) -> list[SandboxConnection]:
        """One connection per provider (`demo-<provider>`) with generated credentials."""
        return default_connections(providers, calls_per_day=calls_per_day, seed=seed, history_start=history_start)

    # --- serving --------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def serve(self, port: int = 0, host: str = "127.0.0.1") -> Iterator[str]:
        """Serve in a background thread; yields the base URL (`http://127.0.0.1:<port>`). Port 0 picks a
        free port. Stops the server on exit."""
        if self._base is not None:
            raise RuntimeError(f"this sandbox is already serving at {self._base}")
        sock = bind_socket(host, port)
        server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning", lifespan="off",
                                               timeout_graceful_shutdown=2, access_log=False))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="uc-sandbox", daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"the sandbox server did not start on {host}:{port}")
            time.sleep(0.01)
        self._base = f"http://{host}:{sock.getsockname()[1]}"
        try:
            yield self._base
        finally:
            self._base = None
            server.should_exit = True
            thread.join(timeout=10)
            if thread.is_alive():
                server.force_exit = True
                thread.join(timeout=5)
            sock.close()

    @property
    def serving_url(self) -> str:
        if self._base is None:
            raise RuntimeError("the sandbox is not serving; use `with sandbox.serve() as base: ...`")
        return self._base

    def base_url(self, provider: str) -> str:
        """The base URL a connection of `provider` uses (`http://127.0.0.1:<port>/<provider>`)."""
        if provider not in self.ctx.emulators:
            raise KeyError(f"this sandbox has no {provider!r} emulator; it has {sorted(self.ctx.emulators)}")
        return f"{self.serving_url}/{provider}"

    # --- data and state -------------------------------------------------------------------------------

    @property
    def connections(self) -> list[SandboxConnection]:
        return self.ctx.all_connections()

    def connection(self, connection_id: str) -> SandboxConnection:
        return self.ctx.connection(connection_id)

    def emulator(self, provider: str) -> Emulator:
        return self.ctx.emulators[provider]

    def calls(self, connection_id: str, start: datetime, end: datetime, as_of: datetime | None = None) -> list[Call]:
        """The canonical calls of a connection starting in `[start, end)`, as known at `as_of` (default now)."""
        return self.ctx.truth.calls(self.ctx.connection(connection_id), start, end, as_of)

    def records(self, connection_id: str, stream: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The native records of `stream` an extraction of `[start, end)` must land, as served now."""
        conn = self.ctx.connection(connection_id)
        return self.ctx.emulators[conn.provider].records(self.ctx, conn, stream, start, end)

    def prepare(self, connection_id: str, stream: str, start: datetime, end: datetime) -> None:
        """Build now what serving an extraction of `stream` over `[start, end)` reads (the generated
        days, the emulator's per-day views), so that its first request does not wait for them."""
        conn = self.ctx.connection(connection_id)
        self.ctx.emulators[conn.provider].prepare(self.ctx, conn, stream, start, end)

    def record_ids(self, connection_id: str, stream: str, start: datetime, end: datetime) -> list[str]:
        conn = self.ctx.connection(connection_id)
        emulator = self.ctx.emulators[conn.provider]
        return [emulator.record_id(stream, r) for r in emulator.records(self.ctx, conn, stream, start, end)]

    @property
    def request_log(self) -> RequestLog:
        return self.ctx.request_log

    def fault_counts(self, connection_id: str) -> dict[str, int]:
        return self.ctx.faults.counts(connection_id)

    def set_faults(self, connection_id: str, spec: FaultSpec | Mapping[str, Any], *, merge: bool = False) -> FaultSpec:
        """Replace the connection's faults (or, with `merge`, change only the given fields)."""
        self.ctx.connection(connection_id)
        return self.ctx.faults.set(connection_id, spec, merge=merge)

    def quotas(self, connection_id: str) -> dict[str, QuotaSpec]:
        """The effective quota of every rate group of a connection."""
        return self.ctx.quota_specs(self.ctx.connection(connection_id))

    def reset_quotas(self, connection_id: str | None = None) -> None:
        self.ctx.quotas.reset(connection_id)

    def connections_yaml(self, base_url: str | None = None, env_prefix: str = "UC_") -> tuple[str, dict[str, str]]:
        """A pipeline connections file for every sandbox connection and the environment it needs.
        `base_url` defaults to where this sandbox is serving."""
        base = (base_url or self.serving_url).rstrip("/")
        return connections_yaml(self.connections, base, {c.connection_id: self.quotas(c.connection_id)
                                                         for c in self.connections}, env_prefix,
                                emulators=self.ctx.emulators)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port); port 0 picks a free one."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another --port or 0 for any") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock
