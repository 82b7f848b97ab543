"""Vendor sample payloads through the production path: the fixture server serves them behind each
provider's real API paths, the code location's `daily_refresh` job runs each sample's day as one
partition (as the schedule and a backfill do), and the landed records and unified rows are checked
against what the payloads say (expectations written from the payloads and `/work/shared/providers.md`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest

from . import payloads
from .harness import PROVIDERS, Pipeline, assert_fields, connection_id, digits, epoch, failures, pipeline, ts, uid
from .payloads import landed_form, record_id

STREAMS = (("aircall", "calls"), ("ringcentral", "call_log"), ("zendesk", "calls"), ("zendesk", "legs"),
           ("eightbyeight", "recordings"), ("eightbyeight", "recording_objects"))
SAMPLE_DAYS = payloads.sample_days()
ONE_CALL_DAYS = payloads.one_call_days()
AGENT_ON_LEGS = payloads.agent_on_legs_day()
ALL_DAYS = [*SAMPLE_DAYS, *ONE_CALL_DAYS, AGENT_ON_LEGS]


@dataclass
class RoundOutcome:
    served: dict[payloads.Stream, list[Any]]
    failures: str
    landed: dict[payloads.Stream, dict[str, str]] = field(default_factory=dict)


@dataclass
class Runs:
    pipeline: Pipeline
    days: dict[date, list[RoundOutcome]]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    """Every sample day and one-call day, oldest first, each round a `daily_refresh` run of its partition."""
    # The account holds every day's objects at once (each in its first state), so that every run is served
    # other days' objects too and must leave them to their own day; a later round of a day replaces its objects.
    account: dict[payloads.Stream, dict[str, Any]] = {}

    def update(served: dict[payloads.Stream, list[Any]]) -> dict[payloads.Stream, list[Any]]:
        for stream, objects in served.items():
            account.setdefault(stream, {}).update({record_id(stream[0], o): o for o in objects})
        return {stream: list(objects.values()) for stream, objects in account.items()}

    for day in ALL_DAYS:
        update(day.rounds[0])
    with pipeline(tmp_path_factory.mktemp("vendor-samples")) as p:
        days: dict[date, list[RoundOutcome]] = {}
        for day in sorted(ALL_DAYS, key=lambda d: d.day):
            for served in day.rounds:
                result = p.run_day(day.day, update(served))
                outcome = RoundOutcome(served, "" if result.success else failures(result) or "the run failed")
                outcome.landed = {s: p.landed(*s, day.day) for s in STREAMS}
                days.setdefault(day.day, []).append(outcome)
        yield Runs(p, days)


@pytest.mark.parametrize("day", [d.day for d in ALL_DAYS], ids=str)
def test_every_run_of_a_sample_day_succeeds(runs: Runs, day: date) -> None:
    for n, outcome in enumerate(runs.days[day], start=1):
        assert not outcome.failures, f"daily_refresh {day} (run {n}) failed:\n{outcome.failures}"


@pytest.mark.parametrize("day", [d.day for d in ALL_DAYS], ids=str)
def test_every_served_object_lands_verbatim_once_in_its_day(runs: Runs, day: date) -> None:
    for n, outcome in enumerate(runs.days[day], start=1):
        for stream in STREAMS:
            provider = stream[0]
            expected = {record_id(provider, o): landed_form(provider, o) for o in outcome.served.get(stream, [])}
            landed = {rid: json.loads(text) for rid, text in outcome.landed[stream].items()}
            assert landed == expected, f"{stream} of {day}, run {n}"
            for rid, text in outcome.landed[stream].items():  # field order kept too
                assert list(json.loads(text)) == list(expected[rid]), f"{stream} {rid}: field order changed"


def test_no_day_lands_another_days_objects(runs: Runs) -> None:
    """Every run was served every day's objects; each must land only in the day of its own time."""
    for day, outcomes in runs.days.items():
        for stream in STREAMS:
            ids = set(outcomes[-1].landed[stream])
            served = {record_id(stream[0], o) for o in outcomes[-1].served.get(stream, [])}
            assert ids == served, f"{stream} of {day}"


