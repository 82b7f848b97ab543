"""Rendering of canonical sandbox calls into Dialpad's native Call object (`GET /api/v2/call` items).

Owns the shapes only: field names and value formats as Dialpad's OpenAPI spec (`protos.call.CallProto`
in `dialpad_api_spec.json`, https://github.com/dialpad/dialpad-python-sdk) and its one example body
(`tests/fixtures/dialpad/call_get_200_spec_example.json`) show them. Which calls are listed, and how,
is `uc_pipeline.sandbox.dialpad.emulator`'s job (it also tables the canonical -> native mapping).

Calibrated on the example body:
- keys in alphabetical order, as the example has them;
- ids and millisecond timestamps (int64 in the spec) as decimal strings, as the example sends them,
  unless the connection's `int64` option says `number` (as the schema types them) or `mixed` (each call
  one way or the other, half and half by a hash of the call); durations (`format: double`) are JSON
  numbers;
- party objects (`contact`, `target`, `entry_point_target`, `proxy_target`) always present, `{}` when
  unused (the example's `proxy_target`), with `email: ""` when there is none (the example's contact);
- a field without a value is left out, not null (the example has no `date_ended`, `duration`,
  `master_call_id`, `recording_details` ...): `date_connected` of a call nobody answered, `date_rang` of
  an outbound call, `recording_details` of a call without recording or voicemail, `labels` without
  tags, `external_number` of an anonymous caller;
- an unknown caller is a `local` contact named after its number (the example's `(415) 555-7777`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from uc_pipeline.sandbox.model import Agent, Call, Contact, Queue, Recording, SandboxConnection
from uc_pipeline.sandbox.realism import fires

API_BASE = "https://dialpad.com"
# Connection option: how int64 ids and timestamps are encoded ("string" as the spec's example, "number"
# as its schema, "mixed": each call one way or the other).
INT64_OPTION = "int64"
INT64_ENCODINGS = ("string", "number", "mixed")
MIXED_NUMBER_SHARE = 0.5
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def millis(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - _EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def encoding(conn: SandboxConnection, call: Call) -> str:
    """"string" or "number": how this call's int64 values are sent."""
    mode = conn.options.get(INT64_OPTION, "string")
    if mode not in INT64_ENCODINGS:
        raise ValueError(f"{conn.connection_id}: option {INT64_OPTION} must be one of {INT64_ENCODINGS}, got {mode!r}")
    if mode == "mixed":
        return "number" if fires("dialpad.int64", conn, call.call_id, MIXED_NUMBER_SHARE) else "string"
    return mode


def native_call_id(call: Call) -> int:
    """The Dialpad call id of a canonical call (unique per sandbox connection)."""
    return call.call_id


def queue_type(queue: Queue) -> str:
    """Dialpad routes to call centers and departments; every third sandbox queue is a department."""
    return "department" if queue.queue_id % 3 == 0 else "callcenter"


def group_id(queue: Queue) -> str:
    """`group_id` as the example writes its office (`Office:124`)."""
    return f"{'Department' if queue_type(queue) == 'department' else 'CallCenter'}:{queue.queue_id}"


def user_target(agent: Agent) -> dict[str, str]:
    return {"email": agent.email, "id": str(agent.agent_id), "name": agent.name, "phone": agent.phone,
            "type": "user"}


def queue_target(queue: Queue) -> dict[str, str]:
    return {"email": "", "id": str(queue.queue_id), "name": queue.name, "phone": queue.number,
            "type": queue_type(queue)}


def display_number(number: str) -> str:
    """A number as Dialpad names an unknown caller: `(415) 555-7777` in North America, else E.164."""
    if number.startswith("+1") and len(number) == 12 and number[2:].isdigit():
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


def local_contact_id(conn: SandboxConnection, number: str) -> str:
    """The id of the `local` contact Dialpad keeps for an unknown number (stable per connection)."""
    digest = hashlib.sha256(f"dialpad-contact|{conn.seed}|{conn.connection_id}|{number}".encode()).hexdigest()
    return str(5_000_000_000 + int(digest[:12], 16) % 4_000_000_000)


def contact_object(conn: SandboxConnection, contact: Contact | None, number: str) -> dict[str, str]:
    if contact is not None:
        return {"email": contact.email or "", "id": str(contact.contact_id),
                "name": f"{contact.first_name} {contact.last_name}", "phone": contact.phone, "type": "shared"}
    if number == "anonymous":
        return {}
    return {"email": "", "id": local_contact_id(conn, number), "name": display_number(number), "phone": number,
            "type": "local"}


def recording_detail(media: Recording, kind: str, as_int: Any) -> dict[str, Any]:
    return {
        "duration": as_int(millis(media.end_at) - millis(media.start_at)),
        "id": str(media.recording_id),
        "recording_type": kind,
        "start_time": as_int(millis(media.start_at)),
        "url": f"{API_BASE}/r/{kind}/{media.recording_id}.mp3",
    }


def state(call: Call) -> str:
    """The call's last event state: a concluded call hung up, was missed, or went to voicemail."""
    if call.outcome == "VOICEMAIL":
        return "voicemail"
    if call.answered_at is None and call.direction == "INBOUND":
        return "missed"
    return "hangup"


def render_call(conn: SandboxConnection, call: Call) -> dict[str, Any]:
    """The Call object of one concluded call."""
    if call.direction == "INTERNAL":
        raise ValueError(f"call {call.call_id} is INTERNAL: the Dialpad emulator lists inbound and outbound calls")
    number = encoding(conn, call) == "number"

    def as_int(value: int) -> int | str:
        return value if number else str(value)

    inbound = call.direction == "INBOUND"
    native = native_call_id(call)
    record: dict[str, Any] = {
        "call_id": as_int(native),
        "contact": contact_object(conn, call.contact, call.external_number),
        "date_ended": as_int(millis(call.end_at)),
        "date_started": as_int(millis(call.start_at)),
        "direction": "inbound" if inbound else "outbound",
        "duration": float(millis(call.end_at) - millis(call.answered_at)) if call.answered_at else 0.0,
        "entry_point_target": {},
        "event_timestamp": as_int(millis(call.end_at)),
        "internal_number": call.agent.phone if call.agent is not None else "",
        "is_transferred": bool(call.transfers),
        "proxy_target": {},
        "state": state(call),
        "target": user_target(call.agent) if call.agent is not None else {},
        "total_duration": float(millis(call.end_at) - millis(call.start_at)),
        "was_recorded": call.recording is not None,
    }
    if call.answered_at is not None:
        record["date_connected"] = as_int(millis(call.answered_at))
    if call.external_number != "anonymous":
        record["external_number"] = call.external_number
    if inbound:
        # Dialpad first detects an inbound call when it starts; an outbound call has no such moment.
        record["date_rang"] = as_int(millis(call.start_at))
        record["entry_point_call_id"] = as_int(native)
        if call.queue is not None:
            record["entry_point_target"] = queue_target(call.queue)
            record["group_id"] = group_id(call.queue)
            record["internal_number"] = call.queue.number
            # Until an agent connects, the call's target is the call center or department ringing.
            if call.answered_at is None:
                record["target"] = queue_target(call.queue)
        elif call.answered_at is None:
            record["target"] = {}
    details = []
    if call.recording is not None:
        details.append(recording_detail(call.recording, "callrecording", as_int))
    if call.voicemail is not None:
        details.append(recording_detail(call.voicemail, "voicemail", as_int))
    if details:
        record["recording_details"] = details
    if call.tags:
        record["labels"] = [t.name for t in call.tags]
    return dict(sorted(record.items()))
