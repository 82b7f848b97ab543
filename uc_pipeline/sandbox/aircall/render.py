"""Rendering of canonical sandbox data into Aircall's native JSON objects (Call, User, Number, Contact).

Owns the shapes only: the field names, order and value formats of Aircall's REST Call object as the
vendor samples show them (webhook `data` is the REST Call), plus the REST-only `sid`. The API
behaviour (auth, paging, quotas) lives in `uc_pipeline.sandbox.aircall.emulator`, which also documents the
canonical -> native mapping.

Nested objects that do not exist for a call (`user` of an unanswered call, `contact` of an unknown
number, `transferred_to`/`transferred_by` without a transfer) are left out of the object, as in the
captured payloads, rather than rendered as null.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from uc_pipeline.sandbox.model import Agent, Call, Contact, Queue, Recording, SandboxConnection
from uc_pipeline.sandbox.realism import option_date

# Calls starting on or after this day carry the Smartflows spelling of `missed_call_reason` (`abandoned`);
# earlier ones the classic routing's (`abandoned_in_classic`). Connection option `smartflows_since`.
SMARTFLOWS_OPTION = "smartflows_since"
SMARTFLOWS_SINCE = date(2026, 6, 1)
API_BASE = "https://api.aircall.io"
ASSETS_BASE = "https://assets.aircall.io"
MEDIA_BASE = "https://media-web.aircall.io"
S3_BASE = "https://production-pdx-555773567328-web.s3.us-west-2.amazonaws.com"
SIGNED_URL_EXPIRES_S = 600
# Numbers of agents' own lines get ids in their own range so they never collide with queue lines.
AGENT_LINE_ID_BASE = 10_000_000

# Canonical missed reason -> Aircall `missed_call_reason` (inbound calls only).
MISSED_CALL_REASON: dict[str, str] = {
    "out_of_hours": "out_of_opening_hours",
    "no_agent_available": "no_available_agent",
    "agents_did_not_answer": "agents_did_not_answer",
    "abandoned_in_ivr": "abandoned_in_ivr",
    "abandoned_in_queue": "abandoned_in_classic",
    "short_abandoned": "short_abandoned",
    # Aircall has no voicemail reason: a voicemail is a call nobody answered, with a voicemail URL.
    "voicemail": "agents_did_not_answer",
}
# The Smartflows routing's spelling of the classic routing's `abandoned_in_classic` (Aircall's current
# Smartflows article; ../shared/providers.md, Aircall `missed_call_reason`).
SMARTFLOWS_SPELLING = {"abandoned_in_classic": "abandoned"}


def missed_call_reason(conn: SandboxConnection, call: Call) -> str | None:
    """`missed_call_reason` of an unanswered inbound call, in the spelling of the routing the account
    used that day: Smartflows from the connection's `smartflows_since` (SMARTFLOWS_SINCE)."""
    if call.direction != "INBOUND" or call.answered_at is not None:
        return None
    reason = MISSED_CALL_REASON.get(call.missed_reason or "")
    if reason in SMARTFLOWS_SPELLING and call.start_at.date() >= option_date(
            conn, SMARTFLOWS_OPTION, SMARTFLOWS_SINCE):
        return SMARTFLOWS_SPELLING[reason]
    return reason

# Calling code -> ISO country; longest code wins. Enough for the numbers the sandbox generates;
# an unknown code keeps a neutral grouping and no country.
_CALLING_CODES: dict[str, str] = {
    "1": "US", "7": "RU", "31": "NL", "32": "BE", "33": "FR", "34": "ES", "39": "IT", "41": "CH",
    "43": "AT", "44": "GB", "45": "DK", "46": "SE", "47": "NO", "48": "PL", "49": "DE", "52": "MX", "55": "BR",
    "61": "AU", "81": "JP", "86": "CN", "91": "IN",
    "351": "PT", "353": "IE", "358": "FI",
}


def _digest(*parts: object, size: int = 32) -> str:
    text = "|".join(str(p) for p in parts)
    out = hashlib.sha256(text.encode()).hexdigest()
    while len(out) < size:
        out += hashlib.sha256(out.encode()).hexdigest()
    return out[:size]


def unix(ts: datetime | None) -> int | None:
    """UNIX seconds (Aircall's time format), truncated like the API's integer timestamps."""
    return None if ts is None else int(ts.timestamp())


