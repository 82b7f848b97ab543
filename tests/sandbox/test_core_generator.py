"""The generator and ground truth: determinism, invariants per outcome, volumes, midnight, late changes."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from uc_pipeline.sandbox import MISSED_REASONS, SHORT_ABANDON_S, ProviderProfile, SandboxConnection
from uc_pipeline.sandbox.generator import day_volume, expected_calls
from uc_pipeline.sandbox.truth import Truth

from .test_core_support import AS_OF, DummyEmulator

ALL = DummyEmulator.profile
E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def conn(**kw) -> SandboxConnection:
    base = {"provider": "dummy", "connection_id": "gen-1", "credentials": {}, "calls_per_day": 300,
            "timezone": "Europe/Paris"}
    return SandboxConnection(**{**base, **kw})


def truth(profile: ProviderProfile = ALL, as_of: datetime = AS_OF) -> Truth:
    return Truth(lambda _: profile, lambda: as_of)


def week(t: Truth, c: SandboxConnection, as_of: datetime | None = None) -> list:
    return t.calls(c, datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 12, tzinfo=UTC), as_of)


def test_same_seed_same_calls_other_seed_other_calls() -> None:
    a, b = week(truth(), conn()), week(truth(), conn())
    assert a == b and len(a) > 1000
    other = week(truth(), conn(seed=2))
    assert [c.start_at for c in other] != [c.start_at for c in a]


def test_ids_unique_sorted_and_stable_per_day() -> None:
    calls = week(truth(), conn())
    ids = [c.call_id for c in calls]
    assert len(set(ids)) == len(ids)
    assert calls == sorted(calls, key=lambda c: (c.start_at, c.call_id))
    one_day = truth().calls(conn(), datetime(2026, 1, 7, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC))
    assert {c.call_id for c in one_day} <= set(ids)


def test_invariants_per_outcome() -> None:
    calls = week(truth(), conn())
    for c in calls:
        assert c.start_at.tzinfo is not None and c.end_at >= c.start_at
        if c.outcome == "ANSWERED":
            assert c.missed_reason is None
            assert c.answered_at == c.start_at + timedelta(seconds=c.wait_s)
            assert c.end_at == c.answered_at + timedelta(seconds=c.talk_s + c.hold_s)
            assert c.voicemail is None
            if c.recording:
                assert c.recording.start_at == c.answered_at and c.recording.end_at == c.end_at
        else:
            assert c.missed_reason in MISSED_REASONS[c.outcome]
            assert c.answered_at is None and c.talk_s == 0 and c.hold_s == 0 and c.recording is None
            if c.direction == "INBOUND":
                assert c.end_at == c.start_at + timedelta(seconds=c.wait_s)
            assert (c.voicemail is not None) == (c.outcome == "VOICEMAIL")
            if c.voicemail:
                assert c.start_at < c.voicemail.start_at < c.voicemail.end_at == c.end_at
        if c.direction != "INBOUND":
            assert c.wait_s == 0 and c.queue is None and not c.direct_to_agent and c.agent is not None
        if c.direct_to_agent:
            assert c.queue is None
        if c.missed_reason == "short_abandoned":
            assert c.wait_s < SHORT_ABANDON_S
        elif c.outcome == "ABANDONED":
            assert c.wait_s >= SHORT_ABANDON_S
        assert c.external_number == "anonymous" or E164.match(c.external_number)
        if c.external_number == "anonymous":
            assert c.contact is None
        assert all(cm.posted_at >= c.end_at for cm in c.comments)
        assert all(t.added_at >= c.end_at for t in c.tags)
        assert c.agent not in c.transfers


def test_every_outcome_reason_and_direction_appears() -> None:
    calls = week(truth(), conn(calls_per_day=1000))
    reasons = Counter((c.outcome, c.missed_reason) for c in calls)
    expected = {(o, r) for o, rs in MISSED_REASONS.items() for r in rs} | {("ANSWERED", None)}
    assert expected <= set(reasons)
    assert reasons[("ANSWERED", None)] / len(calls) > 0.5
    assert {c.direction for c in calls} == {"INBOUND", "OUTBOUND", "INTERNAL"}
    assert any(c.direct_to_agent for c in calls) and any(c.transfers for c in calls)
    assert any(c.is_private for c in calls) and any(c.hold_s for c in calls)
    answered = [c for c in calls if c.outcome == "ANSWERED"]
    assert sum(c.recording is not None for c in answered) / len(answered) > 0.7


def test_profile_restricts_what_is_generated() -> None:
    narrow = ProviderProfile(outcomes=frozenset({"ANSWERED", "MISSED", "VOICEMAIL"}), internal_calls=False,
                             direct_agent_access=False, hold=False)
    calls = week(truth(narrow), conn(calls_per_day=500))
    assert {c.outcome for c in calls} <= {"ANSWERED", "MISSED", "VOICEMAIL"}
    assert "INTERNAL" not in {c.direction for c in calls}
    assert not any(c.direct_to_agent or c.hold_s for c in calls)


def test_volume_follows_calls_per_day_weekends_and_business_hours() -> None:
    c = conn(calls_per_day=2000, timezone="UTC")
    t = truth()
    by_day = Counter(x.start_at.date() for x in week(t, c))
    weekday = by_day[date(2026, 1, 7)]  # Wednesday
    assert 0.85 * expected_calls(c, date(2026, 1, 7)) <= weekday <= 1.15 * expected_calls(c, date(2026, 1, 7))
    assert by_day[date(2026, 1, 10)] < weekday / 2 and by_day[date(2026, 1, 11)] < weekday / 3  # Sat, Sun
    hours = Counter(x.start_at.hour for x in t.calls(c, datetime(2026, 1, 7, tzinfo=UTC),
                                                       datetime(2026, 1, 8, tzinfo=UTC)))
    assert hours[10] > 10 * hours[3]
    tiny = t.calls(conn(calls_per_day=3), datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC))
    assert 0 < len(tiny) < 20


def test_time_zone_moves_the_peak() -> None:
    t = truth()
    day = (datetime(2026, 1, 7, tzinfo=UTC), datetime(2026, 1, 8, tzinfo=UTC))
    ny = Counter(x.start_at.hour for x in t.calls(conn(timezone="America/New_York", calls_per_day=2000), *day))
    paris = Counter(x.start_at.hour for x in t.calls(conn(timezone="Europe/Paris", calls_per_day=2000), *day))
    assert ny[16] > 3 * ny[8] and paris[9] > 3 * paris[19]


def test_calls_cross_midnight_and_change_after_their_day() -> None:
    calls = week(truth(), conn())
    assert any(c.end_at.date() > c.start_at.date() for c in calls)
    late = [c for c in calls if c.updated_at - c.end_at > timedelta(days=1)]
    assert late


def test_as_of_drops_unfinished_calls_and_later_comments() -> None:
    c = conn()
    t = truth()
    final = week(t, c)
    noteworthy = next(x for x in final if any(cm.posted_at - x.end_at > timedelta(hours=1) for cm in x.comments))
    as_of = noteworthy.end_at + timedelta(minutes=30)
    earlier = {x.call_id: x for x in week(t, c, as_of=as_of)}
    assert all(x.end_at <= as_of for x in earlier.values())
    assert len(earlier[noteworthy.call_id].comments) < len(noteworthy.comments)
    running = next(x for x in final if x.duration_s > 1200)
    midway = running.start_at + timedelta(minutes=10)
    assert running.call_id not in {x.call_id for x in week(t, c, as_of=midway)}
    assert running.call_id in {x.call_id for x in week(t, c, as_of=running.end_at)}
    assert not t.calls(c, datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC),
                       as_of=datetime(2026, 1, 4, tzinfo=UTC))


def test_history_start_and_naive_times() -> None:
    t = truth()
    assert not t.calls(conn(history_start=date(2026, 2, 1)), datetime(2026, 1, 5, tzinfo=UTC),
                       datetime(2026, 1, 6, tzinfo=UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        t.calls(conn(), datetime(2026, 1, 5), datetime(2026, 1, 6, tzinfo=UTC))


def test_directory_is_international_and_non_ascii() -> None:
    d = truth().directory(conn())
    names = {a.name for a in d.agents}
    assert {"Zoë Müller", "José Ñúñez", "张伟"} <= names
    assert all(E164.match(x.phone) for x in (*d.agents, *d.contacts)) and all(E164.match(q.number) for q in d.queues)
    assert len({x.phone[:3] for x in d.contacts}) >= 5
    assert all(a.email.isascii() for a in d.agents)
    assert len({a.agent_id for a in d.agents}) == len(d.agents)


def test_day_cache_is_bounded() -> None:
    t = Truth(lambda _: ALL, lambda: AS_OF, cache_calls=500)
    week(t, conn())
    assert t._cached <= 500 or len(t._days) == 1  # over budget only when the newest day alone is larger
    assert len(t._days) < 7


@pytest.mark.parametrize("volume", [0, 3, 40, 5_000])
def test_day_volume_is_the_number_of_calls_generated(volume: int) -> None:
    t, c = truth(), conn(calls_per_day=volume)
    for day in (date(2026, 1, 5), date(2026, 1, 10)):  # a Monday, a Saturday
        assert day_volume(c, day) == len(t.day(c, day))
