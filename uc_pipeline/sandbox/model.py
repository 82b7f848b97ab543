"""The sandbox's shared vocabulary: the canonical call history, connections, quotas and faults. The
contract between the sandbox core and the per-provider emulators is `contract.py`.

The generator builds a provider-neutral history of `Call`s per sandbox connection; each emulator
renders those calls into its provider's native records and serves them over that provider's API.
Tests compare what the pipeline landed with `Emulator.records(...)` (native, verbatim) and what
the warehouse computed with the canonical `Call`s.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

Direction = Literal["INBOUND", "OUTBOUND", "INTERNAL"]
Outcome = Literal["ANSWERED", "MISSED", "VOICEMAIL", "ABANDONED", "BUSY", "FAILED", "BLOCKED"]

# Canonical reasons for a call that was not answered; an emulator maps them to its own values.
MISSED_REASONS: Mapping[str, tuple[str, ...]] = {
    "MISSED": ("out_of_hours", "no_agent_available", "agents_did_not_answer"),
    "ABANDONED": ("abandoned_in_ivr", "abandoned_in_queue", "short_abandoned"),
    "VOICEMAIL": ("voicemail",),
    "BUSY": ("busy",),
    "FAILED": ("failed",),
    "BLOCKED": ("blocked",),
}
SHORT_ABANDON_S = 10  # an abandon after less than this wait is "short_abandoned"


@dataclass(frozen=True, slots=True)
class Agent:
    agent_id: int
    name: str  # may hold non-ASCII characters
    email: str
    extension: str  # internal extension number, e.g. "101"
    phone: str  # E.164 direct number


@dataclass(frozen=True, slots=True)
class Queue:
    queue_id: int
    name: str
    number: str  # E.164 number (line / DID) callers dial; the 8x8 "channel"


@dataclass(frozen=True, slots=True)
class Contact:
    contact_id: int
    first_name: str
    last_name: str
    company: str | None
    phone: str  # E.164, international
    email: str | None


@dataclass(frozen=True, slots=True)
class Comment:
    comment_id: int
    agent_id: int
    content: str
    posted_at: datetime  # may be hours or days after the call ended


@dataclass(frozen=True, slots=True)
class Tag:
    tag_id: int
    name: str
    added_at: datetime  # may be after the call ended


@dataclass(frozen=True, slots=True)
class Recording:
    recording_id: int
    start_at: datetime
    end_at: datetime


@dataclass(frozen=True, slots=True)
class Call:
    """One call as it really happened, provider-neutral. All datetimes are UTC-aware."""

    call_id: int  # unique within a connection; emulators derive their native ids from it
    direction: Direction
    outcome: Outcome
    missed_reason: str | None  # one of MISSED_REASONS[outcome]; None when ANSWERED
    start_at: datetime  # the call reached the system (inbound) or was dialled (outbound)
    answered_at: datetime | None  # None unless ANSWERED
    end_at: datetime  # may fall on the next UTC day (calls that cross midnight)
    wait_s: int  # start -> answered (ANSWERED) or start -> hang-up (unanswered inbound); 0 outbound
    talk_s: int  # answered -> end minus hold; 0 when not answered
    hold_s: int
    wrap_up_s: int  # after-call work of the agent (not part of end_at - start_at)
    queue: Queue | None  # None for outbound and internal calls and direct agent access
    agent: Agent | None  # who answered / dialled; for unanswered inbound the last agent rung, or None
    contact: Contact | None  # the known contact, None when the number is unknown
    external_number: str  # E.164 of the other party, or "anonymous"; for INTERNAL the other agent's
    direct_to_agent: bool  # reached an agent's direct line without a queue (8x8 "direct agent access")
    transfers: tuple[Agent, ...]  # agents the call was transferred to, in order
    recording: Recording | None  # call recording (answered calls only)
    voicemail: Recording | None  # voicemail left by the caller (VOICEMAIL only)
    comments: tuple[Comment, ...]
    tags: tuple[Tag, ...]
    is_private: bool

    @property
    def updated_at(self) -> datetime:
        """The last time anything about the call changed (end, comments, tags)."""
        times = [self.end_at, *(c.posted_at for c in self.comments), *(t.added_at for t in self.tags)]
        return max(times)

    @property
    def duration_s(self) -> int:
        return int((self.end_at - self.start_at).total_seconds())


@dataclass(frozen=True)
class Directory:
    """The fixed people and routes of one connection."""

    agents: Sequence[Agent]
    queues: Sequence[Queue]
    contacts: Sequence[Contact]


@dataclass(frozen=True)
class ProviderProfile:
    """What a provider can express, so the generator only produces calls it could have served."""

    outcomes: frozenset[str]  # subset of Outcome
    internal_calls: bool = True
    direct_agent_access: bool = False
    # A provider that cannot report hold time gets calls without hold, so that talk time derived
    # from its timestamps (answered -> end) equals the truth.
    hold: bool = True


@dataclass(frozen=True)
class QuotaSpec:
    """`requests` per `window_s` seconds (sliding); with `penalty_s`, a rejected request starts a
    penalty during which every request is rejected and restarts it (RingCentral)."""

    requests: int
    window_s: float
    penalty_s: float | None = None


@dataclass
class FaultSpec:
    """Faults to inject for one connection; rates are probabilities per request (seeded draws)."""

    error_5xx_rate: float = 0.0  # answered 500/502/503 with the provider's error body
    storm_429: int = 0  # the next N requests are answered 429 with Retry-After
    storm_429_no_retry_after: int = 0  # the next N requests are answered 429 without Retry-After
    reset_rate: float = 0.0  # connection reset after part of the body was sent
    truncated_rate: float = 0.0  # body cut short (Content-Length says more than is sent)
    slow_rate: float = 0.0  # answer only after `slow_s` seconds (past a client timeout)
    slow_s: float = 0.0
    malformed_rate: float = 0.0  # 200 with a body that is not valid JSON/XML/CSV
    drift_extra_fields: bool = False  # records gain unknown fields
    drift_missing_optional: bool = False  # records lose optional fields
    token_expiry_after: int | None = None  # OAuth providers: access tokens die after N data requests
    wrong_credentials: bool = False  # every authentication fails
    seed: int = 0


@dataclass
class SandboxConnection:
    """One emulated account. `credentials` uses the provider's credential field names."""

    provider: str
    connection_id: str
    credentials: dict[str, str]
    seed: int = 1
    calls_per_day: int = 200
    history_start: date = date(2026, 1, 1)
    timezone: str = "UTC"  # the tenant / account time zone (8x8 renders offsets in it)
    quotas: dict[str, QuotaSpec] = field(default_factory=dict)  # empty: the emulator's defaults
    faults: FaultSpec = field(default_factory=FaultSpec)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QuotaState:
    """The quota of one (connection, group) after counting this request."""

    group: str
    limit: int
    remaining: int
    window_s: float
    reset_at: float  # UNIX seconds when a request slot frees up
    retry_after: float | None  # seconds the client must wait; set when exceeded
    exceeded: bool  # this request is over the quota (or inside a penalty): answer 429


@dataclass(frozen=True)
class Admission:
    quota: QuotaState
    fault: str | None  # "http_500" | "http_502" | "http_503" | "storm_429" | "storm_429_no_retry_after"
