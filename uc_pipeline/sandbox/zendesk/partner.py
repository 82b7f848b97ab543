"""Talk Partner Edition in the sandbox: `POST /api/v2/calls`, `GET` and `PATCH /api/v2/calls/{id}`.

Call records written by a telephony system are kept in memory per sandbox connection (for the
write-back feature and its tests). Shapes follow seeds/001 and the recorded Zendesk responses in
vendor-samples/zendesk/talk_partner_edition_*: `{"call": {...}}` with every server field present
(null when unset), ISO times normalised to UTC `Z` (an hour-only offset such as `+01` included),
422 `RecordInvalid` naming each bad or missing field, 404 `RecordNotFound`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import threading
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from uc_pipeline.sandbox.contract import SandboxContext
from uc_pipeline.sandbox.model import SandboxConnection
from uc_pipeline.sandbox.zendesk.http import API_GROUP, bad_request, handle, invalid, not_found
from uc_pipeline.sandbox.zendesk.render import iso

MANDATORY = ("app_id", "from_line", "to_line", "call_started_at", "direction")
READ_ONLY = ("id", "account_id", "created_at", "updated_at")
TIME_FIELDS = ("call_started_at", "call_ended_at")

# Every field of the server's call object, in the order of the recorded responses, with its type.
FIELDS: dict[str, type | tuple[type, ...]] = {
    "id": int, "account_id": int, "ticket_id": int, "end_user_id": int, "organization_id": int,
    "brand_id": int, "app_id": int, "agent_id": int, "from_line": str, "from_line_nickname": str,
    "to_line": str, "to_line_nickname": str, "call_started_at": str, "call_ended_at": str, "direction": str,
    "duration": int, "dnis": str, "phone_name": str, "call_type": str, "end_user_location": str,
    "callback": bool, "callback_source": str, "callback_number": str, "wait_time": int, "time_to_answer": int,
    "queue_time": int, "exceeded_queue_time": bool, "queue_name": str, "ivr_time_spent": int, "ivr_hops": int,
    "ivr_action": str, "ivr_routed_to": str, "ivr_destination_group_name": str, "talk_time": int,
    "hold_time": int, "consultation_time": int, "wrap_up_time": int, "completion_status": str,
    "call_abandoned_position": int, "customer_requested_voicemail": bool, "voicemail": bool,
    "outside_business_hours": bool, "overflowed": bool, "overflowed_to": str, "call_disposition": str,
    "recording_url": str, "recording_time": int, "not_recording_time": int,
    "call_recording_consent_action": str, "recording_control_interactions": int, "created_at": str,
    "updated_at": str, "transcript": str, "external_id": str,
}
ENUMS = {
    "direction": ("inbound", "outbound"),
    "callback_source": ("queue", "web widget"),
    "completion_status": (
        "completed", "abandoned_in_queue", "abandoned_in_ivr", "abandoned_in_voicemail", "abandoned_on_hold",
        "failed", "not_answered",
    ),
}
CALL_ID_BASE = 16_444_799_000_000
TICKET_ID_BASE = 90_000_000


def _error(description: str, code: str = "InvalidValue") -> list[dict[str, str]]:
    return [{"description": description, "error": code}]


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def normalise_time(text: str) -> str:
    """An ISO 8601 time (offset `Z`, `+01`, `-04:00`; none means UTC) as UTC `...Z`."""
    if "T" not in text:
        raise ValueError("no time of day")
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return iso(value)


def validate(fields: dict[str, Any], *, create: bool) -> tuple[dict[str, Any], dict[str, list[dict[str, str]]]]:
    """The writable, normalised fields of a request, and the validation errors by field."""
    errors: dict[str, list[dict[str, str]]] = {}
    clean: dict[str, Any] = {}
    if create:
        for name in MANDATORY:
            if fields.get(name) in (None, ""):
                errors[name] = _error(f"{_label(name)} cannot be blank", "BlankValue")
    for name, value in fields.items():
        if name not in FIELDS or name in READ_ONLY or name in errors:
            continue  # unknown and read-only fields are ignored, as Zendesk does
        if name == "app_id" and not create:
            continue  # app_id is set once, at creation
        expected = FIELDS[name]
        if value is not None and (not isinstance(value, expected) or (expected is int and isinstance(value, bool))):
            errors[name] = _error(f"{_label(name)} is invalid")
            continue
        if name in TIME_FIELDS and value is not None:
            try:
                value = normalise_time(value)
            except ValueError:
                errors[name] = _error(f"{_label(name)} is not a valid ISO 8601 date and time")
                continue
        if name in ENUMS and value is not None and value not in ENUMS[name]:
            errors[name] = _error(f"{_label(name)} must be one of {', '.join(ENUMS[name])}")
            continue
        clean[name] = value
    return clean, errors


class PartnerCalls:
    """The Talk Partner Edition call records of every connection of one sandbox."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, dict[int, dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    def all(self, connection_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(c) for c in self._calls.get(connection_id, {}).values()]

    def get(self, connection_id: str, call_id: int) -> dict[str, Any] | None:
        with self._lock:
            call = self._calls.get(connection_id, {}).get(call_id)
            return dict(call) if call is not None else None

    def create(self, conn: SandboxConnection, fields: dict[str, Any], now: datetime, *, ticket: bool) -> dict:
        account = int(hashlib.sha256(conn.connection_id.encode()).hexdigest()[:8], 16) % 1_000_000
        with self._lock:
            n = next(self._ids)
            call: dict[str, Any] = dict.fromkeys(FIELDS)
            call.update(fields)
            call.update(id=CALL_ID_BASE + n, account_id=account, created_at=iso(now), updated_at=iso(now))
            if ticket and call["ticket_id"] is None:
                call["ticket_id"] = TICKET_ID_BASE + n
            self._calls.setdefault(conn.connection_id, {})[call["id"]] = call
            return dict(call)

    def update(self, connection_id: str, call_id: int, fields: dict[str, Any], now: datetime) -> dict | None:
        with self._lock:
            call = self._calls.get(connection_id, {}).get(call_id)
            if call is None:
                return None
            call.update(fields)
            call["updated_at"] = iso(now)
            return dict(call)


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _call_id(request: Request) -> int | None:
    raw = request.path_params["call_id"].removesuffix(".json")
    return int(raw) if raw.isdigit() else None


