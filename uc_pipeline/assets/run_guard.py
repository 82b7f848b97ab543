"""A run's step processes die with the run's process, and the run is then marked failed.

Dagster's multiprocess executor runs each step in a child of the run's process. When that process
is killed (`kill -9`, the OOM killer, a lost terminal), the steps keep running as orphans: they go on
calling the providers, and dbt (a child of the step) goes on writing the warehouse, while the run
stays STARTED. Dagster's own remedies do not cover this on the default run launcher: run monitoring
(`run_monitoring:` in dagster.yaml) only asks the run launcher about run-worker health, which the
`DefaultRunLauncher` does not support; the code server notices that a run worker it launched has
died and fails the run, but neither stops that worker's step processes, and a run started from the
CLI (`dagster asset materialize`, `dagster job execute`) has no code server at all.

So each step process watches its parent, the run's process (`guard_run_processes`, called when the
`uc` resource is set up, which every step of this code location has). When that parent dies, the
step process
  1. stops its own descendants (dbt and whatever else it started): SIGTERM, then SIGKILL,
  2. marks the run FAILED with the reason, unless it has already ended (one step process does it,
     under a lock named by the run id, when several are running; when a code server launched the
     run's process, that server is given a few seconds to fail the run first, so it fails once),
  3. frees the run's pool slots, so the pools it held are usable at once,
  4. exits.
All of it is bounded: after `HARD_EXIT_S` seconds the process exits whatever is still pending.

A run killed while none of its step processes is alive (between steps, or with the in-process
executor) is marked failed by the `dead_run_reaper` sensor (`run_reaper.py`) instead; for it to judge
runs on a run storage that several machines share, the run is tagged here with its machine's name.
dbt itself is started through `uc-dbt` (`dbt_exec.py`), which dies with the process that started it:
under the in-process executor that is what stops dbt when the run's process is killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import multiprocessing
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from uc_pipeline.assets.run_reaper import HOST_TAG, report_dead_run
from uc_pipeline.process_tree import Proc, stop_descendants, watch_parent

log = logging.getLogger(__name__)

POLL_S = 0.5  # how often a step process looks for its parent
STOP_GRACE_S = 3.0  # how long descendants get between SIGTERM and SIGKILL
HARD_EXIT_S = 30.0  # after the parent died, the step process exits by then whatever is pending
EXIT_CODE = 70  # EX_SOFTWARE: the step process did not finish its step
LAUNCHED_MESSAGE = "Started process for run"  # how a code server's run worker announces itself
LAUNCHER_GRACE_S = 5.0  # how long a code server gets to fail the run of a worker it launched

_guarded: set[str] = set()  # run ids this process already watches for


def guard_run_processes(context: dg.InitResourceContext) -> None:
    """In a step process of the multiprocess executor, end this process and its children when the
    run's process dies, and mark the run failed. Elsewhere (in-process execution, resource tests)
    nothing happens."""
    instance, run_id = context.instance, (context.run.run_id if context.run else None)
    if instance is None or run_id is None or run_id in _guarded:
        return
    _tag_host(instance, run_id)
    # The parent it was started by: a step process still loading when the run's process was killed
    # has already been re-parented by the time it gets here, and must end at once.
    origin = multiprocessing.parent_process()
    if origin is None or origin.pid is None or not _is_step_process_of(instance, run_id, origin.pid):
        return
    _guarded.add(run_id)
    watch_parent(lambda dead: _on_run_process_died(instance, run_id, dead), parent=origin.pid, poll_s=POLL_S)


def _tag_host(instance: dg.DagsterInstance, run_id: str) -> None:
    """Tag the run with this machine's name, once, unless its run storage is SQLite (one machine)."""
    if type(instance.run_storage).__name__ == "SqliteRunStorage":
        return  # and a write to runs.db from every step process would contend for its lock
    run = instance.get_run_by_id(run_id)
    if run is not None and HOST_TAG not in run.tags:
        instance.add_run_tags(run_id, {HOST_TAG: socket.gethostname()})


def _is_step_process_of(instance: dg.DagsterInstance, run_id: str, parent: int) -> bool:
    """Whether this process, a multiprocessing child of `parent`, is a step process that the run's
    multiprocess executor started.

    Only a step process has as parent the process that logged "Executing steps using multiprocess
    executor (pid: N)" for this run. A run worker that a code server started is a multiprocessing
    child too, but of the code server: it is left alone.
    """
    return bool(_run_events_of_pid(instance, run_id, parent))


def _run_events_of_pid(instance: dg.DagsterInstance, run_id: str, pid: int) -> list[str]:
    """The messages of the run's engine events (not a step's) that name process `pid`."""
    found = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = entry.dagster_event
        if event is None or event.step_key is not None:
            continue
        value = (event.engine_event_data.metadata or {}).get("pid")
        if value is not None and str(getattr(value, "value", value)) == str(pid):
            found.append(event.message or "")
    return found


def _wait_for_launcher(instance: dg.DagsterInstance, run_id: str, dead_pid: int) -> None:
    """A run's process that a code server launched ("Started process for run (pid: N)") is watched by
    it: it fails the run within a second of the process's death. Leave it that time, so the run gets
    one failure, and fail the run here only when the code server died too."""
    if not any(m.startswith(LAUNCHED_MESSAGE) for m in _run_events_of_pid(instance, run_id, dead_pid)):
        return
    deadline = time.monotonic() + LAUNCHER_GRACE_S
    while time.monotonic() < deadline:
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return
        time.sleep(POLL_S)


def _on_run_process_died(instance: dg.DagsterInstance, run_id: str, dead_pid: int) -> None:
    # A thread of its own that is not a daemon: stopping dbt lets the step end, and a multiprocessing
    # child joins its non-daemon threads before it exits, so the run is marked failed first.
    threading.Thread(target=_end_run, args=(instance, run_id, dead_pid), name="run-guard", daemon=False).start()


def _end_run(instance: dg.DagsterInstance, run_id: str, dead_pid: int) -> None:
    deadline = threading.Timer(HARD_EXIT_S, os._exit, (EXIT_CODE,))
    deadline.daemon = True
    deadline.start()
    try:
        stopped = stop_descendants(grace_s=STOP_GRACE_S)
        _fail_run(instance, run_id, dead_pid, stopped)
    except Exception:  # noqa: BLE001 - the process must exit whatever went wrong; say what it was
        log.exception("run %s: could not mark the run failed after its process %s died", run_id, dead_pid)
    finally:
        os._exit(EXIT_CODE)


def _fail_run(instance: dg.DagsterInstance, run_id: str, dead_pid: int, stopped: list[Proc]) -> None:
    _wait_for_launcher(instance, run_id, dead_pid)
    with _run_lock(run_id):
        names = ", ".join(f"{p.name} (pid {p.pid})" for p in stopped) or "none"
        report_dead_run(
            instance, run_id, dead_pid, f". Step process {os.getpid()} stopped its own processes ({names}) and exits."
        )


@contextlib.contextmanager
def _run_lock(run_id: str) -> Iterator[None]:
    """One step process of a dead run reports it; the others find it finished. The lock file lives on
    the machine of the step processes, which is where all of one run's step processes are. It is
    removed while held: a process that opens the path afterwards locks a new file, but by then the
    run is marked finished."""
    path = Path(tempfile.gettempdir()) / f"uc-pipeline-run-{run_id}.lock"
    with open(path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            path.unlink(missing_ok=True)
            fcntl.flock(fh, fcntl.LOCK_UN)
