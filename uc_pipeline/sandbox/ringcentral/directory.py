"""The RingCentral emulator's account endpoints beyond the company call log: the extension list, one
extension's call log and the company business hours, the calls a third-party client makes on connect.

- `GET /restapi/v1.0/account/{accountId}/extension` ("List Extensions", usage plan group Medium, 40
  requests / 60 s): `page`, `perPage` (default 100, max 1000), the envelope `{uri, records, paging,
  navigation}` as the call log's. Records `{uri, id, extensionNumber, name, type, status, contact{firstName,
  lastName, email, businessPhone}}`: the account owner (the JWT's user), every agent (`User`, the same
  extension ids the call log's legs carry), every call queue (`Department`, RingCentral's legacy name for a
  Call Queue) and one `IvrMenu` (https://developers.ringcentral.com/api-reference/Extensions/listExtensions).
- `GET /restapi/v1.0/account/{accountId}/extension/{extensionId}/call-log`: the call log of one extension
  (`~` = the token's owner): the calls its agent or queue took, same parameters and envelope (Heavy group).
- `GET /restapi/v1.0/account/{accountId}/business-hours`: `{uri, schedule: {weeklyRanges: {monday: [{from,
  to}], ...}}}` (https://developers.ringcentral.com/api-reference/Business-Hours/readCompanyBusinessHours;
  Light group, counted here in the Medium one).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.model import Call, SandboxConnection
from uc_pipeline.sandbox.ringcentral import ids
from uc_pipeline.sandbox.ringcentral.http import invalid_parameter, json_response, not_found
from uc_pipeline.sandbox.ringcentral.ids import PLATFORM

MEDIUM_GROUP = "medium"
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000
IVR_EXT_ID = 580_000_005
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")


def _extension(account: str, ext_id: int, number: str, name: str, kind: str,
               contact: dict[str, Any]) -> dict[str, Any]:
    return {
        "uri": f"{PLATFORM}/restapi/v1.0/account/{account}/extension/{ext_id}",
        "id": ext_id,
        "extensionNumber": number,
        "contact": contact,
        "name": name,
        "type": kind,
        "status": "Enabled",
        "permissions": {"admin": {"enabled": ext_id == ids.OWNER_EXT_ID},
                        "internationalCalling": {"enabled": kind == "User"}},
        "profileImage": {"uri": f"{PLATFORM}/restapi/v1.0/account/{account}/extension/{ext_id}/profile-image"},
    }


def extensions(ctx: SandboxContext, conn: SandboxConnection) -> list[dict[str, Any]]:
    """Every extension of the account, by id."""
    account = ids.account_id(conn)
    directory = ctx.truth.directory(conn)
    owner = {"firstName": "Account", "lastName": "Owner", "email": f"owner@{conn.connection_id}.example.com"}
    records = [_extension(account, ids.OWNER_EXT_ID, "100", "Account Owner", "User", owner)]
    for agent in directory.agents:
        first, _, last = agent.name.partition(" ")
        records.append(_extension(account, ids.agent_extension_id(agent), agent.extension, agent.name, "User",
                                  {"firstName": first, "lastName": last, "email": agent.email,
                                   "businessPhone": agent.phone}))
    for queue in directory.queues:
        records.append(_extension(account, ids.queue_extension_id(queue), ids.queue_extension_number(queue),
                                  queue.name, "Department", {"firstName": queue.name}))
    records.append(_extension(account, IVR_EXT_ID, "9000", "Main IVR", "IvrMenu", {"firstName": "Main IVR"}))
    return sorted(records, key=lambda r: r["id"])


def _page_params(request: Request) -> tuple[int, int]:
    page_raw = request.query_params.get("page", "1")
    per_raw = request.query_params.get("perPage", str(DEFAULT_PER_PAGE))
    if not page_raw.isdigit() or int(page_raw) < 1:
        raise ValueError("page")
    if not per_raw.isdigit() or not 1 <= int(per_raw) <= MAX_PER_PAGE:
        raise ValueError("perPage")
    return int(page_raw), int(per_raw)


def extension_page(ctx: SandboxContext, conn: SandboxConnection, request: Request) -> dict[str, Any]:
    """One page of the extension list (raises ValueError naming a bad parameter)."""
    page, per_page = _page_params(request)
    everything = extensions(ctx, conn)
    first = (page - 1) * per_page
    chunk = everything[first:first + per_page]
    total_pages = -(-len(everything) // per_page)

    def link(n: int) -> dict[str, str]:
        return {"uri": str(request.url.include_query_params(page=n, perPage=per_page))}

    paging: dict[str, Any] = {"page": page, "totalPages": total_pages, "perPage": per_page,
                              "totalElements": len(everything)}
    if chunk:
        paging.update(pageStart=first, pageEnd=first + len(chunk) - 1)
    navigation = {"firstPage": link(1), "lastPage": link(max(total_pages, 1))}
    if page < total_pages:
        navigation["nextPage"] = link(page + 1)
    if 1 < page <= total_pages + 1:
        navigation["previousPage"] = link(page - 1)
    return {"uri": str(request.url), "records": chunk, "paging": paging, "navigation": navigation}


def takes_extension(call: Call, extension_id: int) -> bool:
    """Whether an extension's own call log lists the call: its agent's or its queue's extension."""
    return (call.agent is not None and ids.agent_extension_id(call.agent) == extension_id) or (
        call.queue is not None and ids.queue_extension_id(call.queue) == extension_id)