def calls_of(runs: Runs, provider: str) -> dict[str, dict[str, Any]]:
    rows = runs.pipeline.query("select * from uc.uc_call where provider = ?", [provider])
    return {r["source_id"]: r for r in rows}


def test_aircall_calls_carry_their_payload(runs: Runs) -> None:
    calls = calls_of(runs, "aircall")
    # call.ended outbound: answered 5 s after it started; made by user 736640.
    assert_fields(calls["780836699"], {
        "id": uid("aircall", 780836699), "connection_id": connection_id("aircall"), "type": "OUTBOUND",
        "outcome": "ANSWERED", "start_at": epoch(1646389735), "answered_at": epoch(1646389740),
        "end_at": epoch(1646389755), "duration_s": 20, "user_id": uid("aircall", 736640), "has_recording": False,
    }, "780836699")
    assert digits(calls["780836699"]["telephone"]) == "43720880079"
    # call.commented inbound: answered by 731416, on the number 397375, then commented.
    assert_fields(calls["780883160"], {
        "type": "INBOUND", "outcome": "ANSWERED", "start_at": epoch(1646391174), "answered_at": epoch(1646391189),
        "end_at": epoch(1646391382), "duration_s": 208, "user_id": uid("aircall", 731416), "has_recording": False,
        "queue_id": uid("aircall", 397375),
    }, "780883160")
    assert digits(calls["780883160"]["telephone"]) == "443308186690"
    # call.voicemail_left inbound: nobody answered (no `user`), the caller left a voicemail; `recording`
    # (the call's own recording) is null: the voicemail is a recording of kind voicemail, not a call recording.
    assert_fields(calls["780836754"], {
        "type": "INBOUND", "outcome": "VOICEMAIL", "answered_at": None, "missed_reason": "agents_did_not_answer",
        "start_at": epoch(1646389739), "end_at": epoch(1646389756), "duration_s": 17, "user_id": None,
        "has_recording": False,
    }, "780836754")
    assert len(calls) == 3 + 1  # the three sample calls and the one-call day's


def test_aircall_voicemail_comment_and_users(runs: Runs) -> None:
    p = runs.pipeline
    recs = p.query("select * from uc.uc_recording where provider = 'aircall'")
    assert [(r["call_id"], r["kind"], r["web_url"]) for r in recs] == [
        (uid("aircall", 780836754), "voicemail", "https://assets.aircall.io/calls/780836754/voicemail")]
    comment = p.row("uc_comment", uid("aircall", 24923492))
    assert_fields(comment, {"call_id": uid("aircall", 780883160), "content": "asdfasdfasdf\nalskdfjlaskdjflaksjdf",
                            "user_id": uid("aircall", 731416), "created_at": epoch(1646391469)}, "comment")
    users = {u["source_id"]: u for u in p.query("select * from uc.uc_user where provider = 'aircall'")}
    assert {k: (u["name"], u["email"]) for k, u in users.items()} == {
        "731416": ("Koen Verduijn SE", "koen.verduijn+demo@aircall.io"),
        "736640": ("Koen Test RrNuYErJ74", "koen.verduijn+v5doewlrdy@aircall.io"),
        "530103": ("Martin Dizon Demo", "martin.dizon+demo@aircall.io"),
    }


