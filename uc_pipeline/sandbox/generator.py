"""The call generator: one UTC day of a connection's history, deterministic for (seed, connection_id,
day, volume, time zone, provider profile).

Volume follows a daily curve in the connection's time zone (business-hours peak, few calls at night,
fewer at weekends); `calls_per_day` is the volume of a weekday. Public holidays (`realism.QUIET_DAYS`)
hold one or two calls whatever the volume, as a closed contact center's real days do. Outcomes,
reasons and directions are drawn with realistic weights restricted to what the provider profile can
express. Every `Call` keeps the invariants documented in model.py. Unanswered outbound and internal
calls ring for a while that no field records: their `end_at` is after `start_at` while `wait_s` stays 0.
"""

from __future__ import annotations

import dataclasses
import random
from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from uc_pipeline.sandbox.directory import NUMBER_PLANS
from uc_pipeline.sandbox.model import (
    SHORT_ABANDON_S,
    Agent,
    Call,
    Comment,
    Directory,
    ProviderProfile,
    Recording,
    SandboxConnection,
    Tag,
)
from uc_pipeline.sandbox.realism import is_quiet_day

# Relative call volume per local hour of a weekday, and per weekday (Monday first).
HOUR_CURVE = (0.4, 0.25, 0.2, 0.2, 0.25, 0.5, 1.5, 4.0, 8.0, 10.0, 10.0, 9.5,
              8.0, 8.5, 9.5, 9.0, 8.0, 6.0, 3.5, 2.0, 1.5, 1.2, 0.9, 0.6)
DAY_FACTOR = (1.0, 1.0, 1.0, 1.0, 0.95, 0.35, 0.2)
ID_DAY_STRIDE = 10_000_000  # call_id = day ordinal * stride + index: unique per connection, stable
MAX_CALLS_PER_DAY = 2_000_000
ID_EPOCH = date(2000, 1, 1)
CROSS_MIDNIGHT_MIN_VOLUME = 10  # days expecting at least this many calls get a long call over midnight
QUIET_DAY_MEAN = 1.5  # a quiet day holds one or two calls, evenly

# (outcome, reason, weight) per situation; filtered by the provider profile, then renormalized.
INBOUND_OPEN = (("ANSWERED", None, 72.0), ("MISSED", "no_agent_available", 3.0),
                ("MISSED", "agents_did_not_answer", 5.0), ("VOICEMAIL", "voicemail", 5.0),
                ("ABANDONED", "abandoned_in_queue", 6.0), ("ABANDONED", "abandoned_in_ivr", 3.0),
                ("ABANDONED", "short_abandoned", 3.0), ("BUSY", "busy", 1.0), ("FAILED", "failed", 1.0),
                ("BLOCKED", "blocked", 1.0))
INBOUND_CLOSED = (("ANSWERED", None, 15.0), ("MISSED", "out_of_hours", 60.0), ("VOICEMAIL", "voicemail", 20.0),
                  ("ABANDONED", "abandoned_in_ivr", 4.0), ("BLOCKED", "blocked", 1.0))
OUTBOUND = (("ANSWERED", None, 72.0), ("BUSY", "busy", 10.0), ("FAILED", "failed", 18.0))
INTERNAL = (("ANSWERED", None, 85.0), ("MISSED", "agents_did_not_answer", 10.0), ("BUSY", "busy", 5.0))
COMMENTS = ("Customer asked for a callback tomorrow.", "Rückruf erbeten – Vertrag prüfen.",
            "Client très satisfait de la réponse.", "需要跟进：发票问题", "Escalated to L2, ticket opened.",
            "Wrong number.", "Cliente pide factura rectificada.", "Left details by e-mail 📧")
TAG_NAMES = ("VIP", "Callback", "Complaint", "Sales lead", "Résiliation", "Billing issue", "Churn risk", "跟进")


