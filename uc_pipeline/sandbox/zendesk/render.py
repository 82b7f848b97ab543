"""Zendesk Talk rendering: canonical `Call`s -> native incremental-export call and leg objects.

Owns the native ids, the field values and the `(updated_at, id)` order the export pages through.
The field sets and their order are those of the Talk API reference examples
(vendor-samples/zendesk/talk_incremental_call_object.json, talk_incremental_leg_object.json);
the mapping from the canonical model is tabled in `uc_pipeline/sandbox/zendesk/emulator.py`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from uc_pipeline.sandbox.model import Agent, Call, Directory
from uc_pipeline.sandbox.realism import fires

# Share of answered calls whose call object has `agent_id: null` while their legs name the agent
# (README.md, "Sparsity").
AGENT_ONLY_ON_LEGS = 0.05

# Native ids are derived from canonical ids so that they are stable and look like Zendesk's.
CALL_ID_BASE = 360_000_000_000
LEG_ID_BASE = 370_000_000_000
LEGS_PER_CALL = 16  # leg ids = LEG_ID_BASE + call_id * LEGS_PER_CALL + index
AGENT_ID_BASE = 380_000_000_000
END_USER_ID_BASE = 390_000_000_000
GROUP_ID_BASE = 360_100_000_000
PHONE_NUMBER_ID_BASE = 360_200_000_000
TICKET_ID_BASE = 1_000_000

CHARGE_PER_MINUTE = 0.0022  # USD; `call_charge` is a decimal string

# Call `completion_status` values (Zendesk: "What do the statuses of Zendesk Talk mean?").
COMPLETION_STATUSES = (
    "completed", "abandoned_in_queue", "abandoned_in_ivr", "abandoned_in_voicemail", "abandoned_on_hold",
    "failed", "pending_voicemail", "not_answered",
)
# Leg `completion_status` values.
LEG_COMPLETION_STATUSES = ("completed", "agent_missed", "agent_declined", "agent_transfer_declined")

# Fields schema drift may drop (never ids, times, direction or status, which the pipeline keys on).
CALL_OPTIONAL_FIELDS = (
    "call_charge", "call_recording_consent", "call_recording_consent_action", "call_recording_consent_keypress",
    "callback_source", "consultation_time", "ivr_action", "ivr_destination_group_name", "ivr_hops",
    "ivr_routed_to", "ivr_time_spent", "minutes_billed", "overflowed_to", "quality_issues",
    "recording_control_interactions",
)
LEG_OPTIONAL_FIELDS = (
    "available_via", "call_charge", "conference_from", "conference_time", "conference_to", "consultation_from",
    "consultation_time", "consultation_to", "forwarded_to", "minutes_billed", "quality_issues",
)


def iso(value: datetime) -> str:
    """Zendesk's time format: UTC, whole seconds, `Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(value: datetime) -> int:
    """UNIX seconds, truncated as Zendesk's rendered times are."""
    return math.floor(value.timestamp())


