"""Fault injection per connection: seeded draws of 5xx answers, 429 storms, slow answers, broken
bodies (reset, truncated, malformed), schema drift and emulator-specific faults; every injected fault
is counted by kind. The spec of a connection can be replaced at run time."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import threading
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from uc_pipeline.sandbox.model import FaultSpec

PRE_RESPONSE_KINDS = ("http_500", "http_502", "http_503", "storm_429", "storm_429_no_retry_after")
BODY_KINDS = ("reset", "truncated", "malformed")
_FIELDS = {f.name for f in dataclasses.fields(FaultSpec)}


def fault_spec_from(data: Mapping[str, Any] | FaultSpec, base: FaultSpec | None = None) -> FaultSpec:
    """A FaultSpec from a mapping (fields not given keep `base`'s values, else the defaults);
    unknown fields or bad values raise ValueError naming the accepted fields."""
    if isinstance(data, FaultSpec):
        return dataclasses.replace(data)
    if not isinstance(data, Mapping):
        raise ValueError("a fault spec must be a JSON object of FaultSpec fields")
    unknown = set(data) - _FIELDS
    if unknown:
        raise ValueError(f"unknown fault field(s) {sorted(unknown)}; accepted: {', '.join(sorted(_FIELDS))}")
    spec = dataclasses.replace(base) if base is not None else FaultSpec()
    for name, value in data.items():
        setattr(spec, name, value)
    for name in ("error_5xx_rate", "reset_rate", "truncated_rate", "slow_rate", "malformed_rate"):
        rate = getattr(spec, name)
        if not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault field {name} must be a probability between 0 and 1, got {rate!r}")
    for name in ("storm_429", "storm_429_no_retry_after", "seed"):
        if not isinstance(getattr(spec, name), int) or getattr(spec, name) < 0:
            raise ValueError(f"fault field {name} must be a non-negative integer")
    if not isinstance(spec.slow_s, int | float) or spec.slow_s < 0:
        raise ValueError("fault field slow_s must be a non-negative number of seconds")
    if spec.token_expiry_after is not None and (not isinstance(spec.token_expiry_after, int)
                                                or spec.token_expiry_after < 1):
        raise ValueError("fault field token_expiry_after must be null or a positive integer")
    return spec


class _ConnectionFaults:
    def __init__(self, connection_id: str, spec: FaultSpec) -> None:
        self.connection_id = connection_id
        self.counts: Counter[str] = Counter()
        self.set(spec)

    def set(self, spec: FaultSpec, changed: Collection[str] | None = None) -> None:
        """Install `spec`; with `changed`, only the named fields restart (a merge keeps running storms)."""
        def restarts(name: str) -> bool:
            return changed is None or name in changed

        self.spec = spec
        if restarts("seed"):
            self.rng = random.Random(f"faults:{spec.seed}:{self.connection_id}")
        if restarts("storm_429"):
            self.storm = spec.storm_429
        if restarts("storm_429_no_retry_after"):
            self.storm_no_retry_after = spec.storm_429_no_retry_after
        if restarts("token_expiry_after"):
            self.token_uses = 0


class FaultInjector:
    """The faults of every connection; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_connection: dict[str, _ConnectionFaults] = {}

    def register(self, connection_id: str, spec: FaultSpec) -> None:
        with self._lock:
            self._by_connection[connection_id] = _ConnectionFaults(connection_id, dataclasses.replace(spec))

    def set(self, connection_id: str, spec: FaultSpec | Mapping[str, Any], *, merge: bool = False) -> FaultSpec:
        """Replace the spec of a connection (storms and draws restart), or with `merge` change only the
        given fields (only those restart)."""
        with self._lock:
            state = self._state(connection_id)
            new = fault_spec_from(spec, base=state.spec if merge else None)
            changed = set(spec) if merge and isinstance(spec, Mapping) else None
            state.set(new, changed)
            return dataclasses.replace(new)

    def spec(self, connection_id: str) -> FaultSpec:
        with self._lock:
            return dataclasses.replace(self._state(connection_id).spec)

    def counts(self, connection_id: str) -> dict[str, int]:
        with self._lock:
            return dict(self._state(connection_id).counts)

    def connection_ids(self) -> list[str]:
        with self._lock:
            return list(self._by_connection)

    def draw_pre_response(self, connection_id: str) -> tuple[str | None, float]:
        """(fault kind or None, seconds to delay the answer) for one admitted request."""
        with self._lock:
            state = self._state(connection_id)
            spec, rng = state.spec, state.rng
            fault: str | None = None
            if state.storm > 0:
                state.storm -= 1
                fault = "storm_429"
            elif state.storm_no_retry_after > 0:
                state.storm_no_retry_after -= 1
                fault = "storm_429_no_retry_after"
            elif spec.error_5xx_rate and rng.random() < spec.error_5xx_rate:
                fault = rng.choice(("http_500", "http_502", "http_503"))
            delay = 0.0
            if spec.slow_rate and spec.slow_s and rng.random() < spec.slow_rate:
                delay = float(spec.slow_s)
                state.counts["slow"] += 1
            if fault:
                state.counts[fault] += 1
            return fault, delay

    def draw_body(self, connection_id: str) -> str | None:
        """"reset", "truncated", "malformed" or None for one successful response."""
        with self._lock:
            state = self._state(connection_id)
            spec, rng = state.spec, state.rng
            for kind, rate in (("reset", spec.reset_rate), ("truncated", spec.truncated_rate),
                               ("malformed", spec.malformed_rate)):
                if rate and rng.random() < rate:
                    state.counts[kind] += 1
                    return kind
            return None

    def fires(self, connection_id: str, kind: str) -> bool:
        """Emulator-specific faults. "token_expiry": call once per data request made with a valid token;
        fires on the request after `token_expiry_after` uses (the token died) and starts over.
        "wrong_credentials": whether every authentication must fail. Other kinds: the spec's
        `<kind>_rate` drawn, when such a field exists."""
        with self._lock:
            state = self._state(connection_id)
            spec = state.spec
            if kind == "token_expiry":
                if spec.token_expiry_after is None:
                    return False
                state.token_uses += 1
                fired = state.token_uses > spec.token_expiry_after
                if fired:
                    state.token_uses = 0
            elif kind == "wrong_credentials":
                fired = bool(spec.wrong_credentials)
            else:
                rate = getattr(spec, f"{kind}_rate", 0.0)
                fired = bool(rate) and state.rng.random() < rate
            if fired:
                state.counts[kind] += 1
            return fired

    def drift(self, connection_id: str, record: dict[str, Any], optional: Sequence[str]) -> dict[str, Any]:
        """`record` with schema drift when enabled: deterministic per (connection, seed, record content)."""
        with self._lock:
            state = self._state(connection_id)
            spec = state.spec
            if not (spec.drift_extra_fields or spec.drift_missing_optional):
                return record
            digest = hashlib.sha256(
                f"{spec.seed}:{connection_id}:".encode() + json.dumps(record, sort_keys=True, default=str).encode()
            ).digest()
            out = dict(record)
            if spec.drift_extra_fields:
                out.update(_extra_fields(digest))
                state.counts["drift_extra_fields"] += 1
            present = [k for k in optional if k in out]
            if spec.drift_missing_optional and present:
                # Each optional key goes with probability 1/2, at least one per record.
                gone = [k for i, k in enumerate(present) if digest[8 + i % 24] & 1]
                gone = gone or [present[digest[7] % len(present)]]
                for key in gone:
                    del out[key]
                state.counts["drift_missing_optional"] += 1
            return out

    def _state(self, connection_id: str) -> _ConnectionFaults:
        state = self._by_connection.get(connection_id)
        if state is None:
            raise KeyError(f"unknown sandbox connection {connection_id!r}; known: {sorted(self._by_connection)}")
        return state


def _extra_fields(digest: bytes) -> dict[str, Any]:
    """One to three fields an API could add in a new version, with varied JSON types."""
    candidates: list[tuple[str, Any]] = [
        ("sentiment_score", round(digest[0] / 255, 3)),
        ("ai_summary", "Résumé généré automatiquement – 自动摘要"),
        ("routing_metadata", {"version": digest[1] % 5 + 1, "experiment": bool(digest[2] & 1)}),
        ("labels_v2", [f"label-{digest[3] % 7}", f"label-{digest[4] % 7}"]),
        ("region_code", None),
    ]
    start = digest[5] % len(candidates)
    count = digest[6] % 3 + 1
    return dict(candidates[(start + i) % len(candidates)] for i in range(count))
