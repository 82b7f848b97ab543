"""Zoom Phone rendering: canonical `Call`s -> call history items (`GET /phone/call_history`), their detail
with `call_elements[]` (`GET /phone/call_history/{callHistoryUuid}`) and recordings (`GET /phone/recordings`).

Field names and value formats follow providers.md section 7 [ZM2] and vendor-samples/zoomphone/
call_history_page_assembled.json (times `yyyy-MM-ddTHH:mm:ssZ`, `duration` in seconds, `call_id` a numeric
string, `call_history_uuid` `<yyyymmdd>-<uuid>`). canonical -> native:

- call_id -> `call_history_uuid` (start day + a UUID drawn from seed, connection and call id) and `call_id`
  (str(7018317023722949162 + call_id * 1000)).
- direction -> INBOUND: `direction` inbound, `connect_type` external; OUTBOUND: outbound, external;
  INTERNAL: outbound, internal (both parties `ext_type` user).
- start_at, answered_at, end_at -> `start_time`, `answer_time` (absent when not answered), `end_time`;
  `duration` = end - start in whole seconds.
- outcome, missed_reason -> `call_result` (RESULTS below); the element that ended the call carries it too.
- queue -> inbound through a queue: the list item's callee is the queue (`callee_ext_type` call_queue) and
  the first element (`event` incoming) rings it, with `waiting_time` = wait_s.
- agent -> the element `ring_to_member` (queue calls; `result` answered, or no_answer for the agent rung
  last), or the callee of a direct call; the caller of outbound and internal calls. hold_s -> that
  element's `hold_time`; the recording's id -> its `recording_id`.
- transfers -> one `warm_transfer` element each, the operator the agent before, at equal shares of the talk.
- external_number, contact -> the external party's `did_number` (`number_type` external_pstn), `name` only
  when the contact is known; "anonymous" -> `hide_caller_id` true and no number.
- recording -> `recording_status` recorded and one recording (owner = the agent); voicemail -> the ending
  element's `voicemail_id`.
- comments, tags, wrap_up_s, is_private -> not expressed.

Sparsity (sandbox/README.md "Sparsity"): a value the call does not have is absent, never null (the sample
has no null); ZOOMPHONE_NO_WAITING_TIME of queue elements carry no `waiting_time` (providers.md: "wait =
element `waiting_time` or `answer_time - start_time`", the second exists for when the first is missing).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from uc_pipeline.sandbox.model import Agent, Call, Directory, Queue, SandboxConnection
from uc_pipeline.sandbox.realism import fires

ZOOMPHONE_NO_WAITING_TIME = 0.1
API_HOST = "https://zoom.us"
# Fields schema drift may drop (never ids, times, parties, direction or result).
OPTIONAL_FIELDS = ("international", "call_type", "hide_caller_id", "end_to_end", "site_name", "site_id")
SITE = {"site_id": "8f71O6rWT8KFUGQmJIFAdQ", "site_name": "Main Site"}
MAIN_AR = {"ext_id": "Xxq2pTk1RVCcYa9A4lP3Fw", "ext_number": "800", "name": "Main Auto Receptionist",
           "ext_type": "auto_receptionist"}
INBOUND_RESULTS = {
    ("ANSWERED", None): "answered",
    ("MISSED", "out_of_hours"): "unconnected",
    ("MISSED", "no_agent_available"): "no_answer",
    ("MISSED", "agents_did_not_answer"): "ring_timeout",
    ("ABANDONED", "abandoned_in_queue"): "abandoned",
    ("ABANDONED", "abandoned_in_ivr"): "hang_up",
    ("ABANDONED", "short_abandoned"): "hang_up",
    ("VOICEMAIL", "voicemail"): "voicemail",
    ("BUSY", "busy"): "busy",
    ("FAILED", "failed"): "call_failed",
    ("BLOCKED", "blocked"): "system_blocked",
}
OUTBOUND_RESULTS = {"ANSWERED": "answered", "MISSED": "no_answer", "ABANDONED": "canceled", "VOICEMAIL": "voicemail",
                    "BUSY": "busy", "FAILED": "call_failed", "BLOCKED": "rejected"}


def ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()


def history_uuid(conn: SandboxConnection, call: Call) -> str:
    drawn = uuid.UUID(bytes=_digest("uuid", conn.seed, conn.connection_id, call.call_id)[:16], version=4)
    return f"{call.start_at:%Y%m%d}-{drawn}"


def native_call_id(call: Call) -> str:
    return str(7018317023722949162 + call.call_id * 1000)


def recording_id(conn: SandboxConnection, call: Call) -> str:
    return _digest("rec", conn.seed, conn.connection_id, call.call_id).hex()[:32]


def _ext_id(kind: str, conn: SandboxConnection, number: int) -> str:
    return base64.urlsafe_b64encode(_digest(kind, conn.connection_id, number)[:16]).decode().rstrip("=")


def user_party(conn: SandboxConnection, agent: Agent) -> dict[str, Any]:
    return {"ext_id": _ext_id("user", conn, agent.agent_id), "ext_number": agent.extension, "name": agent.name,
            "email": agent.email, "ext_type": "user", "did_number": agent.phone, "number_type": "internal"}


def queue_party(conn: SandboxConnection, queue: Queue) -> dict[str, Any]:
    return {"ext_id": _ext_id("queue", conn, queue.queue_id), "ext_number": f"8{queue.queue_id:03d}",
            "name": queue.name, "ext_type": "call_queue", "did_number": queue.number, "number_type": "internal"}


def external_party(call: Call) -> dict[str, Any]:
    if call.external_number == "anonymous":
        return {"number_type": "external_pstn"}
    party: dict[str, Any] = {"did_number": call.external_number, "number_type": "external_pstn"}
    if call.contact is not None:
        party["name"] = f"{call.contact.first_name} {call.contact.last_name}"
    country = "US" if call.external_number.startswith("+1") else None
    if country:
        party["country_iso_code"] = country
    return party


def _agent_by_phone(directory: Directory, phone: str) -> Agent | None:
    return next((a for a in directory.agents if a.phone == phone), None)


def parties(conn: SandboxConnection, call: Call, directory: Directory) -> tuple[dict[str, Any], dict[str, Any]]:
    """(caller, callee) of the list item."""
    if call.direction == "INBOUND":
        if call.queue is not None:
            callee = queue_party(conn, call.queue)
        elif call.agent is not None:
            callee = user_party(conn, call.agent)
        else:
            callee = dict(MAIN_AR)
        return external_party(call), callee
    caller = user_party(conn, call.agent) if call.agent is not None else dict(MAIN_AR)
    if call.direction == "INTERNAL":
        other = _agent_by_phone(directory, call.external_number)
        return caller, (user_party(conn, other) if other is not None else {"did_number": call.external_number,
                                                                            "number_type": "internal"})
    return caller, external_party(call)


def result(call: Call) -> str:
    if call.direction == "INBOUND":
        return INBOUND_RESULTS[(call.outcome, call.missed_reason)]
    return OUTBOUND_RESULTS[call.outcome]


def _prefixed(prefix: str, party: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}_{k}": v for k, v in party.items()}


def list_item(conn: SandboxConnection, call: Call, directory: Directory) -> dict[str, Any]:
    """One `call_history[]` item."""
    caller, callee = parties(conn, call, directory)
    item: dict[str, Any] = {
        "call_history_uuid": history_uuid(conn, call),
        "call_id": native_call_id(call),
        "direction": "inbound" if call.direction == "INBOUND" else "outbound",
        "international": False,
        "start_time": ts(call.start_at),
    }
    if call.answered_at is not None:
        item["answer_time"] = ts(call.answered_at)
    item.update({
        "end_time": ts(call.end_at),
        "duration": call.duration_s,
        "connect_type": "internal" if call.direction == "INTERNAL" else "external",
        "call_type": "general",
        "call_result": result(call),
        "hide_caller_id": call.external_number == "anonymous" and call.direction == "INBOUND",
        "end_to_end": False,
        **_prefixed("caller", caller),
        **_prefixed("callee", callee),
        **SITE,
        "recording_status": "recorded" if call.recording is not None else "non_recorded",
    })
    return item


def elements(conn: SandboxConnection, call: Call, directory: Directory) -> list[dict[str, Any]]:
    """The call's `call_elements[]`, in order."""
    caller, callee = parties(conn, call, directory)
    outcome = result(call)
    out: list[dict[str, Any]] = []

    def element(event: str, frm: dict[str, Any], to: dict[str, Any], start: datetime, res: str,
                **extra: Any) -> dict[str, Any]:
        el: dict[str, Any] = {"call_id": native_call_id(call), "event": event, "result": res,
                              "start_time": ts(start), **_prefixed("caller", frm), **_prefixed("callee", to)}
        el.update({k: v for k, v in extra.items() if v is not None})
        el["segment"] = len(out) + 1
        el["node"] = 1
        out.append(el)
        return el

    if call.direction != "INBOUND":
        element("outgoing", caller, callee, call.start_at, outcome,
                answer_time=ts(call.answered_at) if call.answered_at else None,
                end_time=ts(call.end_at), hold_time=call.hold_s or None,
                recording_id=recording_id(conn, call) if call.recording else None)
        return out
    answered = call.outcome == "ANSWERED"
    voicemail_id = _digest("vm", conn.connection_id, call.call_id).hex()[:32] if call.voicemail else None
    wait = call.wait_s
    if call.queue is not None:
        rung = call.agent is not None and (answered or call.missed_reason in ("agents_did_not_answer",
                                                                               "abandoned_in_queue", "voicemail"))
        waiting = None if fires("zoomphone_no_waiting_time", conn, call.call_id, ZOOMPHONE_NO_WAITING_TIME) else wait
        element("incoming", caller, callee, call.start_at, "answered" if answered else outcome,
                end_time=ts(call.answered_at if answered and call.answered_at else call.end_at),
                waiting_time=waiting, voicemail_id=None if rung else voicemail_id)
        if rung and call.agent is not None:
            _agent_elements(conn, call, caller, element, voicemail_id)
        return out
    if call.agent is not None and (answered or call.direct_to_agent):
        _agent_elements(conn, call, caller, element, voicemail_id, event="incoming", waiting_time=wait)
        return out
    element("incoming", caller, callee, call.start_at, outcome, end_time=ts(call.end_at),
            waiting_time=wait, voicemail_id=voicemail_id)
    return out


