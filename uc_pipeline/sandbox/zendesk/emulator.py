"""The Zendesk Talk emulator: incremental call and leg exports, and Talk Partner Edition call records.

Served under the `/zendesk` mount: `GET /api/v2/channels/voice/stats/incremental/{calls,legs}[.json]`
with `start_time` (UNIX seconds) as a cursor on `updated_at`: a page holds the records with
`updated_at >= start_time` in `(updated_at, id)` order, up to the connection's `page_size` option
(default 1000), as `{calls|legs, count, end_time, next_page}`; `end_time` is the last record's
`updated_at` and `next_page` is never null (the same URL with `start_time=end_time`, so the boundary
record repeats; once nothing newer exists the page holds just that record). A page is extended past
`page_size` to keep every record of its last second together, and to the next second when all of it
sits on `start_time`, so that the cursor always moves while newer records exist. 10 requests per
minute (429 + `Retry-After`); Basic auth `{email}/token:{api_token}`; a connection whose option `role`
is not `admin` gets Zendesk's 403, as a non-admin user does. Talk Partner Edition lives in
`partner.py`, auth/quota/faults/error bodies in `http.py`, the export data and paging in
`export.py`, rendering in `render.py`.

How a canonical `Call` becomes native records (for the staging models):

| canonical | native call object (incremental calls export) |
|---|---|
| call_id | `id` = 360000000000 + call_id; legs: `call_id` = that id |
| direction | `direction` `inbound` / `outbound` (no INTERNAL calls: the profile excludes them) |
| start_at | `created_at` (ISO `Z`, whole seconds) |
| end_at | not native: `created_at + duration` |
| answered_at | not native: `created_at + time_to_answer` (`time_to_answer` null when not answered) |
| updated_at | `updated_at` (end, or a later comment/tag); the export cursor |
| ANSWERED | `completion_status` `completed`, `voicemail` false, `agent_id` set |
| VOICEMAIL | `completion_status` `completed`, `voicemail` true, `agent_id` null |
| ABANDONED abandoned_in_ivr | `abandoned_in_ivr`, `ivr_hops` 1, `ivr_time_spent` = wait, `wait_time` 0 |
| ABANDONED abandoned_in_queue, short_abandoned | `abandoned_in_queue` (short: `wait_time` < 10) |
| MISSED inbound | `abandoned_in_voicemail`; out_of_hours: `outside_business_hours` true; |
| | agents_did_not_answer: `exceeded_queue_wait_time` true and an `agent_missed` leg; |
| | no_agent_available: neither |
| MISSED outbound | `not_answered` |
| FAILED | `failed` (BUSY and BLOCKED cannot be expressed: the profile excludes them) |
| wait_s | inbound: `wait_time` + coalesce(`ivr_time_spent`, 0); outbound: 0 |
| talk_s, hold_s, wrap_up_s | `talk_time`, `hold_time`, `wrap_up_time` |
| duration_s | `duration` |
| queue | `call_group_id` = 360100000000 + queue_id; `phone_number_id` = 360200000000 + queue_id; |
| | `phone_number` = the queue's number; `default_group` = first queue of the directory; no name |
| agent | `agent_id` = 380000000000 + agent_id; null when unanswered, and on 5 % of answered calls |
| | (`render.AGENT_ONLY_ON_LEGS`): only their legs name the agent |
| contact | `customer_id` = 390000000000 + contact_id, null when unknown; the external number is not exported |
| recording | `recording_time` = its seconds (0 when none); `not_recording_time` = talk - recording |
| voicemail | `voicemail` true |
| comments, tags | on the ticket, not in the export; they only move `updated_at` |
| (ticket) | `ticket_id` = 1000000 + call_id for ANSWERED and VOICEMAIL calls, else null |
| transfers | legs (below); the call object has no transfer count |
| is_private | not expressible |

Legs (incremental legs export), ids 370000000000 + call_id * 16 + index, `updated_at` = the call's end:
index 0 is the `customer` leg (`user_id` = customer_id, `agent_id` 0 as in Zendesk's example, whole
call duration/talk/hold); then one `agent` leg per agent: answered calls have the answering agent and
each transferee in order (the answered span split evenly, `transferred_from`/`transferred_to` = agent
ids, hold on the first, wrap-up on the last, `completion_status` `completed`); an unanswered inbound
call with a rung agent has one `agent_missed` leg lasting the wait; an unanswered outbound call has
the dialling agent's `completed` leg. transfer_count = number of agent legs with `transferred_from`.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.model import ProviderProfile, QuotaSpec, SandboxConnection
from uc_pipeline.sandbox.zendesk.export import STREAMS, drifted, export_page, export_records, page_size
from uc_pipeline.sandbox.zendesk.http import EXPORT_GROUP, PROVIDER_ID, bad_request, error_response, forbidden, handle
from uc_pipeline.sandbox.zendesk.partner import PartnerCalls, partner_routes
from uc_pipeline.sandbox.zendesk.render import epoch, sort_key

EXPORT_PATH = "/api/v2/channels/voice/stats/incremental"


class ZendeskEmulator:
    """Zendesk Talk over the sandbox's canonical history."""

    provider_id = PROVIDER_ID
    profile = ProviderProfile(
        outcomes=frozenset({"ANSWERED", "MISSED", "VOICEMAIL", "ABANDONED", "FAILED"}),
        internal_calls=False,
        direct_agent_access=False,
        hold=True,
    )
    # Incremental exports: 10/min; other endpoints: the Support API plan limit (Team: 200/min).
    default_quotas = {"default": QuotaSpec(10, 60.0), "api": QuotaSpec(200, 60.0)}
    fast_quotas = {"default": QuotaSpec(10, 1.0), "api": QuotaSpec(200, 1.0)}
    credential_fields = ("email", "api_token")
    default_timezone = "Europe/London"  # distinct per emulator: local-time handling gets exercised
    # query parameters whose documented default makes them optional (the request log's page comparison)
    query_defaults: Mapping[str, str] = {}

    def __init__(self) -> None:
        # One store per sandbox, dropped with it, so that sandboxes in one process never share records.
        self._partner: weakref.WeakKeyDictionary[Any, PartnerCalls] = weakref.WeakKeyDictionary()

    def not_found(self, request: Request) -> Response:
        """The provider's own 404 for a path none of its routes serves."""
        return error_response(404, {"error": "InvalidEndpoint", "description": "Not found"})

    def pipeline_options(self, conn: SandboxConnection) -> dict[str, Any]:
        """The pipeline reads Zendesk's page size to tell a caught-up export from a creeping cursor."""
        return {"page_size": conn.options["page_size"]} if "page_size" in conn.options else {}

    def routes(self, ctx: SandboxContext) -> list[BaseRoute]:
        store = PartnerCalls()
        self._partner[ctx] = store

        def export(stream: str) -> Any:
            async def handler(request: Request, conn: SandboxConnection) -> Response:
                if conn.options.get("role", "admin") != "admin":
                    return forbidden()  # incremental exports are for admins only
                raw = request.query_params.get("start_time")
                if raw is None or not raw.strip().lstrip("-").isdigit():
                    return bad_request("start_time is required and must be a UNIX epoch time in seconds")
                start_time = int(raw)
                if start_time < 0:
                    return bad_request("start_time must not be negative")
                raw = export_page(ctx, conn, stream, start_time, page_size(conn))
                end_time = sort_key(raw[-1])[0] if raw else start_time
                page = drifted(ctx, conn, stream, raw)
                next_page = str(request.url.include_query_params(start_time=end_time))
                return JSONResponse({stream: page, "count": len(page), "end_time": end_time, "next_page": next_page})

            async def endpoint(request: Request) -> Response:
                return await handle(ctx, request, EXPORT_GROUP, handler)

            return endpoint

        routes: list[BaseRoute] = []
        for stream in STREAMS:
            routes.append(Route(f"{EXPORT_PATH}/{stream}", export(stream), methods=["GET"]))
            routes.append(Route(f"{EXPORT_PATH}/{stream}.json", export(stream), methods=["GET"]))
        return routes + partner_routes(ctx, store)

    def partner_calls(self, ctx: SandboxContext, conn: SandboxConnection) -> list[dict[str, Any]]:
        """The Talk Partner Edition call records written to `conn` on the sandbox of `ctx`."""
        store = self._partner.get(ctx)
        return store.all(conn.connection_id) if store is not None else []

    def records(
        self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """The records an extraction of `[start, end)` lands: `start <= updated_at < end`, latest version."""
        return drifted(ctx, conn, stream, export_records(ctx, conn, stream, start, end))

    def record_id(self, stream: str, record: dict[str, Any]) -> str:
        return str(record["id"])

    def prepare(self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime,
                end: datetime) -> None:
        """Build the views an extraction of `[start, end)` reads (every day up to now: the export
        follows the cursor to the end)."""
        export_page(ctx, conn, stream, epoch(start), 1)


EMULATOR = ZendeskEmulator()
