"""Quotas (exact sliding window, penalty restart) and fault drawing, counting and drift."""

from __future__ import annotations

import threading

import pytest

from uc_pipeline.sandbox import FaultSpec, QuotaSpec
from uc_pipeline.sandbox.faults import FaultInjector, fault_spec_from
from uc_pipeline.sandbox.quota import QuotaBook


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def mono(self) -> float:
        return self.t

    def wall(self) -> float:
        return self.t + 1_700_000_000


def book() -> tuple[QuotaBook, FakeTime]:
    ft = FakeTime()
    return QuotaBook(monotonic=ft.mono, wall=ft.wall), ft


def test_sliding_window_allows_exactly_n() -> None:
    qb, ft = book()
    spec = QuotaSpec(3, 10.0)
    states = []
    for _ in range(3):
        states.append(qb.hit("c", "default", spec))
        ft.t += 1
    assert [s.exceeded for s in states] == [False, False, False]
    assert [s.remaining for s in states] == [2, 1, 0]
    assert states[0].reset_at == 1010.0 + 1_700_000_000
    over = qb.hit("c", "default", spec)  # t=1003: the first slot frees at 1010
    assert over.exceeded and over.retry_after == pytest.approx(7.0) and over.remaining == 0
    ft.t = 1009.999
    assert qb.hit("c", "default", spec).exceeded
    ft.t = 1010.0  # the first request left the window (rejected ones never took a slot)
    assert not qb.hit("c", "default", spec).exceeded
    assert qb.hit("c", "default", spec).exceeded
    assert not qb.hit("other", "default", spec).exceeded and not qb.hit("c", "auth", spec).exceeded


def test_penalty_restarts_on_every_request_inside_it() -> None:
    qb, ft = book()
    spec = QuotaSpec(2, 60.0, penalty_s=30.0)
    assert not qb.hit("rc", "default", spec).exceeded
    assert not qb.hit("rc", "default", spec).exceeded
    first = qb.hit("rc", "default", spec)
    assert first.exceeded and first.retry_after == pytest.approx(60.0)  # the window frees later than the penalty
    ft.t += 61  # window is empty again, but the penalty was restarted by nobody: it ended at 1030
    assert not qb.hit("rc", "default", spec).exceeded
    assert not qb.hit("rc", "default", spec).exceeded
    assert qb.hit("rc", "default", spec).exceeded  # penalty until t+30
    ft.t += 20
    again = qb.hit("rc", "default", spec)  # inside the penalty: rejected, penalty restarts to t+30
    assert again.exceeded and again.retry_after == pytest.approx(40.0)  # window slot frees at 1061+60
    ft.t += 29
    assert qb.hit("rc", "default", spec).exceeded  # still inside the restarted penalty


def test_penalty_alone_blocks_when_window_has_room() -> None:
    qb, ft = book()
    spec = QuotaSpec(1, 1.0, penalty_s=5.0)
    qb.hit("rc", "auth", spec)
    assert qb.hit("rc", "auth", spec).exceeded
    ft.t += 2  # window free, penalty (until 1005) not over
    state = qb.hit("rc", "auth", spec)
    assert state.exceeded and state.retry_after == pytest.approx(5.0) and state.remaining == 0
    ft.t += 5.0
    assert not qb.hit("rc", "auth", spec).exceeded


def test_quota_is_thread_safe() -> None:
    qb = QuotaBook()
    spec = QuotaSpec(500, 3600.0)
    results: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        local = [qb.hit("c", "default", spec).exceeded for _ in range(200)]
        with lock:
            results.extend(local)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(False) == 500 and results.count(True) == 300


def test_pre_response_faults_are_seeded_and_counted() -> None:
    def run() -> tuple[list, dict]:
        fi = FaultInjector()
        fi.register("c", FaultSpec(error_5xx_rate=0.3, storm_429=2, storm_429_no_retry_after=1, seed=7,
                                   slow_rate=0.1, slow_s=0.5))
        return [fi.draw_pre_response("c") for _ in range(200)], fi.counts("c")

    draws, counts = run()
    assert draws == run()[0]
    assert [d[0] for d in draws[:3]] == ["storm_429", "storm_429", "storm_429_no_retry_after"]
    assert counts["storm_429"] == 2 and counts["storm_429_no_retry_after"] == 1
    kinds = [d[0] for d in draws[3:] if d[0]]
    assert 30 < len(kinds) < 90 and set(kinds) == {"http_500", "http_502", "http_503"}
    assert sum(counts[k] for k in ("http_500", "http_502", "http_503")) == len(kinds)
    assert counts["slow"] == sum(1 for d in draws if d[1] == 0.5) > 0


def test_body_faults_and_runtime_changes() -> None:
    fi = FaultInjector()
    fi.register("c", FaultSpec())
    assert {fi.draw_body("c") for _ in range(50)} == {None}
    fi.set("c", {"reset_rate": 0.2, "truncated_rate": 0.2, "malformed_rate": 0.2})
    drawn = [fi.draw_body("c") for _ in range(300)]
    assert {"reset", "truncated", "malformed", None} == set(drawn)
    assert fi.counts("c")["malformed"] == drawn.count("malformed")
    merged = fi.set("c", {"storm_429": 1}, merge=True)
    assert merged.reset_rate == 0.2 and merged.storm_429 == 1
    assert fi.set("c", {"storm_429": 1}).reset_rate == 0.0  # replace
    with pytest.raises(ValueError, match="unknown fault field"):
        fi.set("c", {"error_rate": 1})
    with pytest.raises(ValueError, match="probability"):
        fault_spec_from({"reset_rate": 2})
    with pytest.raises(KeyError, match="unknown sandbox connection"):
        fi.counts("nope")


def test_token_expiry_and_wrong_credentials() -> None:
    fi = FaultInjector()
    fi.register("rc", FaultSpec(token_expiry_after=3))
    fired = [fi.fires("rc", "token_expiry") for _ in range(8)]
    assert fired == [False, False, False, True, False, False, False, True]
    assert fi.counts("rc")["token_expiry"] == 2
    assert not fi.fires("rc", "wrong_credentials")
    fi.set("rc", {"wrong_credentials": True})
    assert fi.fires("rc", "wrong_credentials") and fi.counts("rc")["wrong_credentials"] == 1


def test_drift_is_deterministic_per_record() -> None:
    fi = FaultInjector()
    fi.register("c", FaultSpec())
    rec = {"id": 1, "agent": "x", "queue": "q", "tags": []}
    assert fi.drift("c", rec, ["agent", "queue"]) is rec  # off: untouched
    fi.set("c", {"drift_extra_fields": True, "drift_missing_optional": True})
    records = [{"id": i, "agent": "x", "queue": "q", "tags": []} for i in range(40)]
    drifted = [fi.drift("c", r, ["agent", "queue", "absent"]) for r in records]
    assert drifted == [fi.drift("c", r, ["agent", "queue", "absent"]) for r in records]
    assert all(set(d) - set(r) for d, r in zip(drifted, records, strict=True))  # gained fields
    assert all({"agent", "queue"} - set(d) for d in drifted)  # lost at least one optional key
    assert {frozenset({"agent", "queue"} & set(d)) for d in drifted} > {frozenset()}  # mixed
    assert all(d["id"] == r["id"] and d["tags"] == [] for d, r in zip(drifted, records, strict=True))
    assert records[0] == {"id": 0, "agent": "x", "queue": "q", "tags": []}  # input not mutated
    assert fi.counts("c")["drift_extra_fields"] == 80