@lru_cache(maxsize=64)
def _table(outcomes: frozenset[str], situation: str) -> tuple[tuple[tuple[str, str | None], ...], tuple[float, ...]]:
    rows = {"open": INBOUND_OPEN, "closed": INBOUND_CLOSED, "outbound": OUTBOUND, "internal": INTERNAL}[situation]
    allowed = [r for r in rows if r[0] in outcomes]
    if not allowed and situation == "closed":
        return _table(outcomes, "open")
    if not allowed:
        allowed = [("ANSWERED", None, 1.0)]
    cum: list[float] = []
    total = 0.0
    for row in allowed:
        total += row[2]
        cum.append(total)
    return tuple((r[0], r[1]) for r in allowed), tuple(cum)


def hour_weights(conn: SandboxConnection, day: date) -> list[tuple[float, bool]]:
    """(relative volume, open for business) of each UTC hour of `day` in the connection's time zone."""
    tz = ZoneInfo(conn.timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    out = []
    for h in range(24):
        local = (start + timedelta(hours=h)).astimezone(tz)
        wd = local.weekday()
        is_open = (wd < 5 and 8 <= local.hour < 19) or (wd == 5 and 9 <= local.hour < 13)
        out.append((HOUR_CURVE[local.hour] * DAY_FACTOR[wd], is_open))
    return out


def expected_calls(conn: SandboxConnection, day: date) -> float:
    """Mean number of calls starting on UTC `day` (before the per-day jitter)."""
    if is_quiet_day(day) and conn.calls_per_day > 0:
        return QUIET_DAY_MEAN
    return conn.calls_per_day * sum(w for w, _ in hour_weights(conn, day)) / sum(HOUR_CURVE)


def _draw_volume(conn: SandboxConnection, day: date) -> tuple[random.Random, list[tuple[float, bool]], float, int]:
    """The day's generator, hour weights, mean volume and drawn volume (before the call over midnight)."""
    if conn.calls_per_day < 0 or conn.calls_per_day > MAX_CALLS_PER_DAY:
        raise ValueError(f"{conn.connection_id}: calls_per_day must be between 0 and {MAX_CALLS_PER_DAY}")
    rng = random.Random(f"calls:{conn.seed}:{conn.connection_id}:{day.isoformat()}:{conn.calls_per_day}")
    weights = hour_weights(conn, day)
    if is_quiet_day(day) and conn.calls_per_day > 0:
        return rng, weights, QUIET_DAY_MEAN, 1 + (rng.random() < 0.5)
    expected = conn.calls_per_day * sum(w for w, _ in weights) / sum(HOUR_CURVE)
    return rng, weights, expected, int(expected * rng.uniform(0.92, 1.08) + rng.random())


def day_volume(conn: SandboxConnection, day: date) -> int:
    """How many calls `generate_day` makes for UTC `day`, without making them (benchmarks size a day
    by it)."""
    _, _, expected, n = _draw_volume(conn, day)
    return n + (expected >= CROSS_MIDNIGHT_MIN_VOLUME)


def generate_day(
    conn: SandboxConnection, profile: ProviderProfile, directory: Directory, day: date
) -> tuple[Call, ...]:
    """Every call starting on UTC `day`, sorted by (start_at, call_id), as finally known."""
    rng, weights, expected, n = _draw_volume(conn, day)
    day_start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    hours = rng.choices(range(24), weights=[w for w, _ in weights], k=n) if n else []
    rand = rng.random
    offsets = sorted(h * 3600 + int(rand() * 3600) for h in hours)
    late = expected >= CROSS_MIDNIGHT_MIN_VOLUME
    if late:
        offsets.append(23 * 3600 + 40 * 60 + rng.randrange(20 * 60))
        offsets.sort()
    factory = _CallFactory(rng, profile, directory)
    base_id = (day - ID_EPOCH).days * ID_DAY_STRIDE
    calls = []
    late_done = not late
    for i, off in enumerate(offsets):
        start_at = day_start + timedelta(seconds=off)
        force_long = not late_done and off >= 23 * 3600 + 40 * 60
        late_done = late_done or force_long
        calls.append(factory.make(base_id + i + 1, start_at, weights[off // 3600][1], force_long))
    return tuple(calls)


_T = TypeVar("_T")
_CALL_FIELDS = tuple(f.name for f in dataclasses.fields(Call))
# Setting the slots directly skips the frozen dataclass's per-field object.__setattr__ (3x faster).
_CALL_SLOTS = tuple(getattr(Call, name, None) for name in _CALL_FIELDS)


def _new_call(*values: Any) -> Call:
    """A `Call` from its field values in declaration order."""
    if not all(hasattr(s, "__set__") for s in _CALL_SLOTS):
        return Call(*values)
    call = object.__new__(Call)
    for slot, value in zip(_CALL_SLOTS, values, strict=True):
        slot.__set__(call, value)
    return call


class _CallFactory:
    """Draws one call's attributes; all randomness comes from the day's generator."""

    def __init__(self, rng: random.Random, profile: ProviderProfile, directory: Directory) -> None:
        self.rng = rng
        self.profile = profile
        self.agents: Sequence[Agent] = directory.agents
        self.queues = directory.queues
        self.contacts = directory.contacts
        inbound, outbound = (0.62, 0.30) if profile.internal_calls else (0.66, 0.34)
        self.dir_cum = (inbound, inbound + outbound)
        self.tables = {k: _table(profile.outcomes, k) for k in ("open", "closed", "outbound", "internal")}
        self._msg_s = 0  # voicemail message length drawn by _unanswered
        self.rand = rng.random

    # Indexing with random() is several times faster than Random.choice/randrange, which matters at
    # 100,000 calls a day.
    def _choice(self, seq: Sequence[_T]) -> _T:
        return seq[int(self.rand() * len(seq))]

    def _int(self, low: int, high: int) -> int:
        return low + int(self.rand() * (high - low))

    def _number(self) -> str:
        code, prefix, digits = self._choice(NUMBER_PLANS)
        return f"+{code}{prefix}{self._int(10 ** (digits - 1), 10 ** digits)}"

    def _pick(self, situation: str) -> tuple[str, str | None]:
        rows, cum = self.tables[situation]
        return rows[bisect_right(cum, self.rand() * cum[-1])]

    def make(self, call_id: int, start_at: datetime, is_open: bool, force_long: bool) -> Call:
        rng = self.rng
        r = rng.random()
        if force_long or r < self.dir_cum[0]:
            direction = "INBOUND"
        else:
            direction = "OUTBOUND" if r < self.dir_cum[1] else "INTERNAL"
        agent = self._choice(self.agents)
        queue = None
        contact = None
        direct = False
        if direction == "INBOUND":
            outcome, reason = ("ANSWERED", None) if force_long else self._pick("open" if is_open else "closed")
            direct = self.profile.direct_agent_access and rng.random() < 0.1
            queue = None if direct else self._choice(self.queues)
            if rng.random() < 0.04:
                number = "anonymous"
            elif rng.random() < 0.55:
                contact = self._choice(self.contacts)
                number = contact.phone
            else:
                number = self._number()
        elif direction == "OUTBOUND":
            outcome, reason = self._pick("outbound")
            if rng.random() < 0.7:
                contact = self._choice(self.contacts)
                number = contact.phone
            else:
                number = self._number()
        else:
            outcome, reason = self._pick("internal")
            other = self._choice(self.agents)
            number = other.phone
        wait = talk = hold = wrap = 0
        answered_at = recording = voicemail = None
        transfers: tuple[Agent, ...] = ()
        if outcome == "ANSWERED":
            if direction == "INBOUND":
                wait = int(min(600.0, 2 + rng.lognormvariate(2.7, 0.8)))
            talk = int(min(7200.0, max(5.0, rng.lognormvariate(5.2, 0.9))))
            if force_long:
                talk = self._int(1500, 3600)
            if self.profile.hold and rng.random() < 0.2:
                hold = self._int(10, 300)
            wrap = self._int(0, 180)
            answered_at = start_at + timedelta(seconds=wait)
            end_at = answered_at + timedelta(seconds=talk + hold)
            if rng.random() < 0.85:
                recording = Recording(call_id * 10 + 1, answered_at, end_at)
            if direction == "INBOUND" and rng.random() < 0.07 and len(self.agents) > 2:
                transfers = tuple(a for a in rng.sample(self.agents, 3) if a is not agent)[: self._choice((1, 1, 1, 2))]
        else:
            if direction == "INBOUND":
                wait, agent = self._unanswered(reason, direct, agent)
                end_at = start_at + timedelta(seconds=wait)
                if outcome == "VOICEMAIL":
                    voicemail = Recording(call_id * 10 + 2, end_at - timedelta(seconds=self._msg_s), end_at)
            else:
                end_at = start_at + timedelta(seconds=self._int(3, 45))
        comments = self._comments(call_id, end_at, agent) if rng.random() < 0.12 else ()
        tags = self._tags(end_at) if rng.random() < 0.2 else ()
        return _new_call(
            call_id, direction, outcome, reason, start_at, answered_at, end_at, wait, talk, hold, wrap, queue, agent,
            contact, number, direct, transfers, recording, voicemail, comments, tags,
            direction == "INBOUND" and rng.random() < 0.02,
        )

    def _unanswered(self, reason: str | None, direct: bool, agent: Agent) -> tuple[int, Agent | None]:
        """(wait until hang-up, last agent rung or None) of an unanswered inbound call."""
        rng = self.rng
        self._msg_s = 0
        if reason == "short_abandoned":
            return self._int(1, SHORT_ABANDON_S), None
        if reason == "abandoned_in_queue":
            return self._int(SHORT_ABANDON_S, 300), agent if rng.random() < 0.5 else None
        if reason == "abandoned_in_ivr":
            return self._int(SHORT_ABANDON_S, 120), None
        if reason == "agents_did_not_answer":
            return self._int(30, 120), agent
        if reason in ("out_of_hours", "no_agent_available"):
            return self._int(5, 45), agent if direct else None
        if reason == "voicemail":
            self._msg_s = self._int(8, 120)
            return self._int(20, 45) + self._msg_s, agent if direct or rng.random() < 0.5 else None
        return self._int(0, 5), None  # busy, failed, blocked

    def _comments(self, call_id: int, end_at: datetime, agent: Agent | None) -> tuple[Comment, ...]:
        rng = self.rng
        out = []
        for k in range(self._choice((1, 1, 1, 2, 3))):
            r = rng.random()
            # Most notes are written right after the call; some hours or days later.
            delay = self._int(10, 600) if r < 0.6 else self._int(3600, 12 * 3600) if r < 0.9 \
                else self._int(86400, 5 * 86400)
            author = agent if agent is not None and rng.random() < 0.8 else self._choice(self.agents)
            out.append(Comment(call_id * 10 + k + 1, author.agent_id, self._choice(COMMENTS),
                               end_at + timedelta(seconds=delay)))
        return tuple(sorted(out, key=lambda c: (c.posted_at, c.comment_id)))

    def _tags(self, end_at: datetime) -> tuple[Tag, ...]:
        rng = self.rng
        out = []
        for idx in sorted(rng.sample(range(len(TAG_NAMES)), self._choice((1, 1, 2)))):
            delay = self._int(0, 120) if rng.random() < 0.7 else self._int(3600, 3 * 86400)
            out.append(Tag(300 + idx + 1, TAG_NAMES[idx], end_at + timedelta(seconds=delay)))
        return tuple(out)