def business_hours(request: Request, conn: SandboxConnection) -> dict[str, Any]:
    ranges = [{"from": "09:00", "to": "18:00"}]
    return {"uri": str(request.url), "schedule": {"weeklyRanges": {day: ranges for day in WEEKDAYS}}}


def directory_routes(
    ctx: SandboxContext,
    admitted: Callable[[Request, str], Awaitable[tuple[SandboxConnection | None, Response | None, dict]]],
    call_log_answer: Callable[[SandboxConnection, Request, dict, Callable[[Call], bool]], Response],
) -> list[BaseRoute]:
    """The routes above; `admitted(request, group)` authenticates and counts a request in its rate group,
    `call_log_answer(conn, request, headers, keep)` answers a call-log query over the calls `keep` keeps."""

    async def extension_list(request: Request) -> Response:
        conn, answer, headers = await admitted(request, MEDIUM_GROUP)
        if answer is None and conn is not None:
            try:
                answer = json_response(extension_page(ctx, conn, request), 200, headers)
            except ValueError as exc:
                answer = invalid_parameter(str(exc), request.query_params.get(str(exc), ""), headers)
        return ctx.deliver(request, conn, answer)

    async def extension_call_log(request: Request) -> Response:
        conn, answer, headers = await admitted(request, "default")
        if answer is None and conn is not None:
            raw = request.path_params["extension_id"]
            ext = ids.OWNER_EXT_ID if raw == "~" else int(raw) if raw.isdigit() else None
            if ext is None or ext not in {e["id"] for e in extensions(ctx, conn)}:
                answer = not_found("extensionId", raw, headers)
            else:
                answer = call_log_answer(conn, request, headers, lambda call: takes_extension(call, ext))
        return ctx.deliver(request, conn, answer)

    async def hours(request: Request) -> Response:
        conn, answer, headers = await admitted(request, MEDIUM_GROUP)
        if answer is None and conn is not None:
            answer = json_response(business_hours(request, conn), 200, headers)
        return ctx.deliver(request, conn, answer)

    return [
        Route("/restapi/v1.0/account/{account_id}/extension", extension_list, methods=["GET"]),
        Route("/restapi/v1.0/account/{account_id}/extension/{extension_id}/call-log", extension_call_log,
              methods=["GET"]),
        Route("/restapi/v1.0/account/{account_id}/business-hours", hours, methods=["GET"]),
    ]