def split_e164(number: str) -> tuple[str, str] | None:
    """(calling code, national digits) of an E.164 number, or None when it is not one."""
    if not number.startswith("+") or not number[1:].isdigit():
        return None
    digits = number[1:]
    for size in (3, 2, 1):
        if digits[:size] in _CALLING_CODES:
            return digits[:size], digits[size:]
    return digits[:2], digits[2:]


def country_of(number: str) -> str | None:
    parts = split_e164(number)
    return _CALLING_CODES.get(parts[0]) if parts else None


def format_number(number: str) -> str:
    """An E.164 number in Aircall's display form: international, grouped with spaces
    (`+44 330 818 6690`, `+43 720 880079`; North America `+1 415-555-0100`). `anonymous` and
    anything that is not E.164 pass through unchanged."""
    parts = split_e164(number)
    if parts is None:
        return number
    code, national = parts
    if code == "1" and len(national) == 10:
        return f"+1 {national[:3]}-{national[3:6]}-{national[6:]}"
    if code == "33" and len(national) == 9:
        return f"+33 {national[0]} " + " ".join(national[i:i + 2] for i in range(1, 9, 2))
    if len(national) <= 6:
        return f"+{code} {national}"
    if len(national) <= 9:
        return f"+{code} {national[:3]} {national[3:]}"
    return f"+{code} {national[:3]} {national[3:6]} {national[6:]}"


def company_id(conn: SandboxConnection) -> int:
    return 100_000 + int(_digest("company", conn.connection_id, conn.seed, size=8), 16) % 900_000


def call_sid(conn: SandboxConnection, call_id: int) -> str:
    return "CA" + _digest("sid", conn.connection_id, conn.seed, call_id)


def user_object(agent: Agent) -> dict[str, Any]:
    """Aircall User as nested in a Call (`user`, `transferred_*`, `posted_by`, `tagged_by`)."""
    return {
        "id": agent.agent_id,
        "direct_link": f"{API_BASE}/v1/users/{agent.agent_id}",
        "name": agent.name,
        "email": agent.email,
        "available": True,
        "availability_status": "available",
        "language": "en-US",
        # A per-user setting in Aircall, not the call's own after-call work.
        "wrap_up_time": (agent.agent_id % 4) * 30,
    }


@lru_cache(maxsize=4096)
def _message_tracks(connection_id: str, line_id: int) -> tuple[tuple[str, str], ...]:
    kinds = ("welcome", "waiting", "ivr", "voicemail", "closed", "callback_later")
    voice = f"{MEDIA_BASE}/tracks/tts/languages/en/voices/Joanna"
    return tuple((kind, f"{voice}/{_digest(kind, connection_id, line_id, size=40)}.mp3") for kind in kinds)


def _messages(conn: SandboxConnection, line_id: int) -> dict[str, str]:
    return dict(_message_tracks(conn.connection_id, line_id))


def number_object(conn: SandboxConnection, line_id: int, name: str, digits: str) -> dict[str, Any]:
    """Aircall Number (the line a call came in on or went out from)."""
    return {
        "id": line_id,
        "direct_link": f"{API_BASE}/v1/numbers/{line_id}",
        "name": name,
        "digits": format_number(digits),
        "country": country_of(digits),
        "time_zone": conn.timezone,
        "open": True,
        "availability_status": "open",
        "is_ivr": False,
        "live_recording_activated": False,
        "messages": _messages(conn, line_id),
    }


def queue_number(conn: SandboxConnection, queue: Queue) -> dict[str, Any]:
    return number_object(conn, queue.queue_id, queue.name, queue.number)


def agent_number(conn: SandboxConnection, agent: Agent) -> dict[str, Any]:
    return number_object(conn, AGENT_LINE_ID_BASE + agent.agent_id, agent.name, agent.phone)


def contact_object(contact: Contact) -> dict[str, Any]:
    return {
        "id": contact.contact_id,
        "direct_link": f"{API_BASE}/v1/contacts/{contact.contact_id}",
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "company_name": contact.company,
        "information": None,
        "is_shared": True,
        "phone_numbers": [{"id": contact.contact_id * 10 + 1, "label": "Work", "value": format_number(contact.phone)}],
        "emails": (
            [{"id": contact.contact_id * 10 + 2, "label": "Work", "value": contact.email}] if contact.email else []
        ),
    }


def team_object(queue: Queue) -> dict[str, Any]:
    return {"id": queue.queue_id, "direct_link": f"{API_BASE}/v1/teams/{queue.queue_id}", "name": queue.name}