def test_ringcentral_calls_carry_their_payload(runs: Runs) -> None:
    calls = calls_of(runs, "ringcentral")
    # Detailed record of session 1039811321016 (its Simple version landed first): answered by extension 664573005.
    assert_fields(calls["1039811321016"], {
        "id": uid("ringcentral", "1039811321016"), "type": "INBOUND", "outcome": "ANSWERED",
        "start_at": ts("2023-04-10T23:58:47.594Z"), "duration_s": 194, "telephone": "+14155555908",
        "user_id": uid("ringcentral", 664573005), "has_recording": True,
    }, "1039811321016")
    assert_fields(calls["13914800004"], {  # Simple view: no legs, no extension
        "type": "OUTBOUND", "outcome": "ANSWERED", "start_at": ts("2023-04-11T07:26:35.028Z"), "duration_s": 55,
        "telephone": "+14155555908", "user_id": None, "has_recording": True,
    }, "13914800004")
    assert_fields(calls["13916417004"], {
        "type": "INBOUND", "outcome": "ANSWERED", "start_at": ts("2023-06-06T23:07:20Z"), "duration_s": 55,
        "telephone": "+14155555900", "user_id": None, "has_recording": True,
    }, "13916417004")
    # Call-log-sync records carry no sessionId: each record is its own call. `result: Unknown` is unknown.
    assert_fields(calls["IVWtSyis720zMEA"], {"type": "OUTBOUND", "outcome": "UNKNOWN", "duration_s": 0,
                                             "start_at": ts("2013-06-03T15:16:58Z"), "user_id": None,
                                             "has_recording": False}, "IVWtSyis720zMEA")
    assert digits(calls["IVWtSyis720zMEA"]["telephone"]) == "2055551234"
    assert_fields(calls["IVWtTIvyZ8q9MGA"], {"type": "OUTBOUND", "outcome": "ANSWERED", "duration_s": 22,
                                             "start_at": ts("2013-06-03T15:16:52Z")}, "IVWtTIvyZ8q9MGA")
    assert digits(calls["IVWtTIvyZ8q9MGA"]["telephone"]) == "12055550010"
    assert_fields(calls["IVWtT1J9WIXRMSQ"], {"type": "OUTBOUND", "outcome": "ANSWERED", "duration_s": 18,  # ISync's
                                             "start_at": ts("2013-06-03T15:17:25Z")}, "IVWtT1J9WIXRMSQ")
    assert len(calls) == 6 + 1


def test_ringcentral_recording_shared_by_two_calls_gives_two_rows(runs: Runs) -> None:
    """Recording 1662272004 is on the 2023-04-10 call and on the 2023-06-06 sample record."""
    recs = runs.pipeline.query("select * from uc.uc_recording where provider = 'ringcentral' order by call_id")
    by_call = {r["call_id"]: r for r in recs}
    assert sorted(by_call) == sorted(uid("ringcentral", s) for s in ("1039811321016", "13914800004", "13916417004"))
    assert len(recs) == 3 and len({r["id"] for r in recs}) == 3, [(r["id"], r["call_id"]) for r in recs]
    assert {by_call[uid("ringcentral", s)]["source_id"] for s in ("1039811321016", "13916417004")} == {"1662272004"}


def test_zendesk_call_carries_its_payload(runs: Runs) -> None:
    calls = calls_of(runs, "zendesk")
    assert_fields(calls["123"], {
        "type": "INBOUND", "outcome": "ANSWERED", "start_at": ts("2020-10-15T13:19:09Z"),
        "answered_at": ts("2020-10-15T13:19:40Z"), "updated_at": ts("2020-10-15T14:12:22Z"), "duration_s": 782,
        "talk_s": 751, "hold_s": 0, "wrap_up_s": 66, "user_id": uid("zendesk", 1), "contact_id": uid("zendesk", 1),
        "has_recording": True,
    }, "123")
    # The leg sample names call 10217, which was never exported: no call is invented for it.
    assert "10217" not in calls and len(calls) == 1 + 1 + 1


def test_zendesk_agent_named_only_on_the_legs_is_the_calls_user(runs: Runs) -> None:
    call = calls_of(runs, "zendesk")["990000005"]
    assert_fields(call, {"type": "INBOUND", "outcome": "ANSWERED", "user_id": uid("zendesk", 10032)}, "990000005")


