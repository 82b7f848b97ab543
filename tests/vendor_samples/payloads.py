"""The vendor sample payloads the pipeline extracts, grouped into the UTC days the production job runs.

Read from the repository's verbatim copies under `tests/fixtures/` (each with its source note), so the tests
never depend on a folder outside the repository. Which samples are served, and why the others are not:

- Aircall: the six webhook bodies; their `data` is the REST Call object served by `GET /v1/calls`. They are
  two events of each of three calls; a day is run once with the first event of each call and again with the
  second, as a re-extraction of that day sees the call's later state.
- RingCentral: the call-log list pages (Simple view, Detailed view with the elided record removed), the
  single Simple record, and the records of the call-log-sync examples (the same CallLogRecord objects, as
  an account whose records carry no `sessionId`; the ISync version of a record is the day run again).
  The Detailed record with unquoted placeholders (`"id": EXTENSION_ID`) is not a payload a server can send.
- Zendesk: the incremental-export call object and leg object. The Talk Partner Edition objects come from
  `POST/GET /api/v2/calls`, which the pipeline does not extract.
- 8x8: the VCC Recordings API `<file>` sample (the two published typos repaired), and the Cloud Storage
  Service's `callcenterrecording` object (stream `recording_objects`, behind the XCaaS OAuth token sample). The
  object's call has no published `<file>`: `eightbyeight_object_day` serves one written from the object's tags.
  The other 8x8 samples are analytics report APIs that the pipeline does not extract.

`ONE_CALL_DAYS` are days holding a single call of one provider, with no agent, no recording (8x8 knows a
call only from its recording, so its call keeps that) and no legs: each is a sample above with only the
fields that make those absent changed, and its times moved to its own day. `agent_on_legs_day` is built the
same way: a Zendesk call whose agent only its legs name.
"""

from __future__ import annotations

import copy
import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# The shared samples beside the repository (`<repo>/../shared/vendor-samples`), or where UC_VENDOR_SAMPLES says.
SHARED_SAMPLES = Path(os.environ.get("UC_VENDOR_SAMPLES") or Path(__file__).resolve().parents[3] / "shared"
                      / "vendor-samples")
Stream = tuple[str, str]  # (provider, stream)


def fixture_text(provider: str, name: str) -> str:
    return (FIXTURES / provider / name).read_text(encoding="utf-8")


def fixture_json(provider: str, name: str) -> Any:
    return json.loads(fixture_text(provider, name))


def aircall_event(name: str) -> dict[str, Any]:
    return fixture_json("aircall", f"webhook_call_{name}.json")["data"]


def ringcentral_detailed_page() -> dict[str, Any]:
    text = fixture_text("ringcentral", "call_log_list_detailed_view_partial.jsonc")
    # The vendor elides the page's second record with a bare `...`; only that record is removed.
    text, removed = re.subn(r",\s*\{\s*\"uri\"[^{}]*\"id\": \"ASaoSC9FIMaOF24\",\s*\.\.\.\s*\}", "", text)
    assert removed == 1, "the Detailed page sample changed: update the elision repair"
    return json.loads(text)


def ringcentral_token_response() -> dict[str, Any]:
    """The body of the vendor's JWT-grant sample response (after the HTTP head)."""
    return json.loads(fixture_text("ringcentral", "oauth_token_jwt_response.http").split("\n\n", 1)[1])


def eightbyeight_files() -> list[str]:
    """Each `<file>…</file>` element of the repaired XML sample, byte for byte."""
    text = fixture_text("eightbyeight", "seed_files_sample_fixed.xml")
    return [m + "\n" for m in re.findall(r"<file>.*?</file>", text, flags=re.S)]


@dataclass
class Day:
    """One partition: the objects served per stream in each successive run of the day."""

    day: date
    rounds: list[dict[Stream, list[Any]]] = field(default_factory=list)


