"""The Zendesk emulator's directory endpoints: the agents, the groups, the Talk lines, and the Talk account
overview a third-party client reads on connect. All under the account's Support API limit (`api` group).

- `GET /api/v2/users` with `role` / `role[]` (agent, admin, end-user) and cursor pagination
  (`page[size]` ≤ 100, `page[after]`): `{users[], meta{has_more, after_cursor, before_cursor}, links{next,
  prev}}`; a user `{id, url, name, email, role, active, phone, time_zone, created_at, updated_at, ...}`
  (https://developer.zendesk.com/api-reference/ticketing/users/users/#list-users). Agents are the generated
  directory's (id = 380000000000 + agent id, as the calls' `agent_id`), plus one admin.
- `GET /api/v2/groups`, same cursor pagination: one group per queue (id = the calls' `call_group_id`)
  (https://developer.zendesk.com/api-reference/ticketing/groups/groups/#list-groups).
- `GET /api/v2/channels/voice/phone_numbers`: offset pagination (`page`, `per_page` ≤ 100, `next_page`,
  `previous_page`, `count`); a line per queue (id = the calls' `phone_number_id`)
  (https://developer.zendesk.com/api-reference/voice/talk-api/phone_numbers/#list-phone-numbers).
- `GET /api/v2/channels/voice/stats/account_overview`: `{account_overview: {average_call_duration, ...,
  total_calls, total_inbound_calls, ...}}` (https://developer.zendesk.com/api-reference/voice/talk-api/stats/#show-account-overview).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.model import SandboxConnection
from uc_pipeline.sandbox.zendesk.http import API_GROUP, bad_request, handle
from uc_pipeline.sandbox.zendesk.render import AGENT_ID_BASE, GROUP_ID_BASE, PHONE_NUMBER_ID_BASE

ADMIN_ID = AGENT_ID_BASE  # agent ids start at base + 1001
CREATED_AT = "2025-01-01T00:00:00Z"
MAX_PAGE_SIZE = 100


def _url(conn: SandboxConnection, path: str) -> str:
    return f"https://{conn.connection_id}.zendesk.com{path}"


def users(ctx: SandboxContext, conn: SandboxConnection) -> list[dict[str, Any]]:
    directory = ctx.truth.directory(conn)

    def user(uid: int, name: str, email: str, role: str, phone: str | None) -> dict[str, Any]:
        return {"id": uid, "url": _url(conn, f"/api/v2/users/{uid}.json"), "name": name, "email": email,
                "role": role, "active": True, "verified": True, "phone": phone, "time_zone": conn.timezone,
                "created_at": CREATED_AT, "updated_at": CREATED_AT, "suspended": False}

    out = [user(ADMIN_ID, "Account Admin", f"admin@{conn.connection_id}.example.com", "admin", None)]
    out += [user(AGENT_ID_BASE + a.agent_id, a.name, a.email, "agent", a.phone) for a in directory.agents]
    return sorted(out, key=lambda u: u["id"])


def groups(ctx: SandboxContext, conn: SandboxConnection) -> list[dict[str, Any]]:
    return [
        {"id": GROUP_ID_BASE + q.queue_id, "url": _url(conn, f"/api/v2/groups/{GROUP_ID_BASE + q.queue_id}.json"),
         "name": q.name, "description": "", "default": i == 0, "deleted": False, "is_public": True,
         "created_at": CREATED_AT, "updated_at": CREATED_AT}
        for i, q in enumerate(sorted(ctx.truth.directory(conn).queues, key=lambda q: q.queue_id))
    ]


def phone_numbers(ctx: SandboxContext, conn: SandboxConnection) -> list[dict[str, Any]]:
    return [
        {"id": PHONE_NUMBER_ID_BASE + q.queue_id, "number": q.number, "display_number": q.number, "name": q.name,
         "nickname": q.name, "country_code": None, "toll_free": False, "recorded": True, "sms_enabled": False,
         "capabilities": {"sms": False, "mms": False, "voice": True},
         "default_group_id": GROUP_ID_BASE + q.queue_id, "created_at": CREATED_AT}
        for q in sorted(ctx.truth.directory(conn).queues, key=lambda q: q.queue_id)
    ]


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _offset(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return int(text[2:]) if text.startswith("o:") and text[2:].isdigit() else None


def cursor_page(request: Request, key: str, entries: list[dict[str, Any]]) -> Response:
    raw_size = request.query_params.get("page[size]", str(MAX_PAGE_SIZE))
    if not raw_size.isdigit() or not 1 <= int(raw_size) <= MAX_PAGE_SIZE:
        return bad_request(f"page[size] must be an integer from 1 to {MAX_PAGE_SIZE}")
    size = int(raw_size)
    after = request.query_params.get("page[after]")
    start = 0 if after is None else _offset(after)
    if start is None:
        return bad_request("page[after] is not a cursor this endpoint returned")
    chunk = entries[start:start + size]
    has_more = start + size < len(entries)
    after_cursor = _cursor(start + len(chunk)) if chunk else None
    links = {"prev": None, "next": str(request.url.include_query_params(**{"page[after]": after_cursor}))
             if has_more and after_cursor else None}
    meta = {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": _cursor(start) if chunk else None}
    return JSONResponse({key: chunk, "meta": meta, "links": links})


def offset_page(request: Request, key: str, entries: list[dict[str, Any]]) -> Response:
    raw_page = request.query_params.get("page", "1")
    raw_per = request.query_params.get("per_page", str(MAX_PAGE_SIZE))
    if not raw_page.isdigit() or int(raw_page) < 1 or not raw_per.isdigit() or not 1 <= int(raw_per) <= MAX_PAGE_SIZE:
        return bad_request(f"page must be a positive integer and per_page from 1 to {MAX_PAGE_SIZE}")
    page, per = int(raw_page), int(raw_per)
    chunk = entries[(page - 1) * per:page * per]
    more = page * per < len(entries)
    return JSONResponse({
        key: chunk, "count": len(entries),
        "next_page": str(request.url.include_query_params(page=page + 1, per_page=per)) if more else None,
        "previous_page": str(request.url.include_query_params(page=page - 1, per_page=per)) if page > 1 else None,
    })


def directory_routes(ctx: SandboxContext) -> list[BaseRoute]:
    def route(path: str, build: Callable[[Request, SandboxConnection], Response]) -> list[BaseRoute]:
        async def handler(request: Request, conn: SandboxConnection) -> Response:
            return build(request, conn)

        async def endpoint(request: Request) -> Response:
            return await handle(ctx, request, API_GROUP, handler)

        return [Route(path, endpoint, methods=["GET"]), Route(f"{path}.json", endpoint, methods=["GET"])]

    def list_users(request: Request, conn: SandboxConnection) -> Response:
        roles = set(request.query_params.getlist("role[]") + request.query_params.getlist("role"))
        if roles - {"agent", "admin", "end-user"}:
            return bad_request("role must be agent, admin or end-user")
        entries = [u for u in users(ctx, conn) if not roles or u["role"] in roles]
        return cursor_page(request, "users", entries)

    def overview(request: Request, conn: SandboxConnection) -> Response:
        # Figures of today so far; the sandbox reports an idle account (its calls are history).
        return JSONResponse({"account_overview": {
            "average_call_duration": 0, "average_queue_wait_time": 0, "average_wrap_up_time": 0,
            "max_calls_waiting": 0, "max_queue_wait_time": 0, "total_call_duration": 0, "total_calls": 0,
            "total_voicemails": 0, "total_wrap_up_time": 0, "total_inbound_calls": 0, "total_outbound_calls": 0,
            "average_callback_wait_time": 0, "average_hold_time": 0, "total_hold_time": 0,
            "total_callback_calls": 0, "total_calls_abandoned_in_queue": 0, "total_calls_outside_business_hours": 0,
            "total_calls_with_exceeded_queue_wait_time": 0, "total_calls_with_requested_voicemail": 0,
            "total_textback_requests": 0, "total_embeddable_callback_calls": 0, "average_time_to_answer": 0,
        }})

    return [
        *route("/api/v2/users", list_users),
        *route("/api/v2/groups", lambda request, conn: cursor_page(request, "groups", groups(ctx, conn))),
        *route("/api/v2/channels/voice/phone_numbers",
               lambda request, conn: offset_page(request, "phone_numbers", phone_numbers(ctx, conn))),
        *route("/api/v2/channels/voice/stats/account_overview", overview),
    ]
