"""The RingCentral emulator: OAuth (JWT bearer grant, refresh), the company call log
(`GET /restapi/v1.0/account/{accountId|~}/call-log`, Simple and Detailed views, page/perPage
pagination with `navigation` links) and recording metadata, with the Heavy (10/60 s) and Auth
(5/60 s) rate groups, their `X-Rate-Limit-*` headers and the 60 s penalty of a 429.

How a canonical `Call` becomes a native call-log record (one record per call; `id` and `sessionId`
both identify it; rendering in `render.py`, ids in `ids.py`).
canonical -> native (Detailed view):

- call_id -> `id` (15 characters like `VgLcd1KWffJVzUA`, one-to-one per connection);
  `sessionId` = str(13900000004 + call_id * 1000); `telephonySessionId` `s-...0000`;
  `uri` https://platform.ringcentral.com/restapi/v1.0/account/<accountId>/call-log/<id>?view=Detailed
- direction -> INBOUND: `direction` Inbound, `action` "Phone Call", `transport` PSTN.
  OUTBOUND: Outbound, "VoIP Call", PSTN. INTERNAL: Outbound, "VoIP Call", VoIP, `internalType`
  "Usual"; only internal calls have an `extensionNumber` in both `from` and `to`.
- start_at -> `startTime` (ISO 8601, milliseconds, `Z`). end_at -> `startTime` + `durationMs`;
  `duration` = whole seconds (floor).
- answered_at -> inbound: `startTime` of the agent's leg (`legType` "Accept", `master` false,
  `result` "Accepted"); outbound and internal: start_at (the model's wait is 0 there).
- wait_s, talk_s derive from those; hold is never reported (profile `hold=False`); no wrap-up.
- outcome, missed_reason -> `result` / `reason` (+ `reasonDescription`). Inbound:
  ANSWERED Accepted/Accepted; MISSED out_of_hours Missed/"Calls Not Accepted",
  no_agent_available Missed/"Not Answered", agents_did_not_answer Missed/"No Answer";
  ABANDONED abandoned_in_queue Abandoned/"Hang Up", abandoned_in_ivr and short_abandoned
  "Hang Up"/"Hang Up"; VOICEMAIL Voicemail/"No Answer"; BUSY Busy/"Line Busy";
  FAILED "Call Failed"/"Failed Try Again"; BLOCKED Blocked/"Number Blocked".
  Outbound and internal: ANSWERED "Call connected"/Accepted; MISSED "No Answer"/"Not Answered";
  ABANDONED "Hang Up"/"Hang Up"; VOICEMAIL Voicemail/"Not Answered"; BUSY, FAILED, BLOCKED as inbound.
- queue -> inbound through a queue: top-level `to` = {phoneNumber: queue.number, extensionNumber:
  "8" + queue_id in 3 digits, extensionId: str(700000005 + queue_id * 1000), name: queue.name};
  the master leg's `extension.id` is that id.
- agent -> party {phoneNumber, extensionNumber, extensionId: str(600000005 + agent_id * 1000), name}:
  inbound: `to` of the agent's leg (direct-to-agent calls: also the top-level `to`); outbound and
  internal: top-level `from`. Top-level `extension` {uri, id} = the agent (who answered, was rung
  last, or dialled), else the queue. A direct call whose agent the model does not know goes `to` the
  account's main number {phoneNumber, name "Main Company Number"}.
- external_number, contact -> inbound `from` / outbound `to` = {phoneNumber}, plus `name` in
  caller-ID style ("LAST FIRST", upper case, at most 15 characters) when the contact is known;
  "anonymous" -> {name: "Anonymous"}. The call log carries no contact ids.
- transfers -> one leg each: `legType` "TransferCall", `action` "Transfer", `to` = the target
  agent, `extension` = the target; they start at equal shares of the talk time.
- recording -> `recording` {uri, id, type "Automatic", contentUri on media.ringcentral.com};
  id = str(10000 + days since 2000-01-01 of the call) + str(recording_id); metadata at
  `/account/~/recording/{id}`.
- voicemail -> `message` {id (built like a recording id), type "VoiceMail", uri .../message-store/<id>}.
- comments, tags, is_private, wrap_up_s -> not expressed by the call log.
- (none) -> `type` Voice, `internalType`, `billing` {costIncluded, costPurchased},
  `lastModifiedTime` = when the record appeared.

Records appear 15-30 s (fixed per call) after the call ended, newest first. The call log selects
`dateFrom <= startTime < dateTo` (default: the 24 h up to now).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.model import Call, ProviderProfile, QuotaSpec, SandboxConnection
from uc_pipeline.sandbox.ringcentral import ids, render
from uc_pipeline.sandbox.ringcentral.auth import TokenBook, authenticate, token_endpoint
from uc_pipeline.sandbox.ringcentral.http import (
    invalid_parameter,
    json_response,
    not_found,
    platform_error,
    quota_headers,
    refused,
)
from uc_pipeline.sandbox.views import Window, listed_days

STREAM = "call_log"
# Per connection option `detailed_view` (default true): false for an account whose call log answers only
# in the Simple view (no `legs`), whatever view is asked for.
DETAILED_VIEW_OPTION = "detailed_view"
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 1000


class QueryError(ValueError):
    def __init__(self, name: str, value: str) -> None:
        super().__init__(f"parameter {name}={value!r} is invalid")
        self.name = name
        self.value = value


@dataclass(frozen=True)
class CallLogQuery:
    start: datetime
    end: datetime
    detailed: bool
    per_page: int
    page: int
    types: frozenset[str]
    directions: frozenset[str]
    session_id: str | None


def _parse_time(params: QueryParams, name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError:
        raise QueryError(name, raw) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _choices(params: QueryParams, name: str, allowed: tuple[str, ...]) -> frozenset[str]:
    values = params.getlist(name) + params.getlist(f"{name}[]")
    for v in values:
        if v not in allowed:
            raise QueryError(name, v)
    return frozenset(values)


def parse_query(params: QueryParams, now: datetime) -> CallLogQuery:
    """The call-log query of a request; QueryError names the first invalid parameter."""
    end = _parse_time(params, "dateTo") or now
    start = _parse_time(params, "dateFrom") or end - timedelta(hours=24)
    if start > end:
        raise QueryError("dateFrom", params.get("dateFrom", ""))
    view = params.get("view", "Simple")
    if view.lower() not in ("simple", "detailed"):
        raise QueryError("view", view)
    raw_per_page = params.get("perPage", str(DEFAULT_PER_PAGE))
    per_page = MAX_PER_PAGE if raw_per_page.lower() == "max" else _int_in(raw_per_page, "perPage", 1, MAX_PER_PAGE)
    page = _int_in(params.get("page", "1"), "page", 1, 10**9)
    return CallLogQuery(start, end, view.lower() == "detailed", per_page, page,
                        _choices(params, "type", ("Voice", "Fax")),
                        _choices(params, "direction", ("Inbound", "Outbound")), params.get("sessionId"))


def _int_in(raw: str, name: str, low: int, high: int) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(name, raw) from None
    if not low <= value <= high:
        raise QueryError(name, raw)
    return value


def call_log_window(ctx: SandboxContext, conn: SandboxConnection, start: datetime, end: datetime) -> Window:
    """Calls of `[start, end)` the call log shows now, oldest first (the log serves it reversed)."""
    now = ctx.now()
    return ctx.truth.views.window(ids.CALL_LOG, conn, listed_days(conn, start, end, now), start, end, now)


def visible_calls(ctx: SandboxContext, conn: SandboxConnection, start: datetime, end: datetime) -> list[Call]:
    """Calls of `[start, end)` the call log shows now, newest first."""
    return call_log_window(ctx, conn, start, end).all(reverse=True)


def detailed_view(conn: SandboxConnection) -> bool:
    """Whether the account answers `view=Detailed` (option `detailed_view`, default true); one that does not
    answers every request in the Simple view, without `legs`."""
    value = conn.options.get(DETAILED_VIEW_OPTION, True)
    if not isinstance(value, bool):
        raise ValueError(f"{conn.connection_id}: option {DETAILED_VIEW_OPTION} must be true or false")
    return value


def _served(ctx: SandboxContext, conn: SandboxConnection, call: Call, directory: Any, detailed: bool) -> dict:
    return ctx.drift(conn, render.render(conn, call, directory, detailed=detailed), render.OPTIONAL_FIELDS)


def call_log_page(ctx: SandboxContext, conn: SandboxConnection, request: Request, q: CallLogQuery) -> dict:
    """The call-log envelope for one page."""
    window = call_log_window(ctx, conn, q.start, q.end)
    first = (q.page - 1) * q.per_page
    if q.types or q.directions or q.session_id is not None:
        calls = [c for c in window.all(reverse=True) if (not q.types or "Voice" in q.types)
                 and (not q.directions or render.native_direction(c) in q.directions)
                 and (q.session_id is None or (ids.session_id(c) == q.session_id
                                               and render.has_session_id(conn, c)))]
        total, chunk = len(calls), calls[first:first + q.per_page]
    else:
        # The usual query: the page comes straight out of the window, newest first.
        total, chunk = window.total, window.page(first, q.per_page, reverse=True)
    total_pages = -(-total // q.per_page)
    directory = ctx.truth.directory(conn)
    records = [_served(ctx, conn, c, directory, q.detailed and detailed_view(conn)) for c in chunk]
    with_totals = conn.options.get("paging_totals", True)
    paging: dict[str, Any] = {"page": q.page, "perPage": q.per_page}
    if records:
        # pageEnd as in the vendor samples: two records from index 0 give pageEnd 2.
        paging.update(pageStart=first, pageEnd=first + len(records))
    if with_totals:
        paging.update(totalPages=total_pages, totalElements=total)

    def link(page: int) -> dict[str, str]:
        return {"uri": str(request.url.include_query_params(page=page, perPage=q.per_page))}

    navigation = {"firstPage": link(1)}
    if q.page < total_pages:
        navigation["nextPage"] = link(q.page + 1)
    if 1 < q.page <= total_pages + 1:
        navigation["previousPage"] = link(q.page - 1)
    if with_totals and total_pages:
        navigation["lastPage"] = link(total_pages)
    return {"uri": str(request.url), "records": records, "paging": paging, "navigation": navigation}


async def _admitted(ctx: SandboxContext, book: TokenBook, request: Request) -> tuple[SandboxConnection | None,
                                                                                       Response | None, dict]:
    """Authenticate and count a platform request: (conn, None, quota headers) or (conn, answer, {})."""
    conn, failure = authenticate(ctx, book, request)
    if failure is not None or conn is None:
        return conn, failure, {}
    admission = await ctx.admit(request, conn, "default")
    answer = refused(admission)
    if answer is not None:
        return conn, answer, {}
    headers = quota_headers(admission.quota)
    account = request.path_params["account_id"]
    if account not in ("~", ids.account_id(conn)):
        return conn, not_found("accountId", account, headers), {}
    return conn, None, headers


class RingCentralEmulator:
    provider_id = "ringcentral"
    profile = ProviderProfile(
        outcomes=frozenset({"ANSWERED", "MISSED", "VOICEMAIL", "ABANDONED", "BUSY", "FAILED", "BLOCKED"}),
        internal_calls=True, direct_agent_access=True, hold=False,
    )
    # Heavy group (call log) and Auth group (token endpoint): 10 and 5 requests per 60 s, 60 s penalty.
    default_quotas: Mapping[str, QuotaSpec] = {"default": QuotaSpec(10, 60.0, 60.0), "auth": QuotaSpec(5, 60.0, 60.0)}
    fast_quotas: Mapping[str, QuotaSpec] = {"default": QuotaSpec(10, 1.0, 1.0), "auth": QuotaSpec(5, 1.0, 1.0)}
    credential_fields = ("client_id", "client_secret", "jwt")
    default_timezone = "America/New_York"  # distinct per emulator: local-time handling gets exercised
    # query parameters whose documented default makes them optional (the request log's page comparison)
    query_defaults: Mapping[str, str] = {"page": "1", "perPage": "100", "view": "Simple"}

    def not_found(self, request: Request) -> Response:
        """The provider's own 404 for a path none of its routes serves."""
        path = request.url.path.removeprefix(f"/{self.provider_id}")
        return platform_error(404, "CMN-102", "Resource for parameter [uri] is not found",
                              parameterName="uri", parameterValue=path)

    def pipeline_options(self, conn: SandboxConnection) -> dict[str, Any]:
        return {}

    def routes(self, ctx: SandboxContext) -> list[BaseRoute]:
        book = TokenBook()

        async def token(request: Request) -> Response:
            return await token_endpoint(ctx, book, request)

        async def call_log(request: Request) -> Response:
            conn, answer, headers = await _admitted(ctx, book, request)
            if answer is None and conn is not None:
                try:
                    query = parse_query(request.query_params, ctx.now())
                except QueryError as exc:
                    answer = invalid_parameter(exc.name, exc.value, headers)
                else:
                    answer = json_response(call_log_page(ctx, conn, request, query), 200, headers)
            return ctx.deliver(request, conn, answer)

        async def recording(request: Request) -> Response:
            conn, answer, headers = await _admitted(ctx, book, request)
            if answer is None and conn is not None:
                native = request.path_params["recording_id"]
                call = _find_recording(ctx, conn, native)
                answer = (json_response(render.recording_metadata(conn, call), 200, headers)
                          if call is not None else not_found("recordingId", native, headers))
            return ctx.deliver(request, conn, answer)

        return [
            Route("/restapi/oauth/token", token, methods=["POST"]),
            Route("/restapi/v1.0/account/{account_id}/call-log", call_log, methods=["GET"]),
            Route("/restapi/v1.0/account/{account_id}/recording/{recording_id}", recording, methods=["GET"]),
        ]

    def records(
        self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        if stream != STREAM:
            raise ValueError(f"ringcentral has no stream {stream!r}; it has {STREAM!r}")
        directory = ctx.truth.directory(conn)
        return [_served(ctx, conn, c, directory, detailed_view(conn)) for c in visible_calls(ctx, conn, start, end)]

    def record_id(self, stream: str, record: dict[str, Any]) -> str:
        return str(record["id"])

    def prepare(self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime,
                end: datetime) -> None:
        """Build the views an extraction of `[start, end)` reads."""
        call_log_window(ctx, conn, start, end)


def _find_recording(ctx: SandboxContext, conn: SandboxConnection, native: str) -> Call | None:
    found = ids.recording_lookup_day(native)
    if found is None:
        return None
    day, recording_id = found
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    for call in visible_calls(ctx, conn, start, start + timedelta(days=1)):
        if call.recording is not None and call.recording.recording_id == recording_id:
            return call
    return None


EMULATOR = RingCentralEmulator()
