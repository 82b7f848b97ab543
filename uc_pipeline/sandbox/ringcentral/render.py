"""RingCentral rendering: canonical `Call`s -> native company call-log records (Simple and Detailed).

Owns the result/reason vocabulary, the parties, the legs of the Detailed view and the fields
schema drift may drop; native ids and times come from `ids.py`. The field names, their
order and value formats are those of the vendor samples (vendor-samples/ringcentral/
call_log_list_*.json*); the mapping from the canonical model is tabled in
`uc_pipeline/sandbox/ringcentral/emulator.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from uc_pipeline.sandbox.model import Agent, Call, Directory, Queue, SandboxConnection
from uc_pipeline.sandbox.realism import fires, option_rate
from uc_pipeline.sandbox.ringcentral.ids import (
    MEDIA,
    PLATFORM,
    account_id,
    agent_extension_id,
    call_recording_native_id,
    iso_ms,
    main_number,
    queue_extension_id,
    queue_extension_number,
    record_id,
    recording_native_id,
    session_id,
    telephony_session_id,
    visible_at,
)

# Fields schema drift may drop (never ids, times, parties, direction, result or reason).
# Per connection option `sessionless_rate`: share of records without `sessionId`, as in the vendor's
# call-log-sync examples; by default 2 % (README "Sparsity").
SESSIONLESS_OPTION = "sessionless_rate"
SESSIONLESS_DEFAULT_RATE = 0.02
OPTIONAL_FIELDS = ("internalType", "reasonDescription", "billing", "lastModifiedTime", "transport",
                   "telephonySessionId")

REASON_DESCRIPTIONS = {
    "Accepted": "The call was connected to and accepted by this number",
    "Not Answered": "The phone number you dialed was not answered",
    "No Answer": "You did not answer the call",
    "Hang Up": "The caller hung up before the call was answered",
    "Line Busy": "The phone number you dialed was busy",
    "Calls Not Accepted": "Your account was not accepting calls at this time",
    "Number Blocked": "This number is in your Blocked Numbers list",
    "Failed Try Again": "Call failed. Please try again",
}
# (outcome, canonical reason or None) -> (result, reason) of an inbound call.
INBOUND_RESULTS: dict[tuple[str, str | None], tuple[str, str]] = {
    ("ANSWERED", None): ("Accepted", "Accepted"),
    ("MISSED", "out_of_hours"): ("Missed", "Calls Not Accepted"),
    ("MISSED", "no_agent_available"): ("Missed", "Not Answered"),
    ("MISSED", "agents_did_not_answer"): ("Missed", "No Answer"),
    ("ABANDONED", "abandoned_in_queue"): ("Abandoned", "Hang Up"),
    ("ABANDONED", "abandoned_in_ivr"): ("Hang Up", "Hang Up"),
    ("ABANDONED", "short_abandoned"): ("Hang Up", "Hang Up"),
    ("VOICEMAIL", "voicemail"): ("Voicemail", "No Answer"),
    ("BUSY", "busy"): ("Busy", "Line Busy"),
    ("FAILED", "failed"): ("Call Failed", "Failed Try Again"),
    ("BLOCKED", "blocked"): ("Blocked", "Number Blocked"),
}
# outcome -> (result, reason) of an outbound or internal call (the far end's answer).
OUTBOUND_RESULTS: dict[str, tuple[str, str]] = {
    "ANSWERED": ("Call connected", "Accepted"),
    "MISSED": ("No Answer", "Not Answered"),
    "ABANDONED": ("Hang Up", "Hang Up"),
    "VOICEMAIL": ("Voicemail", "Not Answered"),
    "BUSY": ("Busy", "Line Busy"),
    "FAILED": ("Call Failed", "Failed Try Again"),
    "BLOCKED": ("Blocked", "Number Blocked"),
}
TOLL_FREE_PREFIXES = ("+1800", "+1833", "+1844", "+1855", "+1866", "+1877", "+1888")
COST_PER_MINUTE = {"TollFreeNumber": 0.025, "LongDistance": 0.019, "International": 0.11}


def native_direction(call: Call) -> str:
    return "Inbound" if call.direction == "INBOUND" else "Outbound"


def result_reason(call: Call) -> tuple[str, str]:
    if call.direction == "INBOUND":
        key = (call.outcome, call.missed_reason if call.outcome != "ANSWERED" else None)
        if key not in INBOUND_RESULTS:
            raise ValueError(f"call {call.call_id}: no RingCentral result for inbound {key}")
        return INBOUND_RESULTS[key]
    return OUTBOUND_RESULTS[call.outcome]


def _agent_party(agent: Agent) -> dict[str, Any]:
    return {"phoneNumber": agent.phone, "extensionNumber": agent.extension,
            "extensionId": str(agent_extension_id(agent)), "name": agent.name}


def _queue_party(queue: Queue) -> dict[str, Any]:
    return {"phoneNumber": queue.number, "extensionNumber": queue_extension_number(queue),
            "extensionId": str(queue_extension_id(queue)), "name": queue.name}


def _external_party(call: Call) -> dict[str, Any]:
    if call.external_number == "anonymous":
        return {"name": "Anonymous"}
    party: dict[str, Any] = {"phoneNumber": call.external_number}
    if call.contact is not None:
        # Caller-ID (CNAM) style: upper case, at most 15 characters.
        party["name"] = f"{call.contact.last_name} {call.contact.first_name}".upper()[:15]
    return party


def _other_agent(call: Call, agents: Sequence[Agent]) -> Agent | None:
    return next((a for a in agents if a.phone == call.external_number), None)


def _ext_ref(account: str, ext_id: int) -> dict[str, Any]:
    return {"uri": f"{PLATFORM}/restapi/v1.0/account/{account}/extension/{ext_id}", "id": ext_id}


def _internal_type(call: Call, dialled: str | None) -> str:
    if call.direction == "INTERNAL":
        return "Usual"
    if call.direction == "INBOUND":
        return "TollFreeNumber" if dialled and dialled.startswith(TOLL_FREE_PREFIXES) else "Local"
    own = call.agent.phone if call.agent else "+1"
    other = call.external_number
    same_country = (own.startswith("+1") and other.startswith("+1")) or own[:3] == other[:3]
    return "LongDistance" if same_country else "International"


def _billing(internal_type: str, duration_s: int) -> dict[str, Any]:
    minutes = -(-duration_s // 60)
    return {"costIncluded": round(minutes * COST_PER_MINUTE.get(internal_type, 0.0), 3), "costPurchased": 0}


def has_session_id(conn: SandboxConnection, call: Call) -> bool:
    """Whether the call's record carries `sessionId`: not on the share the connection's option
    `sessionless_rate` asks for (records as in the vendor's call-log-sync examples)."""
    rate = option_rate(conn, SESSIONLESS_OPTION, SESSIONLESS_DEFAULT_RATE)
    return not fires("ringcentral_sessionless", conn, call.call_id, rate)


def call_key(conn: SandboxConnection, call: Call) -> str:
    """The key the unified model gives the call's record: its `sessionId`, or its `id` when it has none."""
    return session_id(call) if has_session_id(conn, call) else record_id(conn, call)


def _recording(conn: SandboxConnection, call: Call) -> dict[str, Any] | None:
    if call.recording is None:
        return None
    account = account_id(conn)
    rid = call_recording_native_id(conn, call)
    return {"uri": f"{PLATFORM}/restapi/v1.0/account/{account}/recording/{rid}", "id": rid, "type": "Automatic",
            "contentUri": f"{MEDIA}/restapi/v1.0/account/{account}/recording/{rid}/content"}


def recording_metadata(conn: SandboxConnection, call: Call) -> dict[str, Any]:
    """The body of GET /account/{id}/recording/{recordingId} for a recorded call."""
    ref = _recording(conn, call)
    if ref is None or call.recording is None:
        raise ValueError(f"call {call.call_id} has no recording")
    seconds = int((call.recording.end_at - call.recording.start_at).total_seconds())
    return {"uri": ref["uri"], "id": ref["id"], "contentUri": ref["contentUri"], "contentType": "audio/mpeg",
            "duration": seconds}


LEG_FIELD_ORDER = ("startTime", "duration", "type", "direction", "action", "result", "reason", "to", "from",
                   "recording", "telephonySessionId", "transport", "legType", "extension", "master")


def _leg(**fields: Any) -> dict[str, Any]:
    """A leg with the vendor sample's field order; None values are left out."""
    return {k: fields[k] for k in LEG_FIELD_ORDER if fields.get(k) is not None}


def render(conn: SandboxConnection, call: Call, directory: Directory, *, detailed: bool) -> dict[str, Any]:
    """The native call-log record of `call` in the Simple or Detailed view (before schema drift)."""
    account = account_id(conn)
    rid = record_id(conn, call)
    result, reason = result_reason(call)
    direction = native_direction(call)
    external = _external_party(call)
    agent_party = _agent_party(call.agent) if call.agent else None
    if call.direction == "INBOUND":
        action, transport = "Phone Call", "PSTN"
        from_party = external
        if call.queue is not None:
            to_party = _queue_party(call.queue)
        elif agent_party is not None:
            to_party = dict(agent_party)
        else:
            to_party = {"phoneNumber": main_number(conn), "name": "Main Company Number"}
        dialled = to_party.get("phoneNumber")
    else:
        action, transport = "VoIP Call", "VoIP" if call.direction == "INTERNAL" else "PSTN"
        from_party = dict(agent_party) if agent_party else {}
        other = _other_agent(call, directory.agents) if call.direction == "INTERNAL" else None
        to_party = _agent_party(other) if other is not None else dict(external)
        dialled = None
    internal_type = _internal_type(call, dialled)
    total_ms = int((call.end_at - call.start_at).total_seconds() * 1000)
    start = iso_ms(call.start_at)
    owner_ext = (agent_extension_id(call.agent) if call.agent else
                 queue_extension_id(call.queue) if call.queue else None)
    recording = _recording(conn, call)
    record: dict[str, Any] = {
        "uri": f"{PLATFORM}/restapi/v1.0/account/{account}/call-log/{rid}?view={'Detailed' if detailed else 'Simple'}",
        "id": rid,
        "sessionId": session_id(call) if has_session_id(conn, call) else None,
        "startTime": start,
        "duration": total_ms // 1000,
        "durationMs": total_ms,
        "type": "Voice",
        "internalType": internal_type,
        "direction": direction,
        "action": action,
        "result": result,
        "reason": reason,
        "reasonDescription": REASON_DESCRIPTIONS[reason],
        "to": to_party,
        "from": from_party,
    }
    if record["sessionId"] is None:
        del record["sessionId"]  # absent, not null, as in the vendor's examples
    if recording is not None:
        record["recording"] = recording
    if owner_ext is not None:
        record["extension"] = _ext_ref(account, owner_ext)
    if call.voicemail is not None and owner_ext is not None:
        msg_id = recording_native_id(call, call.voicemail.recording_id)
        record["message"] = {"id": msg_id, "type": "VoiceMail",
                             "uri": f"{PLATFORM}/restapi/v1.0/account/{account}/extension/{owner_ext}"
                                    f"/message-store/{msg_id}"}
    record["telephonySessionId"] = telephony_session_id(conn, call)
    record["transport"] = transport
    record["lastModifiedTime"] = iso_ms(visible_at(conn, call))
    record["billing"] = _billing(internal_type, total_ms // 1000)
    if detailed:
        record["legs"] = _legs(account, call, record, agent_party)
    return record


def _legs(account: str, call: Call, record: dict[str, Any], agent_party: dict[str, Any] | None) -> list[dict]:
    """Master leg (the whole call as the caller saw it), then the agent's leg, then one leg per transfer."""
    tsid = record["telephonySessionId"]
    end = call.end_at
    if call.direction == "INBOUND" and call.queue is not None:
        master_ext = _ext_ref(account, queue_extension_id(call.queue))
    else:
        master_ext = record.get("extension")
    legs = [_leg(startTime=record["startTime"], duration=record["duration"], type="Voice",
                 direction=record["direction"], action=record["action"], result=record["result"],
                 reason=record["reason"], to=record["to"], **{"from": record["from"]},
                 recording=record.get("recording"), telephonySessionId=tsid, transport=record["transport"],
                 legType=_master_leg_type(call), extension=master_ext, master=True)]
    if call.direction == "INBOUND" and call.agent is not None and agent_party is not None and (
            call.queue is not None or call.answered_at is not None):
        # The leg that rang the agent: it starts when the agent answered (answered calls), else
        # with the call; its result is the agent's own.
        begin = call.answered_at or call.start_at
        agent_result = {"ANSWERED": "Accepted", "VOICEMAIL": "Voicemail"}.get(call.outcome, "Missed")
        legs.append(_leg(startTime=iso_ms(begin), duration=int((end - begin).total_seconds()), type="Voice",
                         direction="Inbound", action="Phone Call", result=agent_result, to=agent_party,
                         **{"from": record["from"]}, recording=record.get("recording"), telephonySessionId=tsid,
                         transport="VoIP", legType="Accept",
                         extension=_ext_ref(account, agent_extension_id(call.agent)), master=False))
    if call.transfers and call.answered_at is not None:
        span = (end - call.answered_at) / (len(call.transfers) + 1)
        previous = call.agent
        for n, target in enumerate(call.transfers, start=1):
            begin = call.answered_at + span * n
            legs.append(_leg(startTime=iso_ms(begin), duration=int((end - begin).total_seconds()), type="Voice",
                             direction="Outbound", action="Transfer", result="Accepted", to=_agent_party(target),
                             **{"from": _agent_party(previous) if previous else {}}, telephonySessionId=tsid,
                             transport="VoIP", legType="TransferCall",
                             extension=_ext_ref(account, agent_extension_id(target)), master=False))
            previous = target
    for index, leg in enumerate(legs, start=1):
        leg["legIndex"] = index
    return legs


def _master_leg_type(call: Call) -> str:
    if call.direction == "INBOUND":
        return "Accept"
    if call.direction == "INTERNAL":
        return "ExtensionToExtension"
    return "SipToPstnMetered"
