"""How sparse the sandbox's records are: the rates at which the emulators leave out or change what real
providers leave out or change, and the deterministic draws that apply them.

The rates, and the vendor sample or document each comes from, are tabled in `README.md` ("Sparsity");
each provider's own rates live in its emulator package (e.g. `zendesk/render.py`), this module holds the
shared ones and the draws.
A draw is a hash of (what, seed, connection, call), never the day's random generator, so a rate changes
no other value of the generated history: the ground truth (`truth.py`) stays exactly what happened, and
only the way an emulator renders it becomes as sparse as real payloads. The same seed always gives the
same sparsity.
"""

from __future__ import annotations

import hashlib
from datetime import date

from uc_pipeline.sandbox.model import SandboxConnection

# Days with one or two calls: public holidays that nearly every contact center closes for (month, day).
QUIET_DAYS = frozenset({(1, 1), (5, 1), (12, 25), (12, 26)})


def fires(what: str, conn: SandboxConnection | None, key: object, rate: float) -> bool:
    """Whether the `rate` draw `what` fires for `key` (a call id, ...) of `conn`; the same at every run."""
    if rate <= 0.0:
        return False
    scope = f"{conn.seed}|{conn.connection_id}" if conn is not None else "-"
    digest = hashlib.sha256(f"{what}|{scope}|{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < rate * 2**64


def option_rate(conn: SandboxConnection, name: str, default: float = 0.0) -> float:
    """A rate from the connection's options (`default` when absent), checked to be a probability."""
    raw = conn.options.get(name, default)
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0.0 <= raw <= 1.0:
        raise ValueError(f"{conn.connection_id}: option {name} must be a number from 0 to 1, got {raw!r}")
    return float(raw)


def option_date(conn: SandboxConnection, name: str, default: date) -> date:
    raw = conn.options.get(name, default)
    try:
        return raw if isinstance(raw, date) else date.fromisoformat(str(raw))
    except ValueError:
        raise ValueError(f"{conn.connection_id}: option {name} must be a date (YYYY-MM-DD), got {raw!r}") from None


def is_quiet_day(day: date) -> bool:
    return (day.month, day.day) in QUIET_DAYS
