"""A process's own tree on Linux, read from /proc: its descendants, stopping them, and noticing that
its parent has died; and the signal dispositions its children inherit (`enable_interrupts`). No Dagster
here; `assets/run_guard.py` ties it to runs.

A process is named by (pid, start time) so that a pid the kernel has reused for an unrelated
process is never signalled. Only descendants of the calling process are ever signalled: nothing
here kills a process group or anything outside the caller's own subtree.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Proc:
    """One process as seen at one moment: its pid, parent, start time (clock ticks since boot) and name."""

    pid: int
    ppid: int
    start: int
    name: str


def read_proc(pid: int) -> Proc | None:
    """The process `pid`, or None when it is gone (or is a zombie, which has already ended)."""
    try:
        text = (PROC / str(pid) / "stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # The name sits in parentheses and may itself hold spaces or parentheses: split at the last one.
    head, _, rest = text.rpartition(")")
    fields = rest.split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return Proc(pid=pid, ppid=int(fields[1]), start=int(fields[19]), name=head.partition("(")[2])


def started_at(proc: Proc) -> float:
    """When `proc` started, in seconds since the epoch (to the second: the boot time is in seconds)."""
    boot = next(int(line.split()[1]) for line in (PROC / "stat").read_text().splitlines() if line.startswith("btime "))
    return boot + proc.start / os.sysconf("SC_CLK_TCK")


def all_procs() -> list[Proc]:
    """Every process visible in /proc (those ending meanwhile are left out)."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            proc = read_proc(int(entry.name))
            if proc is not None:
                found.append(proc)
    return found


def descendants(pid: int) -> list[Proc]:
    """The living descendants of `pid`, parents before their children."""
    children: dict[int, list[Proc]] = {}
    for proc in all_procs():
        children.setdefault(proc.ppid, []).append(proc)
    found: list[Proc] = []
    frontier = [pid]
    while frontier:
        parent = frontier.pop(0)
        for child in children.get(parent, []):
            if child.pid != pid and child not in found:
                found.append(child)
                frontier.append(child.pid)
    return found


def alive(proc: Proc) -> bool:
    """Whether this very process (same pid and start time) still runs."""
    now = read_proc(proc.pid)
    return now is not None and now.start == proc.start


def _signal(proc: Proc, sig: signal.Signals) -> None:
    if alive(proc):
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, sig)


def stop_descendants(grace_s: float = 3.0, poll_s: float = 0.1) -> list[Proc]:
    """SIGTERM every descendant of this process, SIGKILL those still alive after `grace_s`; returns them.

    Children are listed again after the first signal, since a dying process may still start one.
    """
    me = os.getpid()
    stopped: list[Proc] = []
    deadline = time.monotonic() + grace_s
    while True:
        fresh = [p for p in descendants(me) if p not in stopped]
        for proc in fresh:
            _signal(proc, signal.SIGTERM)
        stopped.extend(fresh)
        living = [p for p in stopped if alive(p)]
        if not living and not fresh:
            return stopped
        if time.monotonic() >= deadline:
            break
        time.sleep(poll_s)
    for proc in [*stopped, *(p for p in descendants(me) if p not in stopped)]:
        _signal(proc, signal.SIGKILL)
        if proc not in stopped:
            stopped.append(proc)
    return stopped


def watch_parent(on_orphaned: Callable[[int], None], parent: int, poll_s: float = 0.5) -> threading.Thread:
    """Call `on_orphaned(parent)` from a daemon thread once `parent`, this process's parent when it
    started, is no longer its parent (at once if that is already so).

    The parent is gone when `getppid()` changes: the kernel re-parents an orphan to init or to the
    nearest subreaper (systemd user instances are one), so `getppid() == 1` alone would not do. Dagster
    watches its own log-tailing processes the same way. Polling holds no lock and reads no file.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        on_orphaned(parent)

    thread = threading.Thread(target=watch, name=f"parent-watch-{parent}", daemon=True)
    thread.start()
    return thread


def enable_interrupts() -> None:
    """Undo SIGINT and SIGTERM ignored as inherited (a shell starts background jobs with SIGINT ignored).

    Dagster gives SIGTERM the disposition of SIGINT, and a step's log capture stops its `tail -F` children
    with SIGTERM: with both ignored, those children outlive the run and keep its output open, so a caller
    reading that output (a script, CI) waits for ever. Called first by the command-line entry points."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