def _agent_elements(conn: SandboxConnection, call: Call, caller: dict[str, Any], element: Any,
                    voicemail_id: str | None, event: str = "ring_to_member", waiting_time: int | None = None) -> None:
    assert call.agent is not None
    answered = call.outcome == "ANSWERED" and call.answered_at is not None
    hops = [call.agent, *call.transfers] if answered else [call.agent]
    talk_end = call.end_at
    share = (talk_end - call.answered_at) / len(hops) if answered and call.answered_at else timedelta(0)
    for index, agent in enumerate(hops):
        start = call.start_at if index == 0 else (call.answered_at or call.start_at) + share * index
        last = index == len(hops) - 1
        if answered:
            source = caller if index == 0 else user_party(conn, hops[index - 1])
            element(event if index == 0 else "warm_transfer", source, user_party(conn, agent), start, "answered",
                    answer_time=ts(call.answered_at if index == 0 else start),
                    end_time=ts(talk_end if last else start + share),
                    hold_time=(call.hold_s or None) if index == 0 else None,
                    recording_id=recording_id(conn, call) if index == 0 and call.recording else None,
                    waiting_time=waiting_time if index == 0 else None)
        else:
            element(event, caller, user_party(conn, agent), start,
                    "voicemail" if call.outcome == "VOICEMAIL" else "no_answer",
                    end_time=ts(call.end_at), waiting_time=waiting_time, voicemail_id=voicemail_id)


