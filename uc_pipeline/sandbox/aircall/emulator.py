"""The Aircall Public API emulator: `GET /v1/calls`, `GET /v1/calls/{id}`, `GET /v1/users`.

This module holds `EMULATOR` and which calls are served; the HTTP side is `http.py`, the native
object shapes `render.py`.

Behaviour as documented: HTTP Basic `api_id:api_token`; `from`/`to` filter on the call's creation
time (`started_at`, UNIX seconds, both bounds inclusive); `order` asc|desc (default asc); `page`
(1-based) and `per_page` (default 20, at most 50: larger values are served as 50); `meta` with
`count`, `total` (every record matching the query), `current_page`, `per_page`, `next_page_link`
(null on the last page) and `previous_page_link`, absolute links built from the request's own URL;
at most 10,000 records per query: a page starting past record 10,000 answers 400; 60 requests per
minute per company with `X-AircallApi-Limit`, `X-AircallApi-Remaining`, `X-AircallApi-Reset` (UNIX
seconds) on every response and 429 past it (no `Retry-After`). Errors are Aircall's JSON
`{"error": ..., "troubleshoot": ...}`.

How a canonical `Call` becomes an Aircall Call object (the staging models read these fields):

| canonical                   | Aircall native                                                                |
|-----------------------------|-------------------------------------------------------------------------------|
| call_id                     | `id` (int); `direct_link` = https://api.aircall.io/v1/calls/<id>; `sid` "CA…" |
| direction INBOUND/OUTBOUND  | `direction` inbound/outbound; INTERNAL calls are not listed (profile)         |
| (call finished)             | `status` = done (calls still in progress are not served)                      |
| start_at / answered_at / end_at | `started_at` / `answered_at` (null unless answered) / `ended_at`, UNIX s  |
| end_at - start_at           | `duration` (s; includes ringing and IVR)                                      |
| ANSWERED                    | `answered_at` set, `missed_call_reason` null                                  |
| MISSED out_of_hours         | `missed_call_reason` out_of_opening_hours                                     |
| MISSED no_agent_available   | `missed_call_reason` no_available_agent                                       |
| MISSED agents_did_not_answer| `missed_call_reason` agents_did_not_answer                                    |
| ABANDONED abandoned_in_ivr  | `missed_call_reason` abandoned_in_ivr                                         |
| ABANDONED abandoned_in_queue| `missed_call_reason` abandoned_in_classic; `abandoned` from `smartflows_since`|
| ABANDONED short_abandoned   | `missed_call_reason` short_abandoned                                          |
| VOICEMAIL                   | `missed_call_reason` agents_did_not_answer + `voicemail` URL non-null         |
| OUTBOUND not answered       | `answered_at` null, `missed_call_reason` null (Aircall gives no reason)       |
| BUSY / FAILED / BLOCKED     | not expressible (profile outcomes exclude them)                               |
| hold_s, wrap_up_s           | not expressible (profile.hold=False; `user.wrap_up_time` is a user setting)   |
| wait_s                      | derived: answered_at - started_at (answered), ended_at - started_at (missed)  |
| queue (inbound)             | `number` {id=queue_id, name, digits} and `teams` [{id=queue_id, name}]        |
| no queue (outbound)         | `number` = the agent's own line (id 10,000,000 + agent_id), `teams` []        |
| agent                       | `user` {id=agent_id, name, email} when it took/made the call; absent when an  |
|                             | inbound call was not answered                                                 |
| contact                     | `contact` {id=contact_id, first_name, last_name, company_name, emails,        |
|                             | phone_numbers}; absent when the number is unknown                             |
| external_number             | `raw_digits`: international with spaces (`+44 330 818 6690`, `+1 415-555-0100`)|
|                             | or `anonymous`; strip spaces and dashes for E.164                             |
| recording                   | `recording` signed S3 URL (X-Amz-Expires=600), `asset` …/calls/<id>/recording |
| voicemail                   | `voicemail` signed S3 URL, `asset` …/calls/<id>/voicemail                     |
| transfers (agents, ordered) | `transferred_to` = last target, `transferred_by` = who handed over to it      |
|                             | (Aircall keeps one transfer: transfer_count is 0 or 1)                        |
| comments                    | `comments` [{id, content, posted_by (User), posted_at (UNIX s)}]              |
| tags                        | `tags` [{id, name, tagged_by (User of the call), tagged_at (UNIX s)}]         |
| is_private                  | not expressible                                                               |
| updated_at                  | not given by Aircall; derive max(ended_at, posted_at, tagged_at) if needed    |
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from uc_pipeline.sandbox.aircall.http import AircallApi, error_response
from uc_pipeline.sandbox.aircall.render import render_call
from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.model import Call, ProviderProfile, QuotaSpec, SandboxConnection
from uc_pipeline.sandbox.views import ViewSpec, Window, listed_days

STREAM = "calls"
# Fields schema drift may drop: the ones a consumer must already treat as possibly absent.
OPTIONAL_FIELDS: tuple[str, ...] = ("sid", "cost", "hangup_cause", "asset", "archived", "teams")


class ListedCalls(ViewSpec):
    """What `/v1/calls` lists of a day: the calls that have ended, internal ones left out, by
    (started_at, id), keyed by started_at."""

    name = "aircall.calls"

    def candidates(self, day_calls: Any, conn: SandboxConnection, day: date) -> Sequence[Call]:
        return [c for c in day_calls(day) if c.direction != "INTERNAL"]


LISTED = ListedCalls()


class AircallEmulator:
    """Implements `Emulator` for Aircall (stream `calls`)."""

    provider_id = "aircall"
    profile = ProviderProfile(
        outcomes=frozenset({"ANSWERED", "MISSED", "VOICEMAIL", "ABANDONED"}),
        internal_calls=False,
        direct_agent_access=False,
        hold=False,
    )
    default_quotas: Mapping[str, QuotaSpec] = {"default": QuotaSpec(requests=60, window_s=60.0)}
    fast_quotas: Mapping[str, QuotaSpec] = {"default": QuotaSpec(requests=60, window_s=1.0)}
    credential_fields: tuple[str, ...] = ("api_id", "api_token")
    default_timezone = "Europe/Paris"  # distinct per emulator: local-time handling gets exercised
    # query parameters whose documented default makes them optional (the request log's page comparison)
    query_defaults: Mapping[str, str] = {"page": "1", "per_page": "20", "order": "asc"}

    # -- ground truth -------------------------------------------------------------------------------

    def listed(self, ctx: SandboxContext, conn: SandboxConnection, start: datetime, end: datetime) -> Window:
        """The calls `/v1/calls` lists now for creation times in `[start, end)`, oldest first; paging
        reads the window without copying it."""
        as_of = ctx.now()
        days = listed_days(conn, start, end, as_of)
        return ctx.truth.views.window(LISTED, conn, days, start, end, as_of)

    def calls_between(self, ctx: SandboxContext, conn: SandboxConnection, start: datetime, end: datetime) -> list[Call]:
        """The calls `/v1/calls` lists for creation times in `[start, end)`, oldest first."""
        return self.listed(ctx, conn, start, end).all()

    def render(self, ctx: SandboxContext, conn: SandboxConnection, calls: Sequence[Call]) -> list[dict[str, Any]]:
        agents = {a.agent_id: a for a in ctx.truth.directory(conn).agents}
        return [ctx.drift(conn, render_call(conn, call, agents), OPTIONAL_FIELDS) for call in calls]

    def records(
        self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        if stream != STREAM:
            raise ValueError(f"aircall has no stream {stream!r}; streams: {STREAM}")
        return self.render(ctx, conn, self.calls_between(ctx, conn, start, end))

    def record_id(self, stream: str, record: dict[str, Any]) -> str:
        return str(record["id"])

    def prepare(self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime,
                end: datetime) -> None:
        """Build the views an extraction of `[start, end)` reads."""
        if stream != STREAM:
            raise ValueError(f"aircall has no stream {stream!r}; streams: {STREAM}")
        self.listed(ctx, conn, start, end)

    # -- HTTP ---------------------------------------------------------------------------------------

    def not_found(self, request: Request) -> Response:
        """The provider's own 404 for a path none of its routes serves."""
        path = request.url.path.removeprefix(f"/{self.provider_id}")
        return error_response(404, "Not Found", f"No resource at {path}. Check the URL, e.g. /v1/calls.")

    def pipeline_options(self, conn: SandboxConnection) -> dict[str, Any]:
        return {}

    def routes(self, ctx: SandboxContext) -> list[BaseRoute]:
        api = AircallApi(self, ctx)
        return [
            Route("/v1/calls", api.list_calls, methods=["GET"]),
            Route("/v1/calls/{call_id:int}", api.get_call, methods=["GET"]),
            Route("/v1/users", api.list_users, methods=["GET"]),
        ]


EMULATOR = AircallEmulator()
