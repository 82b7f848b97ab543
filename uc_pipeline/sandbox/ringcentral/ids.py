"""RingCentral native identifiers and times in the emulator: record ids, session ids, account,
extension, recording and message ids, the millisecond time format, when a record becomes visible
(15-30 s after the call ended) and the newest-first order of the call log (its per-day view). Every id is derived
from canonical ids, so it is stable across runs and requests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from uc_pipeline.sandbox.generator import ID_DAY_STRIDE
from uc_pipeline.sandbox.model import Agent, Call, Queue, SandboxConnection
from uc_pipeline.sandbox.realism import fires
from uc_pipeline.sandbox.views import ViewSpec

# Share of recorded calls whose `recording.id` is the id already carried by a call of the day before (the
# vendor's two documented records VgLcd1KWffJVzUA and ASaxDDkSZ5s42MA share 1662272004).
SHARED_RECORDING = 0.005

# Links inside records point at the production hosts, as the real API's records do; only the
# envelope's own links (uri, navigation) are built from the request's base URL.
PLATFORM = "https://platform.ringcentral.com"
MEDIA = "https://media.ringcentral.com"

SESSION_ID_BASE = 13_900_000_004  # sessionId = base + call_id * 1000
AGENT_EXT_BASE = 600_000_005  # extension id of an agent = base + agent_id * 1000
QUEUE_EXT_BASE = 700_000_005  # extension id of a call queue = base + queue_id * 1000
OWNER_EXT_ID = 590_000_005  # the admin user the JWT belongs to (token `owner_id`)
ACCOUNT_ID_BASE = 400_000_000_008
DAY_ZERO = date(2000, 1, 1)
DAY_PREFIX_BASE = 10_000  # recording id = str(base + days since DAY_ZERO) + str(canonical recording id)
ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 15
_ID_SPACE = len(ID_ALPHABET) ** ID_LENGTH
_ID_MULTIPLIER = 1_000_000_007  # prime, coprime with 62**15: the id mapping is a bijection
VISIBLE_AFTER_MIN_S = 15
VISIBLE_AFTER_SPAN_S = 16  # a record appears 15..30 s after the call ended


def iso_ms(value: datetime) -> str:
    """RingCentral's time format: UTC, milliseconds, `Z` (e.g. 2023-04-10T23:58:47.594Z)."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _digest(*parts: object) -> bytes:
    return hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()


def account_id(conn: SandboxConnection) -> str:
    """The numeric account id of a connection (`options.account_id` overrides the derived one)."""
    if conn.options.get("account_id"):
        return str(conn.options["account_id"])
    return str(ACCOUNT_ID_BASE + int.from_bytes(_digest("account", conn.connection_id)[:4]) % 10**8 * 1000)


def record_number(conn: SandboxConnection, call: Call) -> int:
    """The number `record_id` spells in base 62. The alphabet is in ASCII order and the id has a fixed
    width, so these numbers sort exactly as the ids do (sorting a day's call log need not spell them)."""
    return (call.call_id * _ID_MULTIPLIER + _record_salt(conn.connection_id, conn.seed)) % _ID_SPACE


def record_id(conn: SandboxConnection, call: Call) -> str:
    """A 15-character id like `VgLcd1KWffJVzUA`, unique per call within a connection."""
    n = record_number(conn, call)
    chars = []
    for _ in range(ID_LENGTH):
        n, r = divmod(n, len(ID_ALPHABET))
        chars.append(ID_ALPHABET[r])
    return "".join(reversed(chars))


@lru_cache(maxsize=256)
def _record_salt(connection_id: str, seed: int) -> int:
    # Sorting a day's call log computes an id per call: hash the connection once, not per call.
    return int.from_bytes(_digest("record", connection_id, seed)[:12]) % _ID_SPACE


def session_id(call: Call) -> str:
    return str(SESSION_ID_BASE + call.call_id * 1000)


def telephony_session_id(conn: SandboxConnection, call: Call) -> str:
    h = _digest("tsid", conn.connection_id, call.call_id).hex()
    return f"s-{h[:13]}z{h[13:24]}z{h[24:31]}0000"


def agent_extension_id(agent: Agent) -> int:
    return AGENT_EXT_BASE + agent.agent_id * 1000


def queue_extension_id(queue: Queue) -> int:
    return QUEUE_EXT_BASE + queue.queue_id * 1000


def queue_extension_number(queue: Queue) -> str:
    return f"8{queue.queue_id:03d}"


def recording_native_id(call: Call, recording_id: int) -> str:
    """All digits; starts with the call's UTC day so that the recording endpoint can find the call."""
    day = (call.start_at.astimezone(UTC).date() - DAY_ZERO).days
    return f"{DAY_PREFIX_BASE + day}{recording_id}"


def call_recording_native_id(conn: SandboxConnection, call: Call) -> str:
    """The `recording.id` a recorded call carries: its own, except on the share of calls
    (`SHARED_RECORDING`) that carry the id of the call with the same number the day
    before, as the vendor's documented records VgLcd1KWffJVzUA and ASaxDDkSZ5s42MA share 1662272004."""
    if call.recording is None:
        raise ValueError(f"call {call.call_id} has no recording")
    if not fires("ringcentral_shared_recording", conn, call.call_id, SHARED_RECORDING):
        return recording_native_id(call, call.recording.recording_id)
    day_before = (call.start_at.astimezone(UTC).date() - DAY_ZERO).days - 1
    return f"{DAY_PREFIX_BASE + day_before}{call.recording.recording_id - 10 * ID_DAY_STRIDE}"


def recording_lookup_day(native_id: str) -> tuple[date, int] | None:
    """(UTC day of the call, canonical recording id) of a native recording id, or None."""
    if not native_id.isdigit() or len(native_id) < 6:
        return None
    try:
        return DAY_ZERO + timedelta(days=int(native_id[:5]) - DAY_PREFIX_BASE), int(native_id[5:])
    except OverflowError:
        return None


def visible_at(conn: SandboxConnection, call: Call) -> datetime:
    """When the record appears in the call log: 15-30 s after the call ended (fixed per call)."""
    delay = VISIBLE_AFTER_MIN_S + _digest("visible", conn.connection_id, call.call_id)[0] % VISIBLE_AFTER_SPAN_S
    return call.end_at + timedelta(seconds=delay)


def sort_key(conn: SandboxConnection, call: Call) -> tuple[datetime, str]:
    """The call log is served newest first: sort by this key, descending."""
    return call.start_at, record_id(conn, call)


class CallLogView(ViewSpec):
    """What the call log lists of a day: every call whose record has appeared (15-30 s after its
    end), in the order the log is served newest first from: (startTime, id); keyed by startTime."""

    name = "ringcentral.call_log"

    def visible(self, conn: SandboxConnection, call: Call, as_of: datetime) -> bool:
        return call.end_at <= as_of and visible_at(conn, call) <= as_of

    def changes(self, conn: SandboxConnection, call: Call) -> Iterator[datetime]:
        yield from super().changes(conn, call)
        yield visible_at(conn, call)

    def sort(self, conn: SandboxConnection, calls: list[Call]) -> None:
        calls.sort(key=lambda c: (c.start_at, record_number(conn, c)))  # the order of `sort_key`


CALL_LOG = CallLogView()


def main_number(conn: SandboxConnection) -> str:
    """The account's main company number: what a direct call whose agent is unknown was dialled to."""
    return f"+1650555{int.from_bytes(_digest('main', conn.connection_id)[:2]) % 10_000:04d}"
