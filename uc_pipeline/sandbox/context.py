"""The sandbox context (`SandboxContext`) every emulator is given: the clock, the ground truth, the
connections, quota admission, fault injection and the request log, behind one object."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import Response

from uc_pipeline.sandbox.bodyfaults import malformed_response, reset_response, truncated_response
from uc_pipeline.sandbox.clock import Clock
from uc_pipeline.sandbox.faults import FaultInjector
from uc_pipeline.sandbox.generator import MAX_CALLS_PER_DAY
from uc_pipeline.sandbox.model import Admission, Emulator, QuotaSpec, SandboxConnection
from uc_pipeline.sandbox.quota import QuotaBook
from uc_pipeline.sandbox.requestlog import RequestLog
from uc_pipeline.sandbox.truth import Truth

QUOTA_PROFILES = ("fast", "documented")
_STATE_KEY = "uc_sandbox"  # request.state entry: what admit() decided, read by deliver()


class Context:
    """Implements `SandboxContext` for a set of connections and their emulators."""

    def __init__(
        self,
        connections: Sequence[SandboxConnection],
        emulators: Mapping[str, Emulator],
        *,
        profile: str = "fast",
        clock: Clock | None = None,
        log: RequestLog | None = None,
    ) -> None:
        if profile not in QUOTA_PROFILES:
            raise ValueError(f"unknown quota profile {profile!r}; use one of {', '.join(QUOTA_PROFILES)}")
        self.profile = profile
        self.clock = clock or Clock()
        self.emulators = dict(emulators)
        self.request_log = log or RequestLog()
        self.quotas = QuotaBook()
        self.faults = FaultInjector()
        self.truth = Truth(lambda provider: self.emulators[provider].profile, self.clock.now)
        self._by_id: dict[str, SandboxConnection] = {}
        for conn in connections:
            if conn.connection_id in self._by_id:
                raise ValueError(f"duplicate sandbox connection_id {conn.connection_id!r}")
            _check(conn, self.emulators.get(conn.provider))
            self._by_id[conn.connection_id] = conn
            self.faults.register(conn.connection_id, conn.faults)

    def now(self) -> datetime:
        return self.clock.now()

    def connections(self, provider: str) -> Sequence[SandboxConnection]:
        return [c for c in self._by_id.values() if c.provider == provider]

    def all_connections(self) -> list[SandboxConnection]:
        return list(self._by_id.values())

    def connection(self, connection_id: str) -> SandboxConnection:
        try:
            return self._by_id[connection_id]
        except KeyError:
            raise KeyError(f"unknown sandbox connection {connection_id!r}; known: {sorted(self._by_id)}") from None

    def quota_specs(self, conn: SandboxConnection) -> dict[str, QuotaSpec]:
        """The effective quota of every rate group: the connection's override, else the profile's."""
        emulator = self.emulators[conn.provider]
        base = emulator.fast_quotas if self.profile == "fast" else emulator.default_quotas
        return {**base, **conn.quotas}

    def quota_spec(self, conn: SandboxConnection, group: str) -> QuotaSpec:
        specs = self.quota_specs(conn)
        if group not in specs:
            raise KeyError(f"{conn.provider} has no rate group {group!r}; groups: {sorted(specs)}")
        return specs[group]

    async def admit(self, request: Request, conn: SandboxConnection, group: str = "default") -> Admission:
        state = self.quotas.hit(conn.connection_id, group, self.quota_spec(conn, group))
        fault, delay = (None, 0.0) if state.exceeded else self.faults.draw_pre_response(conn.connection_id)
        # A slow answer is logged as a fault: the client has usually timed out and asked again, so the
        # page it re-fetches is not a duplicate.
        setattr(
            request.state, _STATE_KEY, (conn.connection_id, group, state.exceeded, fault or ("slow" if delay else None))
        )
        if delay:
            await asyncio.sleep(delay)
        return Admission(quota=state, fault=fault)

    def deliver(self, request: Request, conn: SandboxConnection | None, response: Response) -> Response:
        admitted = getattr(request.state, _STATE_KEY, None)
        connection_id, group, exceeded, fault = admitted or (None, None, False, None)
        if conn is not None:
            connection_id = conn.connection_id
        body_fault = None
        if (
            conn is not None
            and fault in (None, "slow")
            and 200 <= response.status_code < 300
            and isinstance(getattr(response, "body", None), bytes | bytearray | memoryview)
        ):
            body_fault = self.faults.draw_body(conn.connection_id)
            if body_fault == "reset":
                response = reset_response(response)
            elif body_fault == "truncated":
                response = truncated_response(response)
            elif body_fault == "malformed":
                response = malformed_response(response)
        self.log(
            request.scope,
            response.status_code,
            connection_id=connection_id,
            group=group,
            exceeded=exceeded,
            fault=fault or body_fault,
        )
        return response

    def log(
        self,
        scope: Mapping[str, Any],
        status: int,
        *,
        connection_id: str | None = None,
        group: str | None = None,
        exceeded: bool = False,
        fault: str | None = None,
    ) -> None:
        """Record one answered request (once: later calls for the same request are ignored)."""
        state = scope.get("state")
        if isinstance(state, dict):
            if state.get("uc_logged"):
                return
            state["uc_logged"] = True
        path = scope.get("path", "")  # the full path: Starlette's Mount does not strip its prefix
        parts = path.strip("/").split("/", 1)
        provider = parts[0] if parts[0] in self.emulators else None
        if connection_id is not None and connection_id in self._by_id:
            provider = self._by_id[connection_id].provider
        self.request_log.add(
            provider=provider,
            connection_id=connection_id,
            method=scope.get("method", ""),
            path=path,
            query=(scope.get("query_string") or b"").decode("latin-1"),
            group=group,
            status=status,
            exceeded=exceeded,
            fault=fault,
        )

    def drift(self, conn: SandboxConnection, record: dict[str, Any], optional: Sequence[str]) -> dict[str, Any]:
        return self.faults.drift(conn.connection_id, record, optional)

    def fault_fires(self, conn: SandboxConnection, kind: str) -> bool:
        return self.faults.fires(conn.connection_id, kind)


def _check(conn: SandboxConnection, emulator: Emulator | None) -> None:
    """Fail early, with the fix, on a connection the generator or its emulator could not serve."""
    where = f"sandbox connection {conn.connection_id!r}"
    if emulator is None:
        raise ValueError(f"{where}: no emulator for provider {conn.provider!r}")
    missing = [f for f in emulator.credential_fields if not conn.credentials.get(f)]
    if missing:
        raise ValueError(
            f"{where}: credentials lack {missing}; {conn.provider} takes {', '.join(emulator.credential_fields)}"
        )
    try:
        ZoneInfo(conn.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{where}: unknown time zone {conn.timezone!r}; use an IANA name like Europe/Paris") from None
    if not 0 <= conn.calls_per_day <= MAX_CALLS_PER_DAY:
        raise ValueError(f"{where}: calls_per_day must be between 0 and {MAX_CALLS_PER_DAY}")
