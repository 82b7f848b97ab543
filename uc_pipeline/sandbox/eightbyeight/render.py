"""Rendering canonical calls as 8x8 VCC Recordings API records, and records as XML or CSV pages.

Owns the mapping from the sandbox's canonical `Call` to the native `<file>` record of
`GET /api/recordings/files` and the byte-exact page formats. Only calls with a call recording
exist in this API: one record per recording. Every value is a string, exactly as the XML/CSV
carries it (empty elements are "").

The field-by-field mapping is documented at the top of emulator.py.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from uc_pipeline.sandbox.eightbyeight.query import FIELDS
from uc_pipeline.sandbox.model import Agent, Call, Directory

OUTBOUND_CHANNEL = "#virtual_outbound#"
DAA_CHANNEL = "#virtual_daa#"
OUTBOUND_QUEUE = "QUEUE_OUTBOUND"
DAA_QUEUE = "QUEUE_DIRECT_AGENT_ACCESS"
# Fields a record may lose under schema drift (the rest identify or time the recording).
OPTIONAL_FIELDS: tuple[str, ...] = ("caseID", "accountNumber", "extVar1", "extVar2", "outDialCode", "wrapUpCode")
XML_PROLOG = "<?xml version='1.0' encoding='UTF-8' ?>"
XML_CONTENT_TYPE = "application/xml; charset=UTF-8"
CSV_CONTENT_TYPE = "text/csv; charset=UTF-8"


def agent_logins(directory: Directory) -> dict[int, str]:
    """Each agent's VCC login (agentID), unique within the tenant."""
    local = {a.agent_id: a.email.split("@", 1)[0] for a in directory.agents}
    counts: dict[str, int] = {}
    for login in local.values():
        counts[login] = counts.get(login, 0) + 1
    return {aid: (login if counts[login] == 1 else f"{login}{aid}") for aid, login in local.items()}


def _login(agent: Agent | None, logins: Mapping[int, str]) -> str:
    if agent is None:
        return ""
    return logins.get(agent.agent_id) or agent.email.split("@", 1)[0]


def _digits(number: str) -> str:
    return number[1:] if number.startswith("+") else number


def filename(call: Call) -> str:
    """The recording's file name; the UTC start and the recording id make it unique."""
    assert call.recording is not None
    start = call.recording.start_at.astimezone(UTC)
    return f"S{start:%Y%m%d}/R{start:%Y%m%d%H%M%S}{call.recording.recording_id:05d}.wav"


def served(call: Call) -> bool:
    """Whether the API has a record for this call: a recorded inbound or outbound call."""
    return call.recording is not None and call.direction != "INTERNAL"


def render_call(call: Call, tenant: str, tenant_tz: ZoneInfo, logins: Mapping[int, str]) -> dict[str, str]:
    """The native record of a call's recording (the call must be `served`)."""
    rec = call.recording
    if rec is None or call.direction == "INTERNAL":
        raise ValueError(f"call {call.call_id} has no record in the Recordings API")
    if call.direction == "OUTBOUND":
        channel, queue_id, queue_name = OUTBOUND_CHANNEL, OUTBOUND_QUEUE, OUTBOUND_QUEUE
    elif call.queue is not None and not call.direct_to_agent:
        channel = _digits(call.queue.number)
        queue_id, queue_name = f"{tenant}~~queue~~phone~~{call.queue.queue_id}", call.queue.name
    else:
        channel, queue_id, queue_name = DAA_CHANNEL, DAA_QUEUE, DAA_QUEUE
    record = {
        "startDate": rec.start_at.astimezone(tenant_tz).replace(microsecond=0).isoformat(),
        "agentID": _login(call.agent, logins),
        "phoneNumber": _digits(call.external_number),
        "channel": channel,
        "caseID": "0",
        "duration": str(int((rec.end_at - rec.start_at).total_seconds())),
        "filename": filename(call),
        "queueID": queue_id,
        "queueName": queue_name,
        "accountNumber": "0",
        "transactionID": str(call.call_id),
        "extVar1": "0",
        "extVar2": "0",
        "outDialCode": "",
        "wrapUpCode": "",
    }
    return record


def as_text(value: Any) -> str:
    """A value as the XML/CSV carries it (what a parser gives back); a structured value (a field
    a newer API version might add) is carried as JSON text, since a field here is one element."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def render_xml(records: Iterable[Mapping[str, str]]) -> bytes:
    """An XML page: the documented prolog and `<recordings><file>...</file></recordings>`."""
    lines = [XML_PROLOG, "<recordings>"]
    for record in records:
        lines.append("  <file>")
        for name, value in record.items():
            lines.append(f"    <{name}>{escape(value)}</{name}>" if value else f"    <{name} />")
        lines.append("  </file>")
    lines.append("</recordings>")
    return ("\n".join(lines) + "\n").encode("utf-8")


def csv_header(records: Sequence[Mapping[str, str]]) -> list[str]:
    """The documented columns, then any other field records carry, in first-seen order."""
    header = list(FIELDS)
    for record in records:
        header.extend(k for k in record if k not in header)
    return header


def render_csv(records: Sequence[Mapping[str, str]]) -> bytes:
    """A CSV page: a header row of the field names, then one row per record."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=csv_header(records), restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(records)
    return out.getvalue().encode("utf-8")
