"""The Dialpad API v2 emulator: `GET /api/v2/call` and `GET /api/v2/call/{id}`.

This module holds `EMULATOR` and which calls are served; the HTTP side is `http`, the native object
shape `render`. Behaviour as Dialpad documents it (../shared/providers.md, section 6; the OpenAPI spec
`dialpad_api_spec.json` of https://github.com/dialpad/dialpad-python-sdk;
https://developers.dialpad.com/docs/rate-limits):

- auth: a company admin API key as `Authorization: Bearer <key>` (or `?apikey=<key>`); anything else
  answers 401;
- the list holds concluded calls only (a call still in progress is not served), newest first by start;
  `started_after` / `started_before` are exclusive bounds in UTC milliseconds; `limit` (default 25, at
  most 100: larger values are served as 100); `{"items": [...], "cursor": "..."}` with the cursor left
  out on the last page; a cursor is opaque and bound to its query's bounds (another query's answers 400);
- quotas: 20 requests/second per company (which keeps the call list's 1,200/minute) in group `default`,
  10/minute for `GET /api/v2/call/{id}` in group `call_detail`; past them 429 without `Retry-After` and
  without rate headers (Dialpad publishes none; connection option `rate_headers: true` adds
  `X-RateLimit-Limit/-Remaining/-Reset` to test a client that reads them).

How a canonical `Call` becomes a Dialpad Call object (the staging models read these fields):

| canonical                    | Dialpad native                                                             |
|------------------------------|----------------------------------------------------------------------------|
| call_id                      | `call_id` (int64: string by default, see render's `int64` option)          |
| direction INBOUND/OUTBOUND   | `direction` inbound/outbound; INTERNAL calls are not served (profile)      |
| start_at                     | `date_started` (ms); inbound also `date_rang` (first detection = start)    |
| answered_at                  | `date_connected` (ms), left out when nobody answered                       |
| end_at                       | `date_ended`, `event_timestamp` (ms)                                       |
| answered_at -> end_at        | `duration` (ms, double; 0 when never connected)                            |
| start_at -> end_at           | `total_duration` (ms, double, ring time included)                          |
| ANSWERED                     | `date_connected` set; `state` hangup                                       |
| MISSED (any reason)          | no `date_connected`; `state` missed (Dialpad gives no reason)              |
| VOICEMAIL                    | `recording_details` item of type voicemail; `state` voicemail              |
| ABANDONED/BUSY/FAILED/BLOCKED| not expressible (profile outcomes exclude them)                            |
| hold_s, wrap_up_s            | not in the call list (profile.hold=False, so talk = duration)              |
| queue (inbound)              | `entry_point_target` {type callcenter or department}, `group_id`,          |
|                              | `internal_number` = its number; `target` too until an agent connects       |
| agent (answered / outbound)  | `target` {email, id, name, phone, type user}                               |
| contact                      | `contact` {email, id, name, phone, type shared}; an unknown number is a    |
|                              | `local` contact named after the number; anonymous: `{}`                    |
| external_number              | `external_number` (E.164), left out for an anonymous caller                |
| recording                    | `recording_details` [{id, recording_type callrecording, url, duration ms,  |
|                              | start_time ms}], `was_recorded` true                                       |
| transfers                    | `is_transferred` (a flag: Dialpad lists no transfer targets)               |
| tags                         | `labels` [names]                                                           |
| comments, is_private         | not expressible                                                            |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.dialpad.http import DialpadApi, error_response
from uc_pipeline.sandbox.dialpad.render import render_call
from uc_pipeline.sandbox.model import Call, ProviderProfile, QuotaSpec, SandboxConnection
from uc_pipeline.sandbox.views import ViewSpec, Window, listed_days

STREAM = "calls"
# Fields schema drift may drop: the ones a consumer must already treat as possibly absent.
OPTIONAL_FIELDS: tuple[str, ...] = ("event_timestamp", "group_id", "internal_number", "labels", "total_duration",
                                    "entry_point_call_id", "proxy_target")


class ListedCalls(ViewSpec):
    """What `/api/v2/call` lists of a day: the calls that have ended, internal ones left out, by
    (start, id), keyed by start; served newest first."""

    name = "dialpad.calls"

    def candidates(self, day_calls: Any, conn: SandboxConnection, day: date) -> Sequence[Call]:
        return [c for c in day_calls(day) if c.direction != "INTERNAL"]

    def changes(self, conn: SandboxConnection, call: Call) -> Iterable[datetime]:
        # Comments are not part of a Dialpad call; its labels (tags) are.
        yield call.end_at
        for tag in call.tags:
            yield tag.added_at


LISTED = ListedCalls()


class DialpadEmulator:
    """Implements `Emulator` for Dialpad (stream `calls`)."""

    provider_id = "dialpad"
    profile = ProviderProfile(
        outcomes=frozenset({"ANSWERED", "MISSED", "VOICEMAIL"}),
        internal_calls=False,
        direct_agent_access=False,
        hold=False,
    )
    default_quotas: Mapping[str, QuotaSpec] = {
        "default": QuotaSpec(requests=20, window_s=1.0),
        "call_detail": QuotaSpec(requests=10, window_s=60.0),
    }
    fast_quotas: Mapping[str, QuotaSpec] = {
        "default": QuotaSpec(requests=40, window_s=1.0),
        "call_detail": QuotaSpec(requests=10, window_s=1.0),
    }
    credential_fields: tuple[str, ...] = ("api_key",)
    default_timezone = "America/Chicago"  # distinct per emulator: local-time handling gets exercised
    # The request log compares pages with Dialpad's documented defaults applied.
    query_defaults: Mapping[str, str] = {"limit": "25"}

    # -- ground truth -------------------------------------------------------------------------------

    def listed(self, ctx: SandboxContext, conn: SandboxConnection, start: datetime, end: datetime) -> Window:
        """The calls `/api/v2/call` lists now for starts in `[start, end)`, oldest first (served reversed)."""
        as_of = ctx.now()
        days = listed_days(conn, start, end, as_of)
        return ctx.truth.views.window(LISTED, conn, days, start, end, as_of)

    def render(self, ctx: SandboxContext, conn: SandboxConnection, calls: Sequence[Call]) -> list[dict[str, Any]]:
        return [ctx.drift(conn, render_call(conn, call), OPTIONAL_FIELDS) for call in calls]

    def records(
        self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """The Call objects an extraction of `[start, end)` must land, newest first as served."""
        self._check(stream)
        return self.render(ctx, conn, self.listed(ctx, conn, start, end).all(reverse=True))

    def record_id(self, stream: str, record: dict[str, Any]) -> str:
        return str(int(record["call_id"]))

    def prepare(self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime,
                end: datetime) -> None:
        self._check(stream)
        self.listed(ctx, conn, start, end)

    @staticmethod
    def _check(stream: str) -> None:
        if stream != STREAM:
            raise ValueError(f"dialpad has no stream {stream!r}; streams: {STREAM}")

    # -- HTTP ---------------------------------------------------------------------------------------

    def routes(self, ctx: SandboxContext) -> list[BaseRoute]:
        api = DialpadApi(self, ctx)
        return [
            Route("/api/v2/call", api.list_calls, methods=["GET"]),
            Route("/api/v2/call/{call_id:int}", api.get_call, methods=["GET"]),
        ]

    def pipeline_options(self, conn: SandboxConnection) -> dict[str, Any]:
        """The pipeline needs no option to read a Dialpad account."""
        return {}

    def not_found(self, request: Request) -> Response:
        path = request.url.path.removeprefix(f"/{self.provider_id}")
        return error_response(404, f"No resource at {path}. Check the URL, e.g. /api/v2/call.")


EMULATOR = DialpadEmulator()
