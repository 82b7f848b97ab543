"""The Aircall emulator's directory endpoints: `GET /v1/teams`, `/v1/numbers`, `/v1/contacts` (paged like
`/v1/users`: `page`, `per_page` max 50, `meta` with `total` and `next_page_link`, the list under the
resource's plural) and `GET /v1/company`, which third-party clients call to check their credentials.

Served from the same generated directory as the calls (`uc_pipeline.sandbox.directory`): a number id is the
`number.id` inbound calls carry (queue lines and agents' direct lines), a team per queue, the contacts the
calls' `contact` objects name. Vendor shapes: Team `{id, direct_link, name, created_at, users[]}`, Number
`{id, direct_link, name, digits, country, time_zone, open, availability_status, is_ivr, ...}`, Contact
`{id, direct_link, first_name, last_name, company_name, information, is_shared, created_at, updated_at,
emails[], phone_numbers[]}`, Company `{company: {name, users_count, numbers_count}}`
(https://developer.aircall.io/api-references/#team, #number, #contact, #company).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from uc_pipeline.sandbox.aircall.http import MAX_RECORDS_PER_QUERY, QueryError, _page_meta, _paging
from uc_pipeline.sandbox.aircall.render import (
    agent_number,
    contact_object,
    queue_number,
    team_object,
    user_object,
)
from uc_pipeline.sandbox.model import SandboxConnection

if TYPE_CHECKING:
    from uc_pipeline.sandbox.aircall.http import AircallApi

# Directory entries exist since the account was set up: a fixed creation time keeps records stable.
CREATED_AT = 1_735_689_600  # 2025-01-01T00:00:00Z


def _listing(key: str, entries: Callable[[AircallApi, SandboxConnection], Sequence[dict[str, Any]]]):
    def handler(api: AircallApi, request: Request, conn: SandboxConnection) -> Response:
        page, per_page = _paging(request)
        offset = (page - 1) * per_page
        if offset >= MAX_RECORDS_PER_QUERY:
            raise QueryError(f"Pagination is limited to {MAX_RECORDS_PER_QUERY} records per query.")
        everything = entries(api, conn)
        chunk = list(everything[offset:offset + per_page])
        return JSONResponse({key: chunk, "meta": _page_meta(request, len(everything), page, per_page, len(chunk))})

    return handler


def _teams(api: AircallApi, conn: SandboxConnection) -> list[dict[str, Any]]:
    directory = api.ctx.truth.directory(conn)
    # Every agent belongs to the team of one queue (round robin): teams are never empty.
    members: dict[int, list[dict[str, Any]]] = {q.queue_id: [] for q in directory.queues}
    for i, agent in enumerate(sorted(directory.agents, key=lambda a: a.agent_id)):
        members[directory.queues[i % len(directory.queues)].queue_id].append(user_object(agent))
    return [
        {**team_object(q), "created_at": CREATED_AT, "users": members[q.queue_id]}
        for q in sorted(directory.queues, key=lambda q: q.queue_id)
    ]


def _numbers(api: AircallApi, conn: SandboxConnection) -> list[dict[str, Any]]:
    directory = api.ctx.truth.directory(conn)
    lines = [queue_number(conn, q) for q in directory.queues] + [agent_number(conn, a) for a in directory.agents]
    return sorted(({**line, "created_at": CREATED_AT} for line in lines), key=lambda n: n["id"])


def _contacts(api: AircallApi, conn: SandboxConnection) -> list[dict[str, Any]]:
    contacts = sorted(api.ctx.truth.directory(conn).contacts, key=lambda c: c.contact_id)
    return [{**contact_object(c), "created_at": CREATED_AT, "updated_at": CREATED_AT} for c in contacts]


def _company(api: AircallApi, request: Request, conn: SandboxConnection) -> Response:
    directory = api.ctx.truth.directory(conn)
    return JSONResponse({"company": {
        "name": conn.options.get("company_name") or conn.connection_id,
        "users_count": len(directory.agents),
        "numbers_count": len(directory.queues) + len(directory.agents),
    }})


def directory_routes(api: AircallApi) -> list[BaseRoute]:
    """Routes of the directory endpoints, each behind the emulator's auth, quota and fault injection."""
    handlers = {
        "/v1/teams": _listing("teams", _teams),
        "/v1/numbers": _listing("numbers", _numbers),
        "/v1/contacts": _listing("contacts", _contacts),
        "/v1/company": _company,
    }

    def bind(handler: Callable[[AircallApi, Request, SandboxConnection], Response]):
        async def endpoint(request: Request) -> Response:
            return await api._serve(request, lambda req, conn: handler(api, req, conn))
        return endpoint

    return [Route(path, bind(handler), methods=["GET"]) for path, handler in handlers.items()]
