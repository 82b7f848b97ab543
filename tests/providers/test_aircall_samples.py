"""The Aircall Call object the sandbox renders and the client lands, checked against real vendor payloads
(`tests/fixtures/aircall/`, copied verbatim; see the README there)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from uc_pipeline.providers.aircall.source import parse_rate_headers
from uc_pipeline.sandbox.aircall.render import (
    MISSED_CALL_REASON,
    format_number,
    render_call,
    user_object,
)
from uc_pipeline.sandbox.model import Agent, Call, Comment, Contact, Queue, Recording, SandboxConnection, Tag

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aircall"
CONN = SandboxConnection(provider="aircall", connection_id="acme", credentials={"api_id": "i", "api_token": "t"})
AGENT = Agent(731416, "Koen Verduijn SE", "koen@example.com", "101", "+442079460001")
OTHER = Agent(530103, "Martin Dizon Demo", "martin@example.com", "102", "+442079460002")
QUEUE = Queue(397375, "Koens Product number", "+43720880079")
CONTACT = Contact(20001, "Zoë", "Müller", "Globex GmbH", "+4915112345678", "zoe@example.org")


def sample(name: str) -> dict:
    return json.loads((FIXTURES / f"webhook_{name}.json").read_text(encoding="utf-8"))["data"]


def ts(unix_s: int) -> datetime:
    return datetime.fromtimestamp(unix_s, UTC)


def make_call(**over) -> Call:
    base = dict(
        call_id=780883160, direction="INBOUND", outcome="ANSWERED", missed_reason=None, start_at=ts(1646391174),
        answered_at=ts(1646391189), end_at=ts(1646391382), wait_s=15, talk_s=193, hold_s=0, wrap_up_s=30,
        queue=QUEUE, agent=AGENT, contact=None, external_number="+443308186690", direct_to_agent=False,
        transfers=(), recording=None, voicemail=None, comments=(), tags=(), is_private=False,
    )
    base.update(over)
    return Call(**base)


def render(call: Call) -> dict:
    return render_call(CONN, call, {AGENT.agent_id: AGENT, OTHER.agent_id: OTHER})


def assert_same_shape(ours: dict, theirs: dict, path: str = "call") -> None:
    """Every key the vendor sends is there with the same JSON type (null matches anything), recursively."""
    for key, value in theirs.items():
        assert key in ours, f"{path}.{key} missing"
        mine = ours[key]
        if value is None or mine is None:
            continue
        assert type(mine) is type(value), f"{path}.{key}: {type(mine).__name__} vs {type(value).__name__}"
        if isinstance(value, dict):
            assert_same_shape(mine, value, f"{path}.{key}")
        elif isinstance(value, list) and value and mine:
            assert_same_shape(mine[0], value[0], f"{path}.{key}[0]")


def test_commented_transferred_inbound_call_matches_sample():
    theirs = sample("call_commented_inbound")
    call = make_call(
        transfers=(OTHER,),
        comments=(Comment(24923492, AGENT.agent_id, "asdfasdfasdf\nalskdfjlaskdjflaksjdf", ts(1646391469)),),
        tags=(Tag(1022984, "Assess_Eng_Lvl", ts(1646391384)),),
    )
    ours = render(call)
    assert_same_shape(ours, theirs)
    # The REST object is the webhook's plus `sid`, and `contact` when the caller is known.
    assert [k for k in ours if k not in ("sid", "contact")] == list(theirs)
    for key in ("id", "direct_link", "direction", "status", "missed_call_reason", "started_at", "answered_at",
                "ended_at", "duration", "cost", "hangup_cause", "voicemail", "recording", "asset", "raw_digits",
                "archived"):
        assert ours[key] == theirs[key], key
    assert ours["comments"][0]["content"] == theirs["comments"][0]["content"]
    assert ours["comments"][0]["posted_at"] == theirs["comments"][0]["posted_at"]
    assert ours["tags"][0]["tagged_at"] == theirs["tags"][0]["tagged_at"]
    assert ours["transferred_to"]["id"] == theirs["transferred_to"]["id"]
    assert ours["transferred_by"]["id"] == theirs["transferred_by"]["id"]
    assert ours["sid"].startswith("CA") and len(ours["sid"]) == 34


def test_voicemail_call_matches_sample():
    theirs = sample("call_voicemail_left_inbound")
    start, end = ts(theirs["started_at"]), ts(theirs["ended_at"])
    call = make_call(
        call_id=theirs["id"], outcome="VOICEMAIL", missed_reason="voicemail", start_at=start, answered_at=None,
        end_at=end, talk_s=0, agent=None, voicemail=Recording(1, end - timedelta(seconds=9), end),
    )
    ours = render(call)
    assert_same_shape(ours, theirs)
    assert "user" not in ours and "user" not in theirs  # nobody took the call
    for key in ("direct_link", "direction", "status", "missed_call_reason", "answered_at", "duration", "asset",
                "raw_digits", "recording"):
        assert ours[key] == theirs[key], key
    mine, vendor = urlsplit(ours["voicemail"]), urlsplit(theirs["voicemail"])
    assert mine.netloc == vendor.netloc and mine.path.endswith("-voicemail.mp3")
    assert [k for k, _ in parse_qsl(mine.query)] == [k for k, _ in parse_qsl(vendor.query)]
    assert dict(parse_qsl(mine.query))["X-Amz-Expires"] == "600"


def test_outbound_call_matches_sample():
    theirs = sample("call_ended_outbound")
    call = make_call(
        call_id=theirs["id"], direction="OUTBOUND", start_at=ts(theirs["started_at"]),
        answered_at=ts(theirs["answered_at"]), end_at=ts(theirs["ended_at"]), queue=None,
        external_number="+43720880079", recording=Recording(2, ts(theirs["answered_at"]), ts(theirs["ended_at"])),
    )
    ours = render(call)
    assert_same_shape(ours, theirs)
    assert ours["teams"] == [] and ours["raw_digits"] == theirs["raw_digits"]
    assert ours["asset"] == f"https://assets.aircall.io/calls/{theirs['id']}/recording"
    assert ours["number"]["digits"] == format_number(AGENT.phone)


def test_user_object_has_the_sample_fields():
    assert list(user_object(AGENT)) == list(sample("call_ended_outbound")["user"])


@pytest.mark.parametrize(("e164", "shown"), [
    ("+443308186690", "+44 330 818 6690"), ("+43720880079", "+43 720 880079"), ("+14155550100", "+1 415-555-0100"),
    ("+33176360695", "+33 1 76 36 06 95"), ("anonymous", "anonymous"),
])
def test_numbers_are_displayed_like_aircall(e164, shown):
    assert format_number(e164) == shown


def test_every_canonical_reason_maps_to_a_documented_aircall_reason():
    documented = {"out_of_opening_hours", "short_abandoned", "abandoned_in_ivr", "abandoned_in_classic",
                  "no_available_agent", "agents_did_not_answer"}
    assert set(MISSED_CALL_REASON.values()) <= documented
    for outcome, reason in (("MISSED", "out_of_hours"), ("ABANDONED", "abandoned_in_queue"),
                            ("MISSED", "no_agent_available")):
        ours = render(make_call(outcome=outcome, missed_reason=reason, answered_at=None, agent=None, talk_s=0))
        assert ours["missed_call_reason"] == MISSED_CALL_REASON[reason]
        assert ours["answered_at"] is None and "user" not in ours


def test_contact_and_internal_calls():
    ours = render(make_call(contact=CONTACT, external_number=CONTACT.phone))
    assert ours["contact"]["first_name"] == "Zoë" and ours["contact"]["phone_numbers"][0]["value"] == ours["raw_digits"]
    with pytest.raises(ValueError, match="INTERNAL"):
        render(make_call(direction="INTERNAL"))


def test_rate_headers_parser():
    response = httpx.Response(429, headers={"X-AircallApi-Limit": "60", "X-AircallApi-Remaining": "0",
                                            "X-AircallApi-Reset": "1614093780"})
    info = parse_rate_headers(response)
    assert (info.limit, info.remaining, info.reset_at, info.retry_after) == (60, 0, 1614093780.0, None)
    # Some clients report the reset in milliseconds; both read as the same instant.
    assert parse_rate_headers(httpx.Response(200, headers={"X-AircallApi-Reset": "1614093780000"})).reset_at == (
        1614093780.0)
    assert parse_rate_headers(httpx.Response(200)).limit is None
    assert parse_rate_headers(httpx.Response(200, headers={"X-AircallApi-Remaining": "soon"})).remaining is None