def test_eightbyeight_call_from_its_recording(runs: Runs) -> None:
    calls = calls_of(runs, "eightbyeight")
    assert_fields(calls["1"], {
        "type": "INBOUND", "start_at": ts("2007-12-20T03:16:36Z"), "end_at": ts("2007-12-20T03:17:03Z"),
        "user_id": uid("eightbyeight", "bill"), "queue_id": uid("eightbyeight", "fernandez~~queue~~phone~~102"),
        "queue_name": "phoneq1", "telephone": "bill", "has_recording": True, "record_source": "recording_metadata",
    }, "1")
    (rec,) = runs.pipeline.query("select * from uc.uc_recording where call_id = ?", [uid("eightbyeight", "1")])
    assert (rec["duration_s"], rec["start_at"]) == (27, ts("2007-12-20T03:16:36Z"))


def test_eightbyeight_agent_named_by_the_cloud_storage_object(runs: Runs) -> None:
    """The Cloud Storage object names the agent of the recording whose file its `mediaUrl` tag names."""
    obj = payloads.eightbyeight_object()
    landed = runs.days[date(2021, 3, 10)][-1].landed[("eightbyeight", "recording_objects")]
    assert list(landed) == ["6cf3260a-d4f2-4fba-8240-53633634713f"]  # keyed by the object's `id`
    assert json.loads(landed["6cf3260a-d4f2-4fba-8240-53633634713f"]) == obj
    assert {"POST /oauth/v2/token", "GET /storage/us-east/v3/objects"} <= set(runs.pipeline.server.requests)
    # transactionId 10733; startTime 1615398042234 ms (the recording's start, whole seconds in the Recordings
    # API); duration 1271000 ms; an INBOUND call from callerId 4085559901 to the queue "Level 3 Support".
    assert_fields(calls_of(runs, "eightbyeight")["10733"], {
        "type": "INBOUND", "start_at": epoch(1615398042), "end_at": epoch(1615398042 + 1271),
        "user_id": uid("eightbyeight", "kglynn"), "queue_name": "Level 3 Support", "telephone": "4085559901",
        "has_recording": True, "record_source": "recording_metadata",
    }, "10733")
    user = runs.pipeline.row("uc_user", uid("eightbyeight", "kglynn"))
    assert (user["source_id"], user["name"]) == ("kglynn", "Khang Glynn")  # the agentName tag
    history = runs.pipeline.query("select name, is_current from uc.uc_user_history where id = ?",
                                  [uid("eightbyeight", "kglynn")])
    assert history == [{"name": "Khang Glynn", "is_current": True}]
    # the sample recording's agent has no Cloud Storage object: a login without a name
    assert runs.pipeline.row("uc_user", uid("eightbyeight", "bill"))["name"] is None


def test_every_agent_and_caller_the_payloads_name_is_a_user_or_contact(runs: Runs) -> None:
    p = runs.pipeline
    users = {r["id"] for r in p.query("select id from uc.uc_user")}
    contacts = {r["id"] for r in p.query("select id from uc.uc_contact")}
    # RingCentral: the extension on the Detailed record's legs; 8x8: the recording's agentID; Zendesk: the
    # call's agent_id 1 and the agent leg's 10032. The customer leg's agent_id 0 names nobody.
    named = {uid("ringcentral", 664573005), uid("eightbyeight", "bill"), uid("eightbyeight", "kglynn"),
             uid("zendesk", 1), uid("zendesk", 10032)}
    assert named <= users, named - users
    assert uid("zendesk", 0) not in users
    assert uid("zendesk", 1) in contacts  # the call's customer_id
    (rec,) = p.query("select user_id from uc.uc_recording where call_id = ?", [uid("eightbyeight", "1")])
    assert rec["user_id"] == uid("eightbyeight", "bill")


