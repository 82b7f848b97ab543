"""`uc-dbt`: dbt, made to die with the process that started it. The `dbt_executable` of the Dagster
code location's `DbtCliResource`.

Why: a run killed with SIGKILL (`kill -9`, the OOM killer) cannot stop what it started, and
dagster-dbt starts dbt without any hook for it. Under the multiprocess executor the step process
outlives the run's process and stops dbt (`assets/run_guard.py`); under the in-process executor
(`-c deploy/in_process.yaml`) the run's process *is* the step, and dbt went on writing the warehouse
and holding its DuckDB lock. So this small program asks Linux for a parent-death signal
(`prctl(PR_SET_PDEATHSIG, SIGKILL)`) and then runs dbt in this same process, or replaces itself with
the dbt program named (`os.execv`: the setting survives `execve`, dbt is not set-user-ID), so dbt gets
SIGKILL the moment its parent ends.

Pitfalls, from the man page (https://dyn.manpages.debian.org/unstable/manpages-dev/PR_SET_PDEATHSIG.2const):
- The "parent" is the *thread* that created the process: the signal comes when that thread ends, even
  if the rest of the process lives on. dagster-dbt starts dbt (`subprocess.Popen`) in the thread that
  runs the step, which then reads dbt's output until dbt ends, so that thread outlives dbt; a caller
  that starts `uc-dbt` from a short-lived thread would see dbt killed when that thread returns.
- A parent that dies before the `prctl` call sends nothing. The process starting dbt names itself in
  `UC_DBT_PARENT_PID` (`assets/dbt.py` does); when this process's parent is no longer that pid, it
  exits at once rather than run dbt orphaned.
- The setting is not inherited across `fork`: processes that dbt itself starts are not covered.
  dbt-duckdb runs models on threads of the dbt process and starts none for `dbt build`.

The dbt that runs is the program `UC_DBT_EXECUTABLE` names, when set; else the dbt installed in this
Python, run in this process (no second interpreter start) with the garbage collector tuned for it
(below); else `dbt` on PATH.
Linux only: elsewhere dbt runs unguarded.

Why tune the collector: dbt holds hundreds of thousands of long-lived objects (the manifest's nodes,
compiled Jinja templates) and makes few reference cycles, so under CPython's default thresholds
(700, 10, 10) the cyclic collector rescans that heap thousands of times a run and finds little to free.
Raised thresholds cut a tenth of the CPU time of a build at 1M calls (bench/README.md, "Against
9c13636", fourth and fifth rounds). Only this program sets them: a library must not retune the
collector of a process that imports it (dbt-bouncer made the same call for its CLI,
godatadriven/dbt-bouncer#1008).
"""

from __future__ import annotations

import ctypes
import gc
import importlib.util
import os
import shutil
import signal
import sys

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PARENT_ENV = "UC_DBT_PARENT_PID"
EXECUTABLE_ENV = "UC_DBT_EXECUTABLE"
ORPHANED_EXIT = 70  # EX_SOFTWARE, as the run guard's step processes
# A young pass every 1,000,000 net container allocations (default 700), a middle one every 20 young ones
# and a full one every 100 middle ones (defaults 10 and 10). A build of this project at 1M calls stays
# under the first: no pass runs (a full build's 20-27 passes at 50,000 took 0.6-0.8 s of CPU, a daily
# build's 18 took 0.4-0.5 s) for 20-60 MB more peak memory. A bigger project still gets its cycles
# collected, a million objects later.
GC_THRESHOLDS = (1_000_000, 20, 100)


def real_dbt() -> str:
    """The dbt program this wrapper execs when it does not run dbt itself: the one `UC_DBT_EXECUTABLE`
    names, else `dbt` on PATH (this Python has no dbt of its own, see `dbt_installed_here`)."""
    explicit = os.environ.get(EXECUTABLE_ENV)
    if explicit:
        return shutil.which(explicit) or explicit
    found = shutil.which("dbt")
    if found is None:
        raise SystemExit("uc-dbt: no dbt installed in this Python nor on PATH; install dbt-duckdb "
                         f"(`pip install -e .`) or name the dbt to run in {EXECUTABLE_ENV}")
    return found


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask Linux to send `sig` to this process when the thread that started it ends; False where
    that is not available (not Linux)."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(sig), 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG) failed: {os.strerror(errno)}")
    return True


def parent_gone() -> bool:
    """Whether the process that named itself in `UC_DBT_PARENT_PID` is no longer this one's parent."""
    expected = os.environ.get(PARENT_ENV, "")
    return expected.isdigit() and os.getppid() != int(expected)


def dbt_installed_here() -> bool:
    """Whether this Python has dbt itself, which can then run in this process."""
    return importlib.util.find_spec("dbt.cli") is not None


def run_dbt_here() -> None:
    """dbt's own command line (`dbt.cli.main.cli`, what the `dbt` script calls) in this process."""
    gc.set_threshold(*GC_THRESHOLDS)
    from dbt.cli.main import cli

    sys.argv[0] = "dbt"
    cli()  # click exits with dbt's exit code


def main() -> None:
    """Set the parent-death signal, then run dbt with the same arguments: here, or by becoming the
    dbt program named (`os.execv`)."""
    dbt = None if not os.environ.get(EXECUTABLE_ENV) and dbt_installed_here() else real_dbt()
    guarded = die_with_parent()
    if guarded and parent_gone():
        # Checked after prctl: a parent dying from here on is covered by the signal.
        sys.stderr.write(f"uc-dbt: the process that started dbt (pid {os.environ[PARENT_ENV]}) has ended; "
                         "dbt is not run\n")
        raise SystemExit(ORPHANED_EXIT)
    if dbt is None:
        run_dbt_here()
    else:
        os.execv(dbt, [dbt, *sys.argv[1:]])


if __name__ == "__main__":
    main()
