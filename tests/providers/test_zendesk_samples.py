"""Zendesk Talk shapes checked against Zendesk's own payloads (`tests/fixtures/zendesk/`, verbatim; see
the README there): the emulator's call, leg and Partner Edition objects, and the client's parsing of
an export page built from the vendor examples."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from uc_pipeline.connections import Connection, Secret
from uc_pipeline.http import HttpSettings, Quota
from uc_pipeline.providers.base import ExtractStats, Window
from uc_pipeline.providers.zendesk.source import SOURCE, parse_time, rate_headers
from uc_pipeline.sandbox.model import Agent, Call, Comment, Contact, Directory, Queue, Recording
from uc_pipeline.sandbox.zendesk.partner import FIELDS, normalise_time, validate
from uc_pipeline.sandbox.zendesk.render import (
    CALL_ID_BASE,
    COMPLETION_STATUSES,
    LEG_COMPLETION_STATUSES,
    render_call,
    render_legs,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "zendesk"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
AGENT = Agent(11, "Zoë Müller", "zoe@example.com", "101", "+442079460001")
OTHER = Agent(12, "Jan Novák", "jan@example.com", "102", "+442079460002")
QUEUE = Queue(7, "Support", "+442079460100")
CONTACT = Contact(501, "Ana", "García", "Globex", "+34911222333", "ana@example.org")
DIRECTORY = Directory(agents=[AGENT, OTHER], queues=[QUEUE], contacts=[CONTACT])


def sample(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def make_call(**over) -> Call:
    base = dict(
        call_id=42, direction="INBOUND", outcome="ANSWERED", missed_reason=None, start_at=T0,
        answered_at=T0 + timedelta(seconds=20), end_at=T0 + timedelta(seconds=320), wait_s=20, talk_s=270,
        hold_s=30, wrap_up_s=45, queue=QUEUE, agent=AGENT, contact=CONTACT, external_number=CONTACT.phone,
        direct_to_agent=False, transfers=(), recording=Recording(421, T0 + timedelta(seconds=20),
                                                                 T0 + timedelta(seconds=320)),
        voicemail=None, comments=(), tags=(), is_private=False,
    )
    base.update(over)
    return Call(**base)


def assert_same_shape(ours: dict, theirs: dict) -> None:
    """The same keys in the same order, and the same JSON type wherever both are non-null."""
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        if value is None or ours[key] is None:
            continue
        assert type(ours[key]) is type(value), f"{key}: {type(ours[key]).__name__} vs {type(value).__name__}"


def test_call_object_has_the_vendor_shape() -> None:
    call = render_call(make_call(), DIRECTORY)
    assert_same_shape(call, sample("talk_incremental_call_object"))
    assert call["id"] == CALL_ID_BASE + 42
    assert call["created_at"] == "2026-01-05T09:00:00Z" and call["updated_at"] == "2026-01-05T09:05:20Z"
    assert call["completion_status"] == "completed" and call["time_to_answer"] == 20
    assert call["recording_time"] == 300 and call["default_group"] is True


@pytest.mark.parametrize(("outcome", "reason", "direction", "status"), [
    ("ABANDONED", "abandoned_in_ivr", "INBOUND", "abandoned_in_ivr"),
    ("ABANDONED", "short_abandoned", "INBOUND", "abandoned_in_queue"),
    ("MISSED", "out_of_hours", "INBOUND", "abandoned_in_voicemail"),
    ("MISSED", "agents_did_not_answer", "OUTBOUND", "not_answered"),
    ("VOICEMAIL", "voicemail", "INBOUND", "completed"),
    ("FAILED", "failed", "OUTBOUND", "failed"),
])
def test_unanswered_outcomes_map_to_zendesk_statuses(outcome, reason, direction, status) -> None:
    call = make_call(outcome=outcome, missed_reason=reason, direction=direction, answered_at=None, talk_s=0,
                     hold_s=0, wrap_up_s=0, recording=None, end_at=T0 + timedelta(seconds=40), wait_s=40)
    native = render_call(call, DIRECTORY)
    assert native["completion_status"] == status and status in COMPLETION_STATUSES
    assert native["agent_id"] is None and native["time_to_answer"] is None
    assert native["voicemail"] is (outcome == "VOICEMAIL")
    assert native["outside_business_hours"] is (reason == "out_of_hours")
    if reason == "abandoned_in_ivr":
        assert native["ivr_time_spent"] == 40 and native["wait_time"] == 0


def test_busy_cannot_be_rendered() -> None:
    with pytest.raises(ValueError, match="cannot be expressed by Zendesk"):
        render_call(make_call(outcome="BUSY", missed_reason="busy"), DIRECTORY)


def test_legs_have_the_vendor_shape_and_follow_transfers() -> None:
    call = make_call(transfers=(OTHER,))
    legs = render_legs(call)
    for leg in legs:
        assert_same_shape(leg, sample("talk_incremental_leg_object"))
        assert leg["call_id"] == CALL_ID_BASE + 42 and leg["completion_status"] in LEG_COMPLETION_STATUSES
    customer, first, second = legs
    assert customer["type"] == "customer" and customer["user_id"] is not None
    assert first["transferred_to"] == second["agent_id"] and second["transferred_from"] == first["agent_id"]
    assert first["talk_time"] + second["talk_time"] == call.talk_s
    assert len({leg["id"] for leg in legs}) == 3


def test_missed_call_has_an_agent_missed_leg() -> None:
    call = make_call(outcome="MISSED", missed_reason="agents_did_not_answer", answered_at=None, talk_s=0,
                     hold_s=0, recording=None, wait_s=60, end_at=T0 + timedelta(seconds=60))
    legs = render_legs(call)
    assert [leg["completion_status"] for leg in legs] == ["completed", "agent_missed"]
    assert legs[1]["duration"] == 60


def test_updated_at_follows_late_comments() -> None:
    late = T0 + timedelta(days=1, hours=2)
    call = make_call(comments=(Comment(1, AGENT.agent_id, "Rückruf erbeten", late),))
    assert render_call(call, DIRECTORY)["updated_at"] == "2026-01-06T11:00:00Z"


def test_partner_edition_create_normalises_times_as_the_recorded_response() -> None:
    request = sample("talk_partner_edition_create_call_request_recorded")["call"]
    recorded = sample("talk_partner_edition_create_call_201_response_recorded")["call"]
    clean, errors = validate(request, create=True)
    assert not errors
    assert clean["call_started_at"] == recorded["call_started_at"] == "2022-01-27T14:31:40Z"
    assert clean["call_ended_at"] == recorded["call_ended_at"]
    assert list(FIELDS) == list(recorded)
    assert normalise_time("2022-01-27T15:31:40-04:00") == "2022-01-27T19:31:40Z"


def test_partner_edition_documented_object_validates() -> None:
    documented = sample("talk_partner_edition_call_object")
    clean, errors = validate(documented, create=True)
    assert not errors and clean["call_started_at"] == "2022-01-27T14:31:40Z"
    _, errors = validate({"from_line": "+1", "direction": "sideways"}, create=True)
    assert {"app_id", "to_line", "call_started_at", "direction"} <= set(errors)


# --- the client against a page made of the vendor examples ------------------------------------------------

BASE = "https://acme.zendesk.com"


def connection(**options) -> Connection:
    return Connection(provider="zendesk", connection_id="zd", base_url=BASE,
                      credentials={"email": Secret("ops@acme.test"), "api_token": Secret("tok-123")},
                      quotas={"default": Quota(100, 1.0)}, options=options)


def source_with(handler, **options):
    settings = HttpSettings(max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.02)
    return SOURCE(connection(**options), settings, transport=httpx.MockTransport(handler))


def test_client_lands_the_vendor_call_verbatim() -> None:
    call = sample("talk_incremental_call_object")  # updated_at 2020-10-15T14:12:22Z
    end_time = int(parse_time(call["updated_at"]).timestamp())
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page = {"calls": [call], "count": 1, "end_time": end_time,
                "next_page": f"{BASE}/api/v2/channels/voice/stats/incremental/calls?start_time={end_time}"}
        return httpx.Response(200, json=page, headers={"x-rate-limit": "700", "x-rate-limit-remaining": "699"})

    window = Window(datetime(2020, 10, 15, tzinfo=UTC), datetime(2020, 10, 16, tzinfo=UTC))
    stats = ExtractStats()
    with source_with(handler) as source:
        got = list(source.records("calls", window, stats))
    # The boundary record comes again on the second poll; the landing zone keeps one copy.
    assert dict(got) == {"123": call} and {rid for rid, _ in got} == {"123"}
    # The second poll (next_page) returns just the boundary record again: the export is over.
    assert stats.pages == 2 and stats.reported_total is None
    assert [r.url.params["start_time"] for r in seen] == [str(int(window.start.timestamp())), str(end_time)]
    token = base64.b64encode(b"ops@acme.test/token:tok-123").decode()
    assert seen[0].headers["authorization"] == f"Basic {token}"


def test_rate_headers_as_zendesk_sends_them() -> None:
    info = rate_headers(httpx.Response(429, headers={"x-rate-limit": "700", "x-rate-limit-remaining": "0",
                                                     "Retry-After": "7"}))
    assert (info.limit, info.remaining, info.retry_after) == (700, 0, 7.0)
    assert rate_headers(httpx.Response(200)).limit is None
