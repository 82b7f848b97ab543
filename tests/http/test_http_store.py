"""The limiter's store on its own: slots held in flight until released, waits computed from the
released slots, gates shared by separate connections to one SQLite file (as separate processes
have), stale slots of dead processes expiring, and clear errors for bad limiter URLs."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from uc_pipeline.http.limiter import LimiterError, SharedLimiter, dialect_for, get_limiter


def _two(tmp_path: Path) -> tuple[SharedLimiter, SharedLimiter]:
    url = f"sqlite:///{tmp_path / 'state' / 'limiter.sqlite'}"
    return SharedLimiter(url, dialect_for(url)), SharedLimiter(url, dialect_for(url))


def test_in_flight_slots_count_until_released_and_then_for_a_window(tmp_path: Path) -> None:
    first, second = _two(tmp_path)
    key = f"conn-{uuid.uuid4().hex[:6]}/default"
    slots = [first.try_acquire(key, 2, 0.5, 60).slot for _ in range(2)]
    assert all(s is not None for s in slots)
    full = second.try_acquire(key, 2, 0.5, 60)
    assert full.slot is None and full.wait_s == pytest.approx(0.5)  # nothing released: at least a window
    first.release(key, slots[0])
    released_at = time.time()
    wait = second.try_acquire(key, 2, 0.5, 60)
    assert wait.slot is None and 0 < wait.wait_s <= 0.5 + (time.time() - released_at)
    time.sleep(wait.wait_s)
    assert second.try_acquire(key, 2, 0.5, 60).slot is not None


def test_gates_are_shared_and_only_ever_extended(tmp_path: Path) -> None:
    first, second = _two(tmp_path)
    key = f"conn-{uuid.uuid4().hex[:6]}/default"
    assert first.block(key, 0.6, "HTTP 429") == pytest.approx(0.6, abs=0.05)
    assert second.block(key, 0.1, "remaining 0") == pytest.approx(0.6, abs=0.05)  # not shortened
    blocked = second.try_acquire(key, 10, 1.0, 60)
    assert blocked.slot is None and blocked.reason == "HTTP 429" and 0.4 < blocked.wait_s <= 0.6
    time.sleep(blocked.wait_s)
    assert second.try_acquire(key, 10, 1.0, 60).slot is not None


def test_a_slot_of_a_dead_process_expires(tmp_path: Path) -> None:
    first, second = _two(tmp_path)
    key = f"conn-{uuid.uuid4().hex[:6]}/default"
    assert first.try_acquire(key, 1, 0.2, 0.2).slot is not None  # never released
    assert second.try_acquire(key, 1, 0.2, 0.2).slot is None
    time.sleep(0.45)  # stale after 0.2 s, then counted one more window
    assert second.try_acquire(key, 1, 0.2, 0.2).slot is not None


def test_memory_limiter_is_one_per_process() -> None:
    assert get_limiter("memory://") is get_limiter("memory://")


@pytest.mark.parametrize(("url", "message"), [
    ("redis://localhost", "unknown limiter_url"),
    ("sqlite:///", "names no file"),
    ("postgresql+psycopg2://postgres:pw@127.0.0.1:1/none", "cannot open the shared rate limiter"),
])
def test_bad_limiter_urls_say_what_to_fix(url: str, message: str) -> None:
    with pytest.raises(LimiterError, match=message) as info:
        SharedLimiter(url, dialect_for(url))
    assert "pw@" not in str(info.value)


def test_unwritable_sqlite_path_says_what_to_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    url = f"sqlite:///{blocker / 'limiter.sqlite'}"
    with pytest.raises(LimiterError, match="UC_LIMITER_URL"):
        SharedLimiter(url, dialect_for(url))


_OPEN_AT_ONCE = """
import sys, time
from uc_pipeline.http.limiter import get_limiter
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
print(get_limiter(sys.argv[1]).try_acquire("conn/default", 100, 1.0, 60).slot)
"""


def test_processes_opening_a_new_sqlite_file_at_once(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'fresh' / 'limiter.sqlite'}"
    start = str(time.time() + 2.0)  # every process is started and waiting by then
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [subprocess.Popen([sys.executable, "-c", _OPEN_AT_ONCE, url, start], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(4)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outputs]
    assert sorted(int(out) for out, _ in outputs) == [1, 2, 3, 4]