def sample_days() -> list[Day]:
    simple_page = fixture_json("ringcentral", "call_log_list_simple_view.json")["records"]
    fsync = fixture_json("ringcentral", "call_log_sync_fsync.json")["records"]
    isync = fixture_json("ringcentral", "call_log_sync_isync.json")["records"]
    isync_ids = {r["id"] for r in isync}
    rc_single = fixture_json("ringcentral", "call_log_record_simple.json")
    zd_call = fixture_json("zendesk", "talk_incremental_call_object.json")
    zd_leg = fixture_json("zendesk", "talk_incremental_leg_object.json")
    return [
        Day(date(2022, 3, 4), [
            {("aircall", "calls"): [aircall_event(n) for n in
                                    ("created_outbound", "unsuccessful_transfer_inbound", "ended_inbound")]},
            {("aircall", "calls"): [aircall_event(n) for n in
                                    ("ended_outbound", "commented_inbound", "voicemail_left_inbound")]},
        ]),
        # A Simple-view record, then the Detailed record of the same id (the same call with its legs).
        Day(date(2023, 4, 10), [{("ringcentral", "call_log"): [simple_page[0]]},
                                {("ringcentral", "call_log"): ringcentral_detailed_page()["records"]}]),
        Day(date(2023, 4, 11), [{("ringcentral", "call_log"): [simple_page[1]]}]),
        Day(date(2023, 6, 6), [{("ringcentral", "call_log"): [rc_single]}]),
        Day(date(2013, 6, 3), [{("ringcentral", "call_log"): fsync},
                               {("ringcentral", "call_log"): [r for r in fsync if r["id"] not in isync_ids] + isync}]),
        Day(date(2020, 10, 15), [{("zendesk", "calls"): [zd_call]}]),
        Day(date(2019, 1, 16), [{("zendesk", "legs"): [zd_leg]}]),
        Day(date(2007, 12, 20), [{("eightbyeight", "recordings"): eightbyeight_files()}]),
        eightbyeight_object_day(),
    ]


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def eightbyeight_token_response() -> dict[str, Any]:
    """The XCaaS OAuth sample answer, its `{{TOKEN_VALUE}}` placeholder filled as a server would fill it."""
    body = fixture_json("eightbyeight", "oauth_token_response.json")
    body["access_token"] = "fixture-8x8-access-token"
    return body


def eightbyeight_object() -> dict[str, Any]:
    return fixture_json("eightbyeight", "cloud_storage_callcenterrecording_object.json")


def eightbyeight_object_day() -> Day:
    """The Cloud Storage object's day (createdTime 2021-03-10), with the VCC recording of the same call: the
    `<file>` sample with the fields the object's tags give replaced (file name = `S<UTC day>/` + mediaUrl,
    transactionId, startTime as local time with its offset, duration in seconds, the caller, the dialled
    number, the queue). The agent's login is not in the object (its `agentId` is an 8x8 user id): `kglynn`."""
    (sample,) = eightbyeight_files()
    replaced = {
        "<startDate>2007-12-19T19:16:36-08:00</startDate>": "<startDate>2021-03-10T09:40:42-08:00</startDate>",
        "<agentID>bill</agentID>": "<agentID>kglynn</agentID>",
        "<phoneNumber>bill</phoneNumber>": "<phoneNumber>4085559901</phoneNumber>",
        "<channel>5027780</channel>": "<channel>12025553989</channel>",
        "<duration>27</duration>": "<duration>1271</duration>",
        "<filename>S20071220/R2007122003163601000.wav</filename>":
            "<filename>S20210310/R202103101740420023.wav</filename>",
        "<queueID>fernandez~~queue~~phone~~102</queueID>": "<queueID>acmecorp01~~queue~~phone~~1819</queueID>",
        "<queueName>phoneq1</queueName>": "<queueName>Level 3 Support</queueName>",
        "<transactionID>1</transactionID>": "<transactionID>10733</transactionID>",
    }
    for old, new in replaced.items():
        assert old in sample, f"the <file> sample changed: {old} is gone"
        sample = sample.replace(old, new)
    return Day(date(2021, 3, 10), [{("eightbyeight", "recordings"): [sample],
                                    ("eightbyeight", "recording_objects"): [eightbyeight_object()]}])


