"""A command started as a background job (SIGINT inherited ignored): Dagster gives SIGTERM the disposition of
SIGINT, so without `enable_interrupts` every process a run starts ignores SIGTERM, and a step's log tails,
which Dagster stops with SIGTERM, outlive the run and hold its output open (a caller reading it waits for
ever). The entry points undo the inherited ignore first."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

CHILD = """
import subprocess, sys
from dagster._utils.interrupts import setup_interrupt_handlers
from uc_pipeline.process_tree import enable_interrupts
if sys.argv[1] == "enable":
    enable_interrupts()
setup_interrupt_handlers()  # what Dagster's processes do
grandchild = subprocess.Popen(["sleep", "30"])
status = open(f"/proc/{grandchild.pid}/status").read()
grandchild.kill()
print(int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:")), 16))
"""


def ignored_by_grandchild(mode: str) -> set[signal.Signals]:
    def background_job() -> None:  # what a shell does to a job started with `&`
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    out = subprocess.run([sys.executable, "-c", CHILD, mode], preexec_fn=background_job, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    mask = int(out.split()[-1])
    return {s for s in (signal.SIGINT, signal.SIGTERM) if mask & (1 << (s - 1))}


@pytest.mark.parametrize("mode", ["enable", "inherited"])
def test_a_background_job_starts_processes_that_sigterm_stops_once_interrupts_are_enabled(mode: str) -> None:
    ignored = ignored_by_grandchild(mode)
    if mode == "enable":
        assert not ignored
    else:  # the case enable_interrupts undoes
        assert ignored == {signal.SIGINT, signal.SIGTERM}