def detail(conn: SandboxConnection, call: Call, directory: Directory) -> dict[str, Any]:
    """`GET /phone/call_history/{callHistoryUuid}`: the item's fields and its `call_elements`."""
    return {**list_item(conn, call, directory), "call_elements": elements(conn, call, directory)}


def recording(conn: SandboxConnection, call: Call, directory: Directory) -> dict[str, Any]:
    """One `recordings[]` item of a recorded call."""
    assert call.recording is not None and call.agent is not None
    caller, callee = parties(conn, call, directory)
    rid = recording_id(conn, call)
    owner = user_party(conn, call.agent)
    return {
        "id": rid,
        "call_id": native_call_id(call),
        "caller_number": caller.get("did_number", ""),
        "caller_number_type": 1 if caller.get("number_type") == "internal" else 2,
        "caller_name": caller.get("name", ""),
        "callee_number": callee.get("did_number", ""),
        "callee_number_type": 1 if callee.get("number_type") == "internal" else 2,
        "callee_name": callee.get("name", ""),
        "direction": "inbound" if call.direction == "INBOUND" else "outbound",
        "duration": int((call.recording.end_at - call.recording.start_at).total_seconds()),
        "download_url": f"{API_HOST}/v2/phone/recording/download/{rid}",
        "date_time": ts(call.recording.start_at),
        "end_time": ts(call.recording.end_at),
        "recording_type": "Automatic",
        "owner": {"type": "user", "id": owner["ext_id"], "name": owner["name"],
                  "extension_number": owner["ext_number"]},
    }
