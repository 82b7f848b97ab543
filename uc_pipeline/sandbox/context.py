"""The sandbox context (`SandboxContext`) every emulator is given: the clock, the ground truth, the
connections, quota admission, fault injection and the request log, behind one object."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.requests import Request
from starlette.responses import Response

from uc_pipeline.sandbox.bodyfaults import malformed_response, reset_response, truncated_response
from uc_pipeline.sandbox.clock import Clock
from uc_pipeline.sandbox.config import QUOTA_PROFILES
from uc_pipeline.sandbox.contract import Emulator
from uc_pipeline.sandbox.faults import FaultInjector
from uc_pipeline.sandbox.generator import MAX_CALLS_PER_DAY
from uc_pipeline.sandbox.model import Admission, QuotaSpec, SandboxConnection
from uc_pipeline.sandbox.quota import QuotaBook
from uc_pipeline.sandbox.requestlog import RequestLog
from uc_pipeline.sandbox.truth import Truth

_STATE_KEY = "uc_sandbox"  # request.state entry: what admit() decided, read by deliver()
ARRIVED_KEY = "uc_arrived"  # request.state entry: monotonic arrival time, set by the app's middleware
# Status logged for an answer that never went out because its task was cancelled (server stopping while
# a slow answer was held back): nginx's "client closed request".
CANCELLED_STATUS = 499
# Authorization headers (digests) of answered requests remembered, to tie an unknown path to its connection.
_AUTH_MEMORY = 4096


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
        self._auth_seen: OrderedDict[bytes, str] = OrderedDict()
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
            try:
                await asyncio.sleep(delay)
            except asyncio.CancelledError:
                self.log(request.scope, CANCELLED_STATUS, connection_id=conn.connection_id, group=group,
                         exceeded=state.exceeded, fault=fault or "slow")
                raise
        return Admission(quota=state, fault=fault)

    def deliver(self, request: Request, conn: SandboxConnection | None, response: Response) -> Response:
        admitted = getattr(request.state, _STATE_KEY, None)
        connection_id, group, exceeded, fault = admitted or (None, None, False, None)
        if conn is not None:
            connection_id = conn.connection_id
            self._remember_auth(_authorization(request.scope), connection_id)
            self._remember_issued_token(response, connection_id)
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
        arrived = state.get(ARRIVED_KEY) if isinstance(state, dict) else None
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
            defaults=self.query_defaults(provider),
            elapsed_s=time.monotonic() - arrived if arrived is not None else 0.0,
        )

    def log_undelivered(self, scope: Mapping[str, Any], status: int) -> None:
        """Log a request no emulator delivered (unknown path, crash): tied to the connection that admit()
        counted it for, else to the one its credentials name."""
        state = scope.get("state")
        admitted = state.get(_STATE_KEY) if isinstance(state, dict) else None
        if admitted:
            connection_id, group, exceeded, fault = admitted
            self.log(scope, status, connection_id=connection_id, group=group, exceeded=exceeded, fault=fault)
        else:
            self.log(scope, status, connection_id=self.identify(scope))

    def query_defaults(self, provider: str | None) -> Mapping[str, str]:
        """The provider's documented query defaults: its emulator's `query_defaults` (none when it has no
        such attribute): leaving one out or giving its default asks for the same page."""
        if provider is None:
            return {}
        return getattr(self.emulators.get(provider), "query_defaults", None) or {}

    def identify(self, scope: Mapping[str, Any]) -> str | None:
        """The connection a request's credentials belong to: the same Authorization header as an answered
        request of that connection (bearer tokens included), or Basic credentials of one connection."""
        header = _authorization(scope)
        if not header:
            return None
        known = self._auth_seen.get(_auth_key(header))
        if known is not None:
            return known
        scheme, _, value = header.partition(b" ")
        if scheme.lower() != b"basic":
            return None
        try:
            user, sep, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        # Zendesk's API-token login is "<email>/token".
        user = user.removesuffix("/token")
        path = str(scope.get("path", ""))
        provider = path.strip("/").split("/", 1)[0]
        for conn in self.connections(provider):
            values = set(conn.credentials.values())
            if sep and user in values and password in values:
                return conn.connection_id
        return None

    def _remember_issued_token(self, response: Response, connection_id: str) -> None:
        """An OAuth token answer: its access token will authenticate the connection's next requests."""
        body = getattr(response, "body", None)
        if not (200 <= response.status_code < 300 and isinstance(body, bytes) and b'"access_token"' in body):
            return
        try:
            token = json.loads(body).get("access_token")
        except (ValueError, AttributeError):
            return
        if isinstance(token, str) and token:
            self._remember_auth(b"Bearer " + token.encode(), connection_id)

    def _remember_auth(self, header: bytes, connection_id: str) -> None:
        if not header:
            return
        key = _auth_key(header)
        self._auth_seen[key] = connection_id
        self._auth_seen.move_to_end(key)
        while len(self._auth_seen) > _AUTH_MEMORY:
            self._auth_seen.popitem(last=False)

    def drift(self, conn: SandboxConnection, record: dict[str, Any], optional: Sequence[str]) -> dict[str, Any]:
        return self.faults.drift(conn.connection_id, record, optional)

    def fault_fires(self, conn: SandboxConnection, kind: str) -> bool:
        return self.faults.fires(conn.connection_id, kind)


def _auth_key(header: bytes) -> bytes:
    """A digest of an Authorization header (scheme case-insensitive): what is remembered of it."""
    scheme, _, value = header.strip().partition(b" ")
    return hashlib.sha256(scheme.lower() + b" " + value.strip()).digest()


def _authorization(scope: Mapping[str, Any]) -> bytes:
    for name, value in scope.get("headers") or ():
        if name.lower() == b"authorization":
            return bytes(value)
    return b""


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