def signed_media_url(conn: SandboxConnection, native_id: int, media: Recording, kind: str) -> str:
    """A short-lived S3 URL like the API's `recording` / `voicemail` values.

    The live API signs at every read; here the signature date is when the media became available, so
    that every read of a call serves the same bytes and extractions can be compared verbatim.
    """
    signed_at = media.end_at
    day = signed_at.strftime("%Y%m%d")
    key = f"companies/{company_id(conn)}/recordings/call-{native_id}-{_digest(kind, native_id, conn.seed)}-{kind}.mp3"
    credential = quote(f"ASIA{_digest('key', conn.connection_id, size=16).upper()}/{day}/us-west-2/s3/aws4_request",
                       safe="")
    token = quote(_digest("token", conn.connection_id, native_id, size=64), safe="")
    signature = _digest("sig", conn.connection_id, native_id, kind, signed_at.isoformat(), size=64)
    return (
        f"{S3_BASE}/{key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={credential}"
        f"&X-Amz-Date={signed_at.strftime('%Y%m%dT%H%M%SZ')}&X-Amz-Expires={SIGNED_URL_EXPIRES_S}"
        f"&X-Amz-SignedHeaders=host&X-Amz-Security-Token={token}&X-Amz-Signature={signature}"
    )


def native_call_id(call: Call) -> int:
    """The Aircall call id of a canonical call (ids are unique per sandbox connection)."""
    return call.call_id


def render_call(conn: SandboxConnection, call: Call, agents: dict[int, Agent]) -> dict[str, Any]:
    """The REST Call object of one finished call (`status` is `done`: unfinished calls are not served)."""
    if call.direction == "INTERNAL":
        raise ValueError(f"call {call.call_id} is INTERNAL: Aircall's /v1/calls does not list internal calls")
    native_id = native_call_id(call)
    inbound = call.direction == "INBOUND"
    answered = call.answered_at is not None
    reason = missed_call_reason(conn, call)
    started, ended = unix(call.start_at), unix(call.end_at)
    voicemail = signed_media_url(conn, native_id, call.voicemail, "voicemail") if call.voicemail else None
    recording = signed_media_url(conn, native_id, call.recording, "recording") if call.recording else None
    asset = None
    if recording or voicemail:
        asset = f"{ASSETS_BASE}/calls/{native_id}/{'recording' if recording else 'voicemail'}"
    record: dict[str, Any] = {
        "id": native_id,
        "sid": call_sid(conn, call.call_id),
        "direct_link": f"{API_BASE}/v1/calls/{native_id}",
        "direction": "inbound" if inbound else "outbound",
        "status": "done",
        "missed_call_reason": reason,
        "started_at": started,
        "answered_at": unix(call.answered_at),
        "ended_at": ended,
        "duration": ended - started,
        "cost": "0.0",
        "hangup_cause": None,
        "voicemail": voicemail,
        "recording": recording,
        "asset": asset,
        "raw_digits": format_number(call.external_number),
    }
    # Aircall's `user` is who took or made the call; an unanswered inbound call has none.
    if call.agent is not None and (answered or not inbound):
        record["user"] = user_object(call.agent)
    if call.contact is not None:
        record["contact"] = contact_object(call.contact)
    if call.queue is not None:
        record["number"] = queue_number(conn, call.queue)
    elif call.agent is not None:
        record["number"] = agent_number(conn, call.agent)
    record["archived"] = False
    record["teams"] = [team_object(call.queue)] if inbound and call.queue is not None else []
    record["comments"] = [
        {
            "id": c.comment_id,
            "content": c.content,
            **({"posted_by": user_object(agents[c.agent_id])} if c.agent_id in agents else {}),
            "posted_at": unix(c.posted_at),
        }
        for c in call.comments
    ]
    record["tags"] = [
        {
            "id": t.tag_id,
            "name": t.name,
            **({"tagged_by": user_object(call.agent)} if call.agent is not None else {}),
            "tagged_at": unix(t.added_at),
        }
        for t in call.tags
    ]
    # Aircall keeps only the last transfer of a call.
    if call.transfers:
        record["transferred_to"] = user_object(call.transfers[-1])
        by = call.transfers[-2] if len(call.transfers) > 1 else call.agent
        if by is not None:
            record["transferred_by"] = user_object(by)
    return record


def render_user(conn: SandboxConnection, agent: Agent) -> dict[str, Any]:
    """The User object of `GET /v1/users`."""
    return {**user_object(agent), "time_zone": conn.timezone, "numbers": [agent_number(conn, agent)]}
