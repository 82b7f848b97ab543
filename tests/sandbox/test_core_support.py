"""A minimal emulator ("dummy") for the sandbox core tests: Basic auth, a paginated JSON list of calls in
a window, an "auth" rate group with a penalty, and every fault path of the core."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from uc_pipeline.sandbox import (
    MISSED_REASONS,
    FaultSpec,
    ProviderProfile,
    QuotaSpec,
    Sandbox,
    SandboxConnection,
    SandboxContext,
)

PAGE_SIZE = 50
DAY = date(2026, 1, 6)  # a Tuesday
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)


class DummyEmulator:
    provider_id = "dummy"
    profile = ProviderProfile(outcomes=frozenset(MISSED_REASONS) | {"ANSWERED"}, direct_agent_access=True)
    default_quotas = {"default": QuotaSpec(60, 60.0), "auth": QuotaSpec(5, 60.0, penalty_s=60.0)}
    fast_quotas = {"default": QuotaSpec(10_000, 1.0), "auth": QuotaSpec(1_000, 1.0, penalty_s=1.0)}
    credential_fields = ("key", "secret")
    query_defaults = {"page": "1"}  # leaving `page` out asks for page 1

    def _connection(self, ctx: SandboxContext, request: Request) -> SandboxConnection | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return None
        key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        for conn in ctx.connections(self.provider_id):
            if conn.credentials == {"key": key, "secret": secret} and not ctx.fault_fires(conn, "wrong_credentials"):
                return conn
        return None

    def routes(self, ctx: SandboxContext) -> list[BaseRoute]:
        async def refuse(request: Request, conn: SandboxConnection, group: str) -> Response | None:
            adm = await ctx.admit(request, conn, group)
            if adm.quota.exceeded or (adm.fault or "").startswith("storm_429"):
                headers = {} if adm.fault == "storm_429_no_retry_after" else {"Retry-After": "1"}
                return ctx.deliver(request, conn, JSONResponse({"error": "rate"}, 429, headers=headers))
            if adm.fault and adm.fault.startswith("http_"):
                return ctx.deliver(request, conn, JSONResponse({"error": "boom"}, int(adm.fault[5:])))
            return None

        async def items(request: Request) -> Response:
            conn = self._connection(ctx, request)
            if conn is None:
                return ctx.deliver(request, None, JSONResponse({"error": "unauthorized"}, 401))
            refused = await refuse(request, conn, "default")
            if refused is not None:
                return refused
            q = request.query_params
            start, end = datetime.fromisoformat(q["start"]), datetime.fromisoformat(q["end"])
            page = int(q.get("page", "1"))
            rows = self.records(ctx, conn, "items", start, end)
            chunk = rows[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
            more = page * PAGE_SIZE < len(rows)
            return ctx.deliver(request, conn, JSONResponse({"items": chunk, "total": len(rows), "more": more}))

        async def token(request: Request) -> Response:
            conn = self._connection(ctx, request)
            if conn is None:
                return ctx.deliver(request, None, JSONResponse({"error": "unauthorized"}, 401))
            refused = await refuse(request, conn, "auth")
            return refused or ctx.deliver(request, conn, JSONResponse({"access_token": "t"}))

        return [Route("/v1/items", items), Route("/oauth/token", token, methods=["POST"])]

    def records(
        self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        if stream != "items":
            raise KeyError(stream)
        optional: Sequence[str] = ("agent", "queue")
        return [ctx.drift(conn, {"id": c.call_id, "started_at": int(c.start_at.timestamp()), "outcome": c.outcome,
                                 "agent": c.agent.name if c.agent else None,
                                 "queue": c.queue.name if c.queue else None}, optional)
                for c in ctx.truth.calls(conn, start, end)]

    def record_id(self, stream: str, record: dict[str, Any]) -> str:
        return str(record["id"])


def dummy_connection(connection_id: str = "dummy-1", calls_per_day: int = 120, **kw: Any) -> SandboxConnection:
    return SandboxConnection(provider="dummy", connection_id=connection_id,
                             credentials={"key": f"k-{connection_id}", "secret": "s3cret"},
                             calls_per_day=calls_per_day, **kw)


def dummy_sandbox(*conns: SandboxConnection, faults: FaultSpec | None = None) -> Sandbox:
    from uc_pipeline.sandbox import Clock

    conns = conns or (dummy_connection(),)
    if faults is not None:
        for c in conns:
            c.faults = faults
    return Sandbox(list(conns), profile="fast", clock=Clock(frozen=AS_OF), emulators={"dummy": DummyEmulator()})
