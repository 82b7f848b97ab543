"""A sensor that marks failed the STARTED runs whose processes have all died on this machine.

`run_guard.py` ends a killed run from its step processes, so it needs one to be alive. A run whose
process dies while none is (between steps, or under the in-process executor that the README suggests
for one-off terminal runs) would stay STARTED and keep its pool slots: nothing else watches a run
started from the CLI on the default run launcher. This sensor, evaluated by dagster-daemon every
`INTERVAL_S` seconds, looks at every STARTED run of the instance and
  1. collects the pid of every process that logged an event of the run (each Dagster event carries
     the pid of the process that wrote it: the run's process, its step processes),
  2. leaves the run alone if any of them is still alive, or if the run may have been started on
     another machine (see `_judged_here`): a pid means nothing on another host,
  3. otherwise waits `GRACE_S` seconds, so that a code server which launched the run's process (it
     fails the run within a second of that process's death) fails it first, and then reports the
     run failed with the reason and frees its pool slots.
A pid the kernel has since given to an unrelated process is told apart by its start time: a process
that started after it logged the event is not the one that logged it.
"""

from __future__ import annotations

import socket
import time

import dagster as dg

from uc_pipeline.process_tree import read_proc, started_at

INTERVAL_S = 30
GRACE_S = 5.0  # how long a code server or a step process's guard gets to fail the run first
START_SLACK_S = 2.0  # /proc's boot time is in whole seconds: a process's start time is that precise
HOST_TAG = "uc_pipeline/host"  # the machine a run's processes ran on, for a run storage shared by hosts
# The events whose pid names a process of the run (the run's process and its step processes).
PID_EVENTS = {
    dg.DagsterEventType.RUN_START,
    dg.DagsterEventType.ENGINE_EVENT,
    dg.DagsterEventType.STEP_START,
}


def run_processes(instance: dg.DagsterInstance, run_id: str) -> tuple[dict[int, float], int | None]:
    """pid -> the earliest time it logged an event of the run, for every process that logged one;
    and the pid of the run's process, the one that logged RUN_START."""
    found: dict[int, float] = {}
    run_pid = None
    for entry in instance.all_logs(run_id, of_type=PID_EVENTS):
        event = entry.dagster_event
        if event is not None and event.pid is not None:
            found[event.pid] = min(found.get(event.pid, entry.timestamp), entry.timestamp)
            if event.event_type == dg.DagsterEventType.RUN_START:
                run_pid = event.pid
    return found, run_pid


def _alive_since(pid: int, logged_at: float) -> bool:
    """Whether `pid` is the same living process that logged an event at `logged_at`."""
    proc = read_proc(pid)
    return proc is not None and started_at(proc) <= logged_at + START_SLACK_S


def _judged_here(instance: dg.DagsterInstance, run: dg.DagsterRun) -> bool:
    """A run whose processes surely ran on this machine: its host tag says so, or the instance's run
    storage is SQLite, which only processes of one machine share."""
    host = run.tags.get(HOST_TAG)
    if host is not None:
        return host == socket.gethostname()
    return type(instance.run_storage).__name__ == "SqliteRunStorage"


def dead_run_ids(instance: dg.DagsterInstance) -> dict[str, int]:
    """run id -> pid of the run's process, for every STARTED run judged here whose processes all died."""
    dead: dict[str, int] = {}
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        if not _judged_here(instance, run):
            continue
        procs, run_pid = run_processes(instance, run.run_id)
        if procs and not any(_alive_since(pid, at) for pid, at in procs.items()):
            dead[run.run_id] = run_pid if run_pid is not None else min(procs, key=procs.__getitem__)
    return dead


def report_dead_run(instance: dg.DagsterInstance, run_id: str, dead_pid: int, detail: str) -> bool:
    """Mark the run failed because its process (`dead_pid`) died, saying `detail`, and free its pool slots;
    False when the run is already finished (or gone)."""
    run = instance.get_run_by_id(run_id)
    if run is None or run.is_finished:
        return False
    message = (
        f"The run's process (pid {dead_pid}) ended without ending the run: it was killed or crashed{detail} "
        "A partition it did not finish keeps its previous version: re-run the run to finish them."
    )
    instance.report_run_failed(run, message)
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    return True


def fail_dead_runs(instance: dg.DagsterInstance, grace_s: float = GRACE_S) -> list[str]:
    """Report failed every STARTED run whose processes all died on this machine; their run ids."""
    dead = dead_run_ids(instance)
    if not dead:
        return []
    time.sleep(grace_s)
    failed = []
    for run_id, pid in dead.items():
        if report_dead_run(instance, run_id, pid, f", and no process of the run is left on {socket.gethostname()}."):
            failed.append(run_id)
    return failed


@dg.sensor(
    name="dead_run_reaper",
    minimum_interval_seconds=INTERVAL_S,
    # Housekeeping, not automation: it starts no run, so it runs in development as in production.
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Marks failed the STARTED runs whose processes have all died on this machine "
    "(a run killed from a terminal), and frees their pool slots.",
)
def dead_run_reaper(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    failed = fail_dead_runs(context.instance)
    if failed:
        return dg.SkipReason(f"Marked failed {len(failed)} run(s) whose processes died: {', '.join(failed)}")
    return dg.SkipReason("No STARTED run with all its processes dead on this machine.")