def one_call_days() -> list[Day]:
    # Aircall: the inbound call.ended sample (no `user`: nobody answered) without its voicemail.
    aircall = copy.deepcopy(aircall_event("ended_inbound"))
    start = _epoch("2024-02-26T09:00:00")
    aircall.update(id=990000001, direct_link="https://api.aircall.io/v1/calls/990000001", voicemail=None,
                   asset=None, started_at=start, ended_at=start + 17)
    # RingCentral: the first FSync record (no sessionId, no legs, no recording, `from` without a number).
    ringcentral = copy.deepcopy(fixture_json("ringcentral", "call_log_sync_fsync.json")["records"][0])
    ringcentral.update(id="IVWtSyis720zONE", startTime="2024-02-27T15:16:58.000Z")
    # Zendesk: the incremental call object, abandoned in the queue: no agent, nothing talked or recorded.
    zendesk = fixture_json("zendesk", "talk_incremental_call_object.json")
    zendesk.update(id=990000003, agent_id=None, completion_status="abandoned_in_queue", talk_time=0,
                   time_to_answer=None, recording_time=0, recording_control_interactions=0, not_recording_time=0,
                   wrap_up_time=0, hold_time=0, duration=40, wait_time=40, minutes_billed=1,
                   created_at="2024-02-28T10:00:00Z", updated_at="2024-02-28T10:01:00Z")
    # 8x8: the <file> sample without an agent (an empty element, as the API sends one).
    (eight,) = eightbyeight_files()
    eight = (eight.replace("<agentID>bill</agentID>", "<agentID />")
             .replace("2007-12-19T19:16:36-08:00", "2024-02-29T08:00:00-08:00")
             .replace("S20071220/R2007122003163601000.wav", "S20240229/R2024022916000001000.wav")
             .replace("<transactionID>1</transactionID>", "<transactionID>990000004</transactionID>"))
    return [
        Day(date(2024, 2, 26), [{("aircall", "calls"): [aircall]}]),
        Day(date(2024, 2, 27), [{("ringcentral", "call_log"): [ringcentral]}]),
        Day(date(2024, 2, 28), [{("zendesk", "calls"): [zendesk]}]),
        Day(date(2024, 2, 29), [{("eightbyeight", "recordings"): [eight]}]),
    ]


def agent_on_legs_day() -> Day:
    """A Zendesk call whose agent only its legs name (issue 19): the incremental call sample with
    `agent_id: null`, and the leg sample as that call's agent leg (`type: agent`, the agent 10032)."""
    call = fixture_json("zendesk", "talk_incremental_call_object.json")
    call.update(id=990000005, agent_id=None, created_at="2024-03-01T10:00:00Z", updated_at="2024-03-01T10:14:00Z")
    leg = fixture_json("zendesk", "talk_incremental_leg_object.json")
    leg.update(id=990000006, call_id=990000005, type="agent", agent_id=10032, user_id=10032,
               created_at="2024-03-01T10:00:31Z", updated_at="2024-03-01T10:14:00Z")
    return Day(date(2024, 3, 1), [{("zendesk", "calls"): [call], ("zendesk", "legs"): [leg]}])


def record_id(provider: str, obj: Any) -> str:
    """The id the landing zone keys a served object by (ARCHITECTURE: the provider's id of the record)."""
    if provider == "eightbyeight" and isinstance(obj, str):  # a VCC `<file>`; Cloud Storage objects are JSON
        return re.search(r"<filename>([^<]*)</filename>", obj).group(1)
    return str(obj["id"])


def landed_form(provider: str, obj: Any) -> Any:
    """What a served object must land as: JSON objects as they are; an XML `<file>` as one JSON object of
    its child elements' names and texts (an empty element is "")."""
    if provider != "eightbyeight" or not isinstance(obj, str):
        return obj
    return {child.tag: child.text or "" for child in ET.fromstring(obj)}