def parse_iso(text: str) -> datetime:
    """A rendered `...Z` time back to an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def call_native_id(call: Call) -> int:
    return CALL_ID_BASE + call.call_id


def agent_user_id(agent: Agent | None) -> int | None:
    return AGENT_ID_BASE + agent.agent_id if agent is not None else None


def _minutes(seconds: int) -> int:
    return math.ceil(seconds / 60) if seconds > 0 else 0


def _charge(seconds: int) -> str:
    return f"{_minutes(seconds) * CHARGE_PER_MINUTE:.3f}"


def completion_status(call: Call) -> str:
    """The native call status of a canonical outcome (see the mapping table in emulator.py)."""
    if call.outcome == "ANSWERED":
        return "completed"
    if call.outcome == "VOICEMAIL":
        return "completed"
    if call.outcome == "ABANDONED":
        return "abandoned_in_ivr" if call.missed_reason == "abandoned_in_ivr" else "abandoned_in_queue"
    if call.outcome == "MISSED":
        return "not_answered" if call.direction == "OUTBOUND" else "abandoned_in_voicemail"
    if call.outcome == "FAILED":
        return "failed"
    raise ValueError(
        f"call {call.call_id}: outcome {call.outcome} cannot be expressed by Zendesk Talk; "
        "the generator must only produce the outcomes of the Zendesk emulator's profile"
    )


def call_agent_id(call: Call) -> int | None:
    """The call object's `agent_id`: the agent who answered, except on the share of calls whose agent
    Zendesk names only on the legs (`AGENT_ONLY_ON_LEGS`)."""
    if call.answered_at is None or fires("zendesk_agent_only_on_legs", None, call.call_id, AGENT_ONLY_ON_LEGS):
        return None
    return agent_user_id(call.agent)


def render_call(call: Call, directory: Directory) -> dict[str, Any]:
    """One native call object of the incremental calls export."""
    inbound = call.direction == "INBOUND"
    status = completion_status(call)
    in_ivr = status == "abandoned_in_ivr"
    recording_s = (
        int((call.recording.end_at - call.recording.start_at).total_seconds()) if call.recording else 0
    )
    default_queue = directory.queues[0].queue_id if directory.queues else None
    return {
        "agent_id": call_agent_id(call),
        "call_charge": _charge(call.duration_s),
        "call_group_id": GROUP_ID_BASE + call.queue.queue_id if call.queue else None,
        "call_recording_consent": "always" if call.queue else None,
        "call_recording_consent_action": None,
        "call_recording_consent_keypress": None,
        "callback": False,
        "callback_source": None,
        "completion_status": status,
        "consultation_time": 0,
        "created_at": iso(call.start_at),
        "customer_id": END_USER_ID_BASE + call.contact.contact_id if call.contact else None,
        "customer_requested_voicemail": False,
        "default_group": bool(call.queue and call.queue.queue_id == default_queue),
        "direction": "inbound" if inbound else "outbound",
        "duration": call.duration_s,
        "exceeded_queue_wait_time": call.missed_reason == "agents_did_not_answer",
        "hold_time": call.hold_s,
        "id": call_native_id(call),
        "ivr_action": None,
        "ivr_destination_group_name": None,
        "ivr_hops": 1 if in_ivr else None,
        "ivr_routed_to": None,
        "ivr_time_spent": call.wait_s if in_ivr else None,
        "minutes_billed": _minutes(call.duration_s),
        "not_recording_time": max(call.talk_s - recording_s, 0),
        "outside_business_hours": call.missed_reason == "out_of_hours",
        "overflowed": False,
        "overflowed_to": None,
        "phone_number": call.queue.number if call.queue else (call.agent.phone if call.agent else None),
        "phone_number_id": PHONE_NUMBER_ID_BASE + call.queue.queue_id if call.queue else None,
        "quality_issues": [],
        "recording_control_interactions": 0,
        "recording_time": recording_s,
        "talk_time": call.talk_s,
        "ticket_id": TICKET_ID_BASE + call.call_id if call.outcome in ("ANSWERED", "VOICEMAIL") else None,
        "time_to_answer": int((call.answered_at - call.start_at).total_seconds()) if call.answered_at else None,
        "updated_at": iso(call.updated_at),
        "voicemail": call.outcome == "VOICEMAIL",
        "wait_time": 0 if in_ivr or not inbound else call.wait_s,
        "wrap_up_time": call.wrap_up_s,
    }


def _leg(call: Call, index: int, **fields: Any) -> dict[str, Any]:
    duration = fields.pop("duration")
    leg = {
        "agent_id": 0,
        "available_via": None,
        "call_charge": _charge(duration),
        "call_id": call_native_id(call),
        "completion_status": "completed",
        "conference_from": None,
        "conference_time": None,
        "conference_to": None,
        "consultation_from": None,
        "consultation_time": None,
        "consultation_to": None,
        "created_at": None,
        "duration": duration,
        "forwarded_to": None,
        "hold_time": 0,
        "id": LEG_ID_BASE + call.call_id * LEGS_PER_CALL + index,
        "minutes_billed": _minutes(duration),
        "quality_issues": [],
        "talk_time": 0,
        "transferred_from": None,
        "transferred_to": None,
        "type": "agent",
        "updated_at": iso(call.end_at),
        "user_id": None,
        "wrap_up_time": None,
    }
    leg.update(fields)
    return leg


def _split(total: int, parts: int) -> list[int]:
    """`total` in `parts` integers that add up to it, the remainder going to the first."""
    base = total // parts
    return [base + total - base * parts] + [base] * (parts - 1)


def _agent_legs(call: Call) -> list[dict[str, Any]]:
    if call.agent is None:
        return []
    if call.answered_at is None:
        inbound = call.direction == "INBOUND"
        ring_s = call.wait_s if inbound else call.duration_s
        user = agent_user_id(call.agent)
        return [_leg(
            call, 1, agent_id=user, user_id=user, available_via="browser", created_at=iso(call.start_at),
            duration=ring_s, completion_status="agent_missed" if inbound else "completed",
        )]
    chain: Sequence[Agent] = (call.agent, *call.transfers)
    first_start = call.answered_at if call.direction == "INBOUND" else call.start_at
    span = (call.end_at - first_start) / len(chain)
    talks = _split(call.talk_s, len(chain))
    legs = []
    for i, agent in enumerate(chain):
        start = first_start + span * i
        end = call.end_at if i == len(chain) - 1 else first_start + span * (i + 1)
        user = agent_user_id(agent)
        legs.append(_leg(
            call, i + 1, agent_id=user, user_id=user, available_via="browser", created_at=iso(start),
            duration=max(int((end - start) / timedelta(seconds=1)), 0), talk_time=talks[i],
            hold_time=call.hold_s if i == 0 else 0,
            wrap_up_time=call.wrap_up_s if i == len(chain) - 1 else 0,
            transferred_from=agent_user_id(chain[i - 1]) if i > 0 else None,
            transferred_to=agent_user_id(chain[i + 1]) if i < len(chain) - 1 else None,
        ))
    return legs


def render_legs(call: Call) -> list[dict[str, Any]]:
    """The legs of one call: the customer's, then one per agent who rang, answered or took a transfer."""
    if len(call.transfers) + 2 > LEGS_PER_CALL:
        raise ValueError(f"call {call.call_id} has {len(call.transfers)} transfers; at most {LEGS_PER_CALL - 2}")
    customer = _leg(
        call, 0, type="customer", created_at=iso(call.start_at), duration=call.duration_s,
        talk_time=call.talk_s, hold_time=call.hold_s,
        user_id=END_USER_ID_BASE + call.contact.contact_id if call.contact else None,
    )
    return [customer, *_agent_legs(call)]


def sort_key(record: dict[str, Any]) -> tuple[int, int]:
    """The export's order: `(updated_at, id)`."""
    return epoch(parse_iso(record["updated_at"])), int(record["id"])
