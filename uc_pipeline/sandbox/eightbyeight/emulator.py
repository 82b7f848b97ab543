"""Emulator of the 8x8 Virtual Contact Center (VCC) Recordings API, mounted at `/eightbyeight`, and of the
Cloud Storage Service listing the same recordings as objects that name their agents (storage.py,
storage_http.py: `POST /oauth/v2/token`, `GET /storage/{region}/v3/regions` and `.../objects`).

Owns the HTTP surface documented in the vendor's "Virtual Contact Center Recordings API" page:
`GET /api/recordings/files`, `files/` and `files.xml` (XML, the default) and `files.csv` (CSV),
HTTP Basic with the tenant name as user and the Data Request Token as password, the `d` / `tz` /
`n` / `start-date` / `finish-date` / field-filter query variables (query.py), pages of
50 records, and the documented response codes: 400 bad syntax, 403 wrong credentials, 404 unknown
resource, 500 internal error, 503 server busy. A request without credentials gets 401 with a
Basic challenge (how a browser gets its login prompt, as the vendor page describes).

How a canonical `Call` becomes a native `<file>` record (rendered by render.py; the
staging models read these fields; every value is a string, empty elements are ""):

- startDate <- `recording.start_at` in the tenant time zone (`SandboxConnection.timezone`), ISO 8601
  with the offset, seconds precision (`2007-12-19T19:16:36-08:00`). It is the recording's start
  (the agent leg), not the call's arrival: the queue wait is not in this API. `d`, start-date and
  paging select and order by it.
- duration <- whole seconds of the recording, `recording.end_at - recording.start_at`.
- agentID <- `agent.email` before the `@` (the agent's VCC login, like `bill` in the vendor sample);
  `agent_id` is appended when two agents share a login; "" without an agent. No agent name.
- phoneNumber <- inbound and direct agent access: the caller id; outbound: the dialled number;
  `external_number` without the leading `+` (`14155551234`), or `anonymous`.
- channel <- inbound: the dialled channel, `queue.number` without `+`; outbound:
  `#virtual_outbound#`; direct agent access (`direct_to_agent`, or inbound without a queue):
  `#virtual_daa#`.
- queueID <- inbound: `<tenant>~~queue~~phone~~<queue_id>` (the vendor sample's form); outbound:
  `QUEUE_OUTBOUND`; direct agent access: `QUEUE_DIRECT_AGENT_ACCESS`.
- queueName <- inbound: `queue.name`; otherwise the same constant as queueID.
- transactionID <- `call_id`: the VCC transaction (call) id.
- filename <- `S<UTC yyyymmdd>/R<UTC yyyymmddHHMMSS><recording_id, 5+ digits>.wav`, unique per
  recording: the record id.
- caseID, accountNumber, extVar1, extVar2 <- "0" (not in the canonical model; the vendor sample's value).
- outDialCode, wrapUpCode <- "" (empty elements, as in the vendor sample).

Direction: `channel` tells it (`#virtual_outbound#` = OUTBOUND, anything else INBOUND); INTERNAL
calls have no form here and are not served (the profile asks the generator for none). The
outcome is ANSWERED for every record (only answered calls are recorded); missed reasons,
voicemails, contacts, comments, tags, hold, wrap-up time and transfers are not expressed.
The API's order is recording start, then recording id; records change only when drift is on.

Rate limit: the vendor documents none for this API, and sends no quota headers, so none are
emitted here. The default quota is a conservative 10 requests per 60 s, the figure 8x8 documents
for its other data APIs (end-to-end journey API: 10 hits per 60 s sliding window); a request over
the quota is answered the way this API shows overload, 503 "Server busy", with a standard
`Retry-After`. Injected 429 storms are answered 429 (an edge throttle), with or without
`Retry-After` as the fault says.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.eightbyeight.http import ALL_METHODS, REALM, error_response, retry_after
from uc_pipeline.sandbox.eightbyeight.query import PAGE_SIZE, QueryError, page_of, parse_query
from uc_pipeline.sandbox.eightbyeight.render import (
    CSV_CONTENT_TYPE,
    OPTIONAL_FIELDS,
    XML_CONTENT_TYPE,
    agent_logins,
    as_text,
    render_call,
    render_csv,
    render_xml,
    served,
)
from uc_pipeline.sandbox.eightbyeight.storage import ObjectFilter, created_time, epoch_ms, render_object
from uc_pipeline.sandbox.eightbyeight.storage_http import StorageEndpoints
from uc_pipeline.sandbox.model import Admission, Call, ProviderProfile, QuotaSpec, Recording, SandboxConnection
from uc_pipeline.sandbox.views import ViewSpec, Window, listed_days, midnight

PROVIDER_ID = "eightbyeight"
STREAM = "recordings"
OBJECTS_STREAM = "recording_objects"
# A recording starts after its call reached the system (queue wait); no wait lasts a day.
_CALL_LOOKBACK = timedelta(days=1)


def _rec(call: Call) -> Recording:
    if call.recording is None:
        raise ValueError(f"call {call.call_id} has no recording")
    return call.recording


class RecordingsView(ViewSpec):
    """The recordings that started on a UTC day and whose call has ended, by (recording start,
    recording id), keyed by recording start. A recording starts less than a day after its call (the
    queue wait is at most minutes), so the calls of that day and the day before are the candidates."""

    name = "eightbyeight.recordings"

    def candidates(
        self, day_calls: Callable[[date], Sequence[Call]], conn: SandboxConnection, day: date
    ) -> Sequence[Call]:
        lo, hi = midnight(day), midnight(day + _CALL_LOOKBACK)
        return [
            c for d in (day - _CALL_LOOKBACK, day) for c in day_calls(d) if served(c) and lo <= _rec(c).start_at < hi
        ]

    def sort(self, conn: SandboxConnection, calls: list[Call]) -> None:
        calls.sort(key=lambda c: (_rec(c).start_at, _rec(c).recording_id))

    def key(self, call: Call) -> datetime:
        return _rec(call).start_at


RECORDINGS = RecordingsView()


class EightByEightEmulator:
    """The 8x8 VCC Recordings API (satisfies `uc_pipeline.sandbox.model.Emulator`)."""

    provider_id = PROVIDER_ID
    profile = ProviderProfile(
        outcomes=frozenset({"ANSWERED"}),  # only recorded (so answered) calls exist in this API
        internal_calls=False,
        direct_agent_access=True,
        hold=False,  # only the recording's length is served; hold cannot be told apart
    )
    default_quotas: Mapping[str, QuotaSpec] = {
        "default": QuotaSpec(requests=10, window_s=60.0),
        "storage": QuotaSpec(requests=10, window_s=60.0),
        "storage_auth": QuotaSpec(requests=5, window_s=60.0),
    }
    fast_quotas: Mapping[str, QuotaSpec] = {
        "default": QuotaSpec(requests=10, window_s=1.0),
        "storage": QuotaSpec(requests=10, window_s=1.0),
        "storage_auth": QuotaSpec(requests=5, window_s=1.0),
    }
    # tenant/token: the Recordings API; api_key/api_secret: Cloud Storage (storage_http.py), so that every
    # sandbox connection, the demo's included, gets agent names.
    credential_fields: tuple[str, ...] = ("tenant", "token", "api_key", "api_secret")
    default_timezone = "America/Los_Angeles"  # distinct per emulator: local-time handling gets exercised
    # query parameters whose documented default makes them optional (the request log's page comparison)
    query_defaults: Mapping[str, str] = {"n": "1"}

    # -- ground truth -------------------------------------------------------------------------

    def recorded(
        self, ctx: SandboxContext, conn: SandboxConnection, start: datetime | None, end: datetime | None
    ) -> list[Call]:
        """The calls whose recording is served now and started in `[start, end)`, in API order
        (recording start, then recording id)."""
        return self.recordings(ctx, conn, start, end).all()

    def recordings(
        self, ctx: SandboxContext, conn: SandboxConnection, start: datetime | None, end: datetime | None
    ) -> Window:
        """`recorded` as a window over the per-day views: pages are read out of it without copying."""
        now = ctx.now()
        lo = start if start is not None else datetime.combine(conn.history_start, time(0), tzinfo=UTC)
        hi = end if end is not None else now + timedelta(days=1)
        if hi <= lo:
            return Window(())
        return ctx.truth.views.window(RECORDINGS, conn, listed_days(conn, lo, hi, now), lo, hi, now)

    def render(self, ctx: SandboxContext, conn: SandboxConnection, calls: Sequence[Call]) -> list[dict[str, str]]:
        """The records of `calls` exactly as served: drift applied, every value as its text."""
        tz = ZoneInfo(conn.timezone)
        tenant = conn.credentials.get("tenant", "")
        logins = agent_logins(ctx.truth.directory(conn))
        out = []
        for call in calls:
            drifted = ctx.drift(conn, render_call(call, tenant, tz, logins), OPTIONAL_FIELDS)
            out.append({k: as_text(v) for k, v in drifted.items()})
        return out

    def records(
        self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        if stream == OBJECTS_STREAM:
            return self.objects(ctx, conn, ObjectFilter("callcenterrecording", epoch_ms(start), epoch_ms(end) - 1))
        if stream != STREAM:
            raise ValueError(f"{PROVIDER_ID} has no stream {stream!r}; it has {STREAM!r} and {OBJECTS_STREAM!r}")
        return self.render(ctx, conn, self.recorded(ctx, conn, start, end))

    def objects(self, ctx: SandboxContext, conn: SandboxConnection, flt: ObjectFilter) -> list[dict[str, Any]]:
        """The Cloud Storage objects of the served recordings whose `createdTime` the filter selects, by
        (createdTime, id). An object is created after its recording ended, so a recording started up to a day
        before the filter's start is a candidate."""
        lo = datetime.fromtimestamp(flt.low / 1000, UTC) - _CALL_LOOKBACK if flt.low is not None else None
        hi = datetime.fromtimestamp((flt.high + 1) / 1000, UTC) if flt.high is not None else None
        tenant = conn.credentials.get("tenant", "")
        calls = [c for c in self.recorded(ctx, conn, lo, hi) if flt.matches(epoch_ms(created_time(c)))]
        objects = [render_object(c, conn.connection_id, tenant) for c in calls]
        return sorted(objects, key=lambda o: (o["createdTime"], o["id"]))

    def record_id(self, stream: str, record: dict[str, Any]) -> str:
        # The file name is unique per recording; transactionID is per call. Objects: their UUID.
        return str(record["id"] if stream == OBJECTS_STREAM else record["filename"])

    def prepare(
        self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime, end: datetime
    ) -> None:
        """Build the views an extraction of `[start, end)` reads."""
        self.recordings(ctx, conn, start - _CALL_LOOKBACK if stream == OBJECTS_STREAM else start, end)

    # -- HTTP ---------------------------------------------------------------------------------

    def not_found(self, request: Request) -> Response:
        """The provider's own 404 for a path none of its routes serves."""
        path = request.url.path.removeprefix(f"/{self.provider_id}")
        return error_response(404, f"no resource {path}; use /api/recordings/files[.xml|.csv]")

    def pipeline_options(self, conn: SandboxConnection) -> dict[str, Any]:
        return {}

    def routes(self, ctx: SandboxContext) -> list[BaseRoute]:
        async def xml(request: Request) -> Response:
            return await self._serve(ctx, request, "xml")

        async def csv(request: Request) -> Response:
            return await self._serve(ctx, request, "csv")

        async def unknown(request: Request) -> Response:
            return await self._serve(ctx, request, None)

        storage = StorageEndpoints(self.objects)

        async def token(request: Request) -> Response:
            return await storage.token(ctx, request)

        async def regions(request: Request) -> Response:
            return await storage.regions(ctx, request)

        async def objects(request: Request) -> Response:
            return await storage.objects(ctx, request)

        return [
            Route("/oauth/v2/token", token, methods=ALL_METHODS),
            Route("/storage/{region}/v3/regions", regions, methods=["GET"]),
            Route("/storage/{region}/v3/objects", objects, methods=["GET"]),
            Route("/api/recordings/files", xml, methods=ALL_METHODS),
            Route("/api/recordings/files/", xml, methods=ALL_METHODS),
            Route("/api/recordings/files.xml", xml, methods=ALL_METHODS),
            Route("/api/recordings/files.csv", csv, methods=ALL_METHODS),
            Route("/{path:path}", unknown, methods=ALL_METHODS),
        ]

    def _authenticate(self, ctx: SandboxContext, request: Request) -> tuple[SandboxConnection | None, Response | None]:
        header = request.headers.get("authorization", "")
        if not header:
            return None, error_response(401, "no credentials", {"WWW-Authenticate": f'Basic realm="{REALM}"'})
        scheme, _, encoded = header.partition(" ")
        try:
            user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            sep = ""
        if scheme.lower() != "basic" or not sep:
            return None, error_response(403, "use HTTP Basic authentication: tenant name and token")
        for conn in ctx.connections(PROVIDER_ID):
            creds = conn.credentials
            if creds.get("tenant") == user and creds.get("token") == password:
                if ctx.fault_fires(conn, "wrong_credentials"):
                    return conn, error_response(403, "invalid tenant or token")
                return conn, None
        return None, error_response(403, "invalid tenant or token")

    async def _serve(self, ctx: SandboxContext, request: Request, fmt: str | None) -> Response:
        conn, denied = self._authenticate(ctx, request)
        if denied is not None or conn is None:
            return ctx.deliver(request, conn, denied or error_response(403))
        admission = await ctx.admit(request, conn, "default")
        return ctx.deliver(request, conn, self._answer(ctx, request, conn, admission, fmt))

    def _answer(
        self, ctx: SandboxContext, request: Request, conn: SandboxConnection, admission: Admission, fmt: str | None
    ) -> Response:
        fault = admission.fault
        if fault in ("http_500", "http_502", "http_503"):
            return error_response(int(fault[5:]))
        if fault == "storm_429":
            return error_response(429, headers=retry_after(admission.quota.retry_after or 1.0))
        if fault == "storm_429_no_retry_after":
            return error_response(429)
        if admission.quota.exceeded:
            return error_response(503, headers=retry_after(admission.quota.retry_after))
        if fmt is None:
            return error_response(404, f"no resource {request.url.path}; use /api/recordings/files[.xml|.csv]")
        if request.method not in ("GET", "HEAD"):
            return error_response(400, f"{request.method} is not supported; queries are HTTP GET requests")
        try:
            query = parse_query(request.query_params.multi_items(), conn.timezone, ctx.now())
        except QueryError as exc:
            return error_response(400, str(exc))
        window = self.recordings(ctx, conn, *query.fetch_range())
        if query.filters or query.near_start is not None or query.near_finish is not None:
            calls = [c for c in window.all() if query.matches_time(_rec(c).start_at, _rec(c).end_at)]
            if query.filters:
                page = page_of([r for r in self.render(ctx, conn, calls) if query.matches_fields(r)], query.offset)
            else:
                page = self.render(ctx, conn, page_of(calls, query.offset))
        else:
            # `d` alone: the window is the selection, so only the page is read out and rendered.
            page = self.render(ctx, conn, window.page(query.offset - 1, PAGE_SIZE))
        if fmt == "csv":
            return Response(render_csv(page), media_type=CSV_CONTENT_TYPE)
        return Response(render_xml(page), media_type=XML_CONTENT_TYPE)


EMULATOR = EightByEightEmulator()