def partner_routes(ctx: SandboxContext, store: PartnerCalls) -> list[BaseRoute]:
    """The Talk Partner Edition routes, sharing `store`."""

    async def create(request: Request, conn: SandboxConnection) -> Response:
        body = await _json_body(request)
        if body is None:
            return bad_request("The request body must be a JSON object such as {\"call\": {...}}")
        # The create endpoint takes {"call": {...}, "comment": {...}}; a bare call object is accepted too.
        fields = body.get("call", body)
        if not isinstance(fields, dict):
            return bad_request("`call` must be a JSON object")
        clean, errors = validate(fields, create=True)
        if errors:
            return invalid(errors)
        call = store.create(conn, clean, ctx.now(), ticket=isinstance(body.get("comment"), dict))
        return JSONResponse({"call": call}, status_code=201)

    async def show(request: Request, conn: SandboxConnection) -> Response:
        call_id = _call_id(request)
        call = store.get(conn.connection_id, call_id) if call_id is not None else None
        return JSONResponse({"call": call}) if call is not None else not_found()

    async def patch(request: Request, conn: SandboxConnection) -> Response:
        call_id = _call_id(request)
        if call_id is None or store.get(conn.connection_id, call_id) is None:
            return not_found()
        body = await _json_body(request)
        if body is None:
            return bad_request("The request body must be a JSON object such as {\"call\": {...}}")
        fields = body.get("call", body)
        if not isinstance(fields, dict):
            return bad_request("`call` must be a JSON object")
        clean, errors = validate(fields, create=False)
        if errors:
            return invalid(errors)
        call = store.update(conn.connection_id, call_id, clean, ctx.now())
        return JSONResponse({"call": call}) if call is not None else not_found()

    def route(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            return await handle(ctx, request, API_GROUP, handler)
        return endpoint

    return [
        Route("/api/v2/calls", route(create), methods=["POST"]),
        Route("/api/v2/calls.json", route(create), methods=["POST"]),
        Route("/api/v2/calls/{call_id}", route(show), methods=["GET"]),
        Route("/api/v2/calls/{call_id}", route(patch), methods=["PATCH"]),
    ]