ONE_CALL = {  # provider -> (source_id of the call, what its row must say)
    "aircall": ("990000001", {"type": "INBOUND", "outcome": "MISSED", "user_id": None, "has_recording": False,
                              "missed_reason": "agents_did_not_answer"}),
    "ringcentral": ("IVWtSyis720zONE", {"type": "OUTBOUND", "outcome": "UNKNOWN", "user_id": None,
                                        "has_recording": False}),
    "zendesk": ("990000003", {"type": "INBOUND", "outcome": "ABANDONED", "user_id": None, "has_recording": False,
                              "contact_id": uid("zendesk", 1)}),
    "eightbyeight": ("990000004", {"type": "INBOUND", "user_id": None, "has_recording": True}),
}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_day_of_one_call_without_agent_recording_or_legs_builds_green(runs: Runs, provider: str) -> None:
    (day,) = [d for d in ONE_CALL_DAYS if next(iter(d.rounds[0]))[0] == provider]
    (outcome,) = runs.days[day.day]
    source_id, expected = ONE_CALL[provider]
    assert_fields(calls_of(runs, provider)[source_id], expected, f"{provider} {source_id}")
    assert not outcome.failures, f"daily_refresh {day.day} failed:\n{outcome.failures}"
    daily = runs.pipeline.query(
        "select sum(calls) as calls from reporting.calls_daily where provider = ? and day between ? and ?",
        [provider, day.day - timedelta(days=1), day.day + timedelta(days=1)])
    assert daily[0]["calls"] == 1, f"reporting.calls_daily lacks the {provider} call of {day.day}"
    kpi = runs.pipeline.query("select count(*) as n from reporting.kpi_daily where provider = ? and day = ?",
                              [provider, day.day])
    assert kpi[0]["n"] == 1, f"reporting.kpi_daily has no {provider} row for {day.day}"


def test_the_sample_days_are_the_sample_files() -> None:
    """Every object of an extracted endpoint's sample is served on some day (none forgotten)."""
    served = {(s, record_id(s[0], o)) for d in SAMPLE_DAYS for r in d.rounds for s, objs in r.items() for o in objs}
    assert {rid for (s, rid) in served if s == ("aircall", "calls")} == {"780836699", "780883160", "780836754"}
    assert {rid for (s, rid) in served if s == ("ringcentral", "call_log")} == {
        "VgLcd1KWffJVzUA", "ASaoSC9FIMaOF24", "ASaxDDkSZ5s42MA", "IVWtSyis720zMEA", "IVWtTIvyZ8q9MGA",
        "IVWtT1J9WIXRMSQ"}
    assert {rid for (s, rid) in served if s[0] == "zendesk"} == {"123", "10402"}
    assert {rid for (s, rid) in served if s == ("eightbyeight", "recordings")} == {
        "S20071220/R2007122003163601000.wav", "S20210310/R202103101740420023.wav"}
    assert {rid for (s, rid) in served if s == ("eightbyeight", "recording_objects")} == {
        "6cf3260a-d4f2-4fba-8240-53633634713f"}
    assert len({d.day for d in ALL_DAYS}) == len(ALL_DAYS)


def test_the_vendored_copies_are_the_shared_samples() -> None:
    """The fixtures are byte-for-byte copies of the shared vendor samples (checked where those are present)."""
    if not payloads.SHARED_SAMPLES.is_dir():
        pytest.skip(f"{payloads.SHARED_SAMPLES} is absent; the vendored copies in tests/fixtures are used as they are")
    names = [("aircall", f"webhook_call_{n}.json") for n in ("created_outbound", "ended_outbound", "ended_inbound",
             "voicemail_left_inbound", "unsuccessful_transfer_inbound", "commented_inbound")]
    names += [("ringcentral", n) for n in (
              "call_log_list_simple_view.json", "call_log_list_detailed_view_partial.jsonc",
              "call_log_record_simple.json",
              "call_log_sync_fsync.json", "call_log_sync_isync.json",
              "oauth_token_jwt_response.http")]
    names += [("zendesk", n) for n in ("talk_incremental_call_object.json", "talk_incremental_leg_object.json")]
    names += [("eightbyeight", n) for n in ("cloud_storage_callcenterrecording_object.json",
                                            "oauth_token_response.json")]
    for provider, name in names:
        shared = (payloads.SHARED_SAMPLES / provider / name).read_bytes()
        assert (payloads.FIXTURES / provider / name).read_bytes() == shared, f"{provider}/{name}"
