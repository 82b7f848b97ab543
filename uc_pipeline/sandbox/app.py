"""The sandbox's ASGI app: every emulator's routes under `/<provider id>`, the control endpoints under
`/_sandbox/`, unknown paths answered with the provider's own 404 body (notfound.py), and a safety net
that logs requests no emulator delivered (404s, crashes) with the connection their credentials name."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from uc_pipeline.sandbox.bodyfaults import silence_injected_faults
from uc_pipeline.sandbox.context import ARRIVED_KEY, Context
from uc_pipeline.sandbox.notfound import not_found


class _LogUndelivered:
    """Logs provider requests that never passed `Context.deliver` (unknown paths, emulator errors)."""

    def __init__(self, app: ASGIApp, ctx: Context) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})[ARRIVED_KEY] = time.monotonic()
        status = {"code": 500}

        async def tap(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tap)
        finally:
            self.ctx.log_undelivered(scope, status["code"])


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, default=str, ensure_ascii=False), status_code=status,
                    media_type="application/json")


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _control_routes(ctx: Context) -> list[Route]:
    async def health(request: Request) -> Response:
        return _json({"status": "ok", "now": ctx.now().isoformat(), "profile": ctx.profile,
                      "providers": sorted(ctx.emulators),
                      "connections": [{"provider": c.provider, "connection_id": c.connection_id}
                                      for c in ctx.all_connections()]})

    async def requests(request: Request) -> Response:
        q = request.query_params
        entries = ctx.request_log.entries(q.get("connection_id"), q.get("provider"))
        limit = int(q.get("limit", "1000"))
        return _json({"total": len(entries), "dropped": ctx.request_log.dropped,
                      "counts": ctx.request_log.counts(q.get("connection_id")),
                      "violations": len([e for e in entries if e.exceeded]),
                      "duplicate_pages": [{"page": list(k), "times": n}
                                          for k, n in ctx.request_log.duplicate_pages(q.get("connection_id")).items()],
                      "requests": [e.as_dict() for e in entries[-limit:]] if limit > 0 else []})

    async def faults(request: Request) -> Response:
        return _json({cid: {"spec": dataclasses.asdict(ctx.faults.spec(cid)), "counts": ctx.faults.counts(cid)}
                      for cid in ctx.faults.connection_ids()})

    async def set_faults(request: Request) -> Response:
        connection_id = request.path_params["connection_id"]
        try:
            ctx.connection(connection_id)
        except KeyError as exc:
            return _error(404, str(exc.args[0]))
        try:
            body = json.loads(await request.body() or b"{}")
            spec = ctx.faults.set(connection_id, body, merge=request.method == "POST")
        except ValueError as exc:
            return _error(400, f"{exc}. PUT replaces the whole spec, POST changes only the given fields.")
        return _json({"connection_id": connection_id, "spec": dataclasses.asdict(spec)})

    async def truth(request: Request) -> Response:
        connection_id, stream = request.path_params["connection_id"], request.path_params["stream"]
        try:
            conn = ctx.connection(connection_id)
            start = _parse_time(request.query_params.get("start"), "start")
            end = _parse_time(request.query_params.get("end"), "end")
        except KeyError as exc:
            return _error(404, str(exc.args[0]))
        except ValueError as exc:
            return _error(400, str(exc))
        emulator = ctx.emulators[conn.provider]
        try:
            records = emulator.records(ctx, conn, stream, start, end)
        except (KeyError, ValueError) as exc:
            return _error(400, f"{conn.provider} cannot list stream {stream!r}: {exc}")
        return _json({"connection_id": connection_id, "stream": stream, "start": start.isoformat(),
                      "end": end.isoformat(), "count": len(records),
                      "records": [{"id": emulator.record_id(stream, r), "record": r} for r in records]})

    return [
        Route("/health", health, methods=["GET"]),
        Route("/requests", requests, methods=["GET"]),
        Route("/faults", faults, methods=["GET"]),
        Route("/faults/{connection_id}", set_faults, methods=["PUT", "POST"]),
        Route("/truth/{connection_id}/{stream}", truth, methods=["GET"]),
    ]


def _parse_time(value: str | None, name: str) -> datetime:
    if not value:
        raise ValueError(f"query parameter {name} is required (ISO-8601 with offset, e.g. 2026-01-05T00:00:00Z)")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name}={value!r} is not ISO-8601 (e.g. 2026-01-05T00:00:00Z)") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{name}={value!r} needs a UTC offset (e.g. 2026-01-05T00:00:00Z)")
    return parsed


def build_app(ctx: Context) -> Starlette:
    """The Starlette app serving every emulator of `ctx` and the control endpoints."""
    silence_injected_faults()
    routes: list[Any] = [Mount("/_sandbox", routes=_control_routes(ctx))]
    for provider, emulator in sorted(ctx.emulators.items()):
        routes.append(Mount(f"/{provider}", routes=emulator.routes(ctx)))
    async def unknown_path(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith("/_sandbox"):
            return _error(404, f"no control endpoint {request.url.path}")
        return not_found(request, ctx.emulators)

    async def other_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error(exc.status_code, f"{exc.detail}: {request.method} {request.url.path}")

    app = Starlette(routes=routes, exception_handlers={404: unknown_path, 405: other_http_error})
    app.add_middleware(_LogUndelivered, ctx=ctx)
    return app
