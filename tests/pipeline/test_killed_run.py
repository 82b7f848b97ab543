"""A run whose process is killed (`kill -9`) leaves no step or dbt process behind, stops calling the
provider, frees its pool slots and is marked FAILED with the reason, on the default (SQLite)
instance as on PostgreSQL.

The runs are real: the Dagster CLI (`dagster asset materialize`, `dagster job execute`) in its own
process against the sandbox, with an isolated DAGSTER_HOME. Every process of a run is found by a
marker in its environment, which each inherits from the CLI process whatever becomes of its parent.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TypeVar

import dagster as dg
import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import make_url

from uc_pipeline.assets.run_reaper import HOST_TAG, dead_run_reaper
from uc_pipeline.assets.schedules import range_tags
from uc_pipeline.sandbox import FaultSpec, Sandbox
from uc_pipeline.settings import DBT_PROJECT_DIR

from .support import YESTERDAY, sandbox_env

REPO = Path(__file__).resolve().parents[2]
MARK = "UC_KILLED_RUN_TEST_MARK"
SLOW_S = 2.0  # every provider answer takes this long, so the extraction is mid-way when killed
START_BOUND_S = 600.0  # loading the code location and reaching the step, on a loaded machine
END_BOUND_S = 60.0  # bound on waiting for the run's processes to end and the run to be failed
T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T], bound_s: float, poll_s: float = 0.1) -> tuple[T, float]:
    """Poll `probe` until it returns something truthy; returns it and the seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < bound_s:
        value = probe()
        if value:
            return value, time.monotonic() - start
        time.sleep(poll_s)
    raise AssertionError(f"{what}: not within {bound_s:.0f} s")


def marked_processes(mark: str) -> dict[int, str]:
    """pid -> command line of every living process whose environment carries `MARK=mark`."""
    needle = f"{MARK}={mark}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # ended meanwhile, or not ours to read
    return found


@pytest.fixture(params=["sqlite", "postgres"])
def dagster_home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """An isolated DAGSTER_HOME with the repository's pool limits, and the environment it needs.

    sqlite: the default instance (no storage section); postgres: the repository's dagster.yaml on a
    fresh database of the local server."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    if request.param == "sqlite":
        production = yaml.safe_load((REPO / "dagster.yaml").read_text(encoding="utf-8"))
        default = {"concurrency": production["concurrency"], "telemetry": {"enabled": False}}
        (home / "dagster.yaml").write_text(yaml.safe_dump(default), encoding="utf-8")
        yield home, {}
        return
    dsn = request.getfixturevalue("postgres_dsn")
    db_name = f"uc_killed_run_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(dsn, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as con:
        con.execute(sa.text(f'create database "{db_name}"'))
    url = make_url(dsn)
    env = {
        "DAGSTER_PG_HOST": url.host or "127.0.0.1",
        "DAGSTER_PG_PORT": str(url.port or 5432),
        "DAGSTER_PG_USER": url.username or "postgres",
        "DAGSTER_PG_PASSWORD": url.password or "",
        "DAGSTER_PG_DB": db_name,
    }
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    try:
        yield home, env
    finally:
        with admin.connect() as con:
            con.execute(sa.text(f'drop database if exists "{db_name}" with (force)'))
        admin.dispose()


class KilledRun:
    """The Dagster CLI started in its own process on an instance, killed with SIGKILL on demand."""

    def __init__(self, home: Path, extra_env: dict[str, str], data_dir: Path, connections_file: Path) -> None:
        self.home, self.mark = home, uuid.uuid4().hex
        self.env = {
            **os.environ,
            **extra_env,
            "DAGSTER_HOME": str(home),
            "UC_DATA_DIR": str(data_dir),
            "UC_CONNECTIONS_FILE": str(connections_file),
            MARK: self.mark,
        }
        self.log = home / "cli.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *cli: str) -> None:
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "dagster", *cli, "-m", "uc_pipeline.definitions"],
                env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
            )

    def instance(self) -> dg.DagsterInstance:
        saved = dict(os.environ)
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("DAGSTER_PG_")})
        try:
            return dg.DagsterInstance.from_config(str(self.home))
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def kill(self) -> dict[int, str]:
        """SIGKILL the CLI process; returns the other processes of the run at that moment."""
        assert self.proc is not None and self.proc.poll() is None, self.log.read_text(errors="replace")[-3000:]
        others = {pid: cmd for pid, cmd in marked_processes(self.mark).items() if pid != self.proc.pid}
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        return others

    def cleanup(self) -> None:
        """End whatever of this run is left (a failing test must not leave it running)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        for pid in marked_processes(self.mark):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def assert_killed_run_ends(run: KilledRun, instance: dg.DagsterInstance, others: dict[int, str]) -> tuple[float, float]:
    """The run's processes end and the run is failed with the reason; the seconds each took."""
    assert run.proc is not None
    killed = time.monotonic()
    _, gone_s = wait_for(
        "every step and dbt process of the killed run ends", lambda: not marked_processes(run.mark), END_BOUND_S
    )
    (dagster_run,), _ = wait_for(
        "the killed run is marked finished", lambda: [r for r in instance.get_runs() if r.is_finished], END_BOUND_S
    )
    failed_s = time.monotonic() - killed
    assert dagster_run.status == dg.DagsterRunStatus.FAILURE
    (failure,) = instance.all_logs(dagster_run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    message = failure.dagster_event.message
    assert f"run's process (pid {run.proc.pid})" in message and "killed or crashed" in message, message
    assert dagster_run.run_id not in instance.event_log_storage.get_concurrency_run_ids(), "pool slots still held"
    print(f"\nkilled run {dagster_run.run_id}: {len(others)} processes gone after {gone_s:.1f} s, "
          f"run FAILED after {failed_s:.1f} s")
    return gone_s, failed_s


def test_a_killed_extraction_leaves_no_process_and_stops_calling_the_provider(
    tmp_path: Path, dagster_home: tuple[Path, dict[str, str]]
) -> None:
    home, extra_env = dagster_home
    (conn,) = Sandbox.default_connections(["aircall"], calls_per_day=15000, seed=3)  # > 60 pages
    with sandbox_env(tmp_path, [conn]) as env:
        env.sandbox.set_faults(conn.connection_id, FaultSpec(slow_rate=1.0, slow_s=SLOW_S, seed=1))
        run = KilledRun(home, extra_env, env.data_dir, env.connections_file)
        instance = run.instance()
        try:
            run.start("asset", "materialize", "--select", "raw/aircall/calls", "--partition", YESTERDAY.isoformat())
            wait_for("the step calls the provider", lambda: env.sandbox.request_log.entries(conn.connection_id),
                     START_BOUND_S, poll_s=0.5)
            (run_id,) = [r.run_id for r in instance.get_runs()]
            slots = instance.event_log_storage.get_concurrency_run_ids
            wait_for("the step holds its pool slot", lambda: run_id in slots(), END_BOUND_S)
            if extra_env:  # PostgreSQL may be shared by machines: the run names its own, for the reaper
                assert instance.get_run_by_id(run_id).tags.get(HOST_TAG) == socket.gethostname()
            others = run.kill()
            assert others, "the step runs in a process of its own (multiprocess executor)"
            assert_killed_run_ends(run, instance, others)
            # An answer already being served when the step ended is logged when it is sent: let it land.
            time.sleep(SLOW_S + 1)
            served = len(env.sandbox.request_log.entries(conn.connection_id))
            time.sleep(3 * SLOW_S)
            assert len(env.sandbox.request_log.entries(conn.connection_id)) == served, "the provider is still called"
        finally:
            run.cleanup()
            instance.dispose()


@pytest.mark.parametrize("dagster_home", ["sqlite"], indirect=True)
def test_a_run_killed_during_dbt_leaves_no_dbt_behind(
    tmp_path: Path, dagster_home: tuple[Path, dict[str, str]]
) -> None:
    home, extra_env = dagster_home
    with sandbox_env(tmp_path, Sandbox.default_connections(calls_per_day=20, seed=4)) as env:
        run = KilledRun(home, extra_env, env.data_dir, env.connections_file)
        instance = run.instance()
        try:
            run.start("job", "execute", "-j", "daily_refresh", "--tags", json.dumps(range_tags(YESTERDAY, YESTERDAY)))
            dbt, _ = wait_for(
                "dbt builds the day's models",
                lambda: [pid for pid, cmd in marked_processes(run.mark).items() if "dbt build" in cmd],
                START_BOUND_S, poll_s=0.2,
            )
            others = run.kill()
            assert set(dbt) <= set(others)
            assert_killed_run_ends(run, instance, others)
            (dagster_run,) = instance.get_runs()
            # dbt was stopped mid-build rather than left to finish on its own.
            logs = list((DBT_PROJECT_DIR / "target").glob(f"dbt_daily_models-{dagster_run.run_id[:7]}-*/dbt.log"))
            assert not any("Finished running" in log.read_text(errors="replace") for log in logs)
        finally:
            run.cleanup()
            instance.dispose()


def test_a_run_killed_with_no_step_process_is_failed_by_the_reaper_sensor(tmp_path: Path) -> None:
    """The in-process executor: the run's only process is the CLI, so no step process is left to
    notice its death. The `dead_run_reaper` sensor leaves the run alone while its process lives, and
    marks it failed with the reason and frees its pool slot once it is killed."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    production = yaml.safe_load((REPO / "dagster.yaml").read_text(encoding="utf-8"))
    default = {"concurrency": production["concurrency"], "telemetry": {"enabled": False}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(default), encoding="utf-8")
    (conn,) = Sandbox.default_connections(["aircall"], calls_per_day=15000, seed=5)  # > 60 pages
    with sandbox_env(tmp_path, [conn]) as env:
        env.sandbox.set_faults(conn.connection_id, FaultSpec(slow_rate=1.0, slow_s=SLOW_S, seed=2))
        run = KilledRun(home, {}, env.data_dir, env.connections_file)
        instance = run.instance()
        try:
            run.start("asset", "materialize", "--select", "raw/aircall/calls", "--partition", YESTERDAY.isoformat(),
                      "-c", str(REPO / "deploy" / "in_process.yaml"))
            wait_for("the step calls the provider", lambda: env.sandbox.request_log.entries(conn.connection_id),
                     START_BOUND_S, poll_s=0.5)
            (run_id,) = [r.run_id for r in instance.get_runs()]
            slots = instance.event_log_storage.get_concurrency_run_ids
            wait_for("the step holds its pool slot", lambda: run_id in slots(), END_BOUND_S)

            # Alive: the sensor does not touch it.
            dead_run_reaper(dg.build_sensor_context(instance=instance))
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED
            assert run_id in slots()

            assert run.proc is not None
            others = run.kill()
            # Log tailers and multiprocessing's resource tracker, but no step process (spawned or forked).
            assert not [c for c in others.values() if "spawn_main" in c or "forkserver" in c], others
            time.sleep(2)  # what run_guard.py would need to act, had there been a step process
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED, "nothing else fails it"

            result = dead_run_reaper(dg.build_sensor_context(instance=instance))
            assert run_id in (result.skip_message or ""), result
            dagster_run = instance.get_run_by_id(run_id)
            assert dagster_run is not None and dagster_run.status == dg.DagsterRunStatus.FAILURE
            (failure,) = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
            message = failure.dagster_event.message
            assert f"run's process (pid {run.proc.pid})" in message and "killed or crashed" in message, message
            assert run_id not in slots(), "pool slots still held"
            # A second evaluation finds nothing more to do.
            assert run_id not in (dead_run_reaper(dg.build_sensor_context(instance=instance)).skip_message or "")
        finally:
            run.cleanup()
            instance.dispose()


GUARDED = """
import os, signal, subprocess, sys, time
from uc_pipeline.process_tree import stop_descendants, watch_parent
stubborn = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(300)"],
    stdout=subprocess.PIPE, text=True)
stubborn.stdout.readline()
def orphaned(dead):
    stopped = [p.pid for p in stop_descendants(grace_s=1.0)]
    print(dead, stubborn.pid, stubborn.pid in stopped, stubborn.wait(timeout=30), flush=True)
    os._exit(0)
watch_parent(orphaned, parent=os.getppid(), poll_s=0.1)
print("watching", os.getpid(), stubborn.pid, flush=True)
time.sleep(300)
"""
MIDDLE = "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', sys.argv[1]]); time.sleep(300)"


def read_line(stream: IO[str], bound_s: float) -> str:
    ready, _, _ = select.select([stream], [], [], bound_s)
    assert ready, f"no line within {bound_s:.0f} s"
    return stream.readline()


def test_an_orphaned_process_stops_its_children_even_those_ignoring_sigterm() -> None:
    """The parent watch and the stop of a process's own tree, apart from Dagster: a process whose
    parent is killed stops its child, with SIGKILL once SIGTERM has been ignored for the grace."""
    middle = subprocess.Popen([sys.executable, "-c", MIDDLE, GUARDED], stdout=subprocess.PIPE, text=True, cwd=REPO)
    started: list[int] = []
    try:
        assert middle.stdout is not None
        started = [int(pid) for pid in read_line(middle.stdout, 120).split()[1:]]
        stubborn = started[1]
        os.kill(middle.pid, signal.SIGKILL)
        middle.wait(timeout=30)
        dead, child, stopped, returncode = read_line(middle.stdout, 60).split()
        assert (int(dead), int(child), stopped) == (middle.pid, stubborn, "True")
        assert int(returncode) == -signal.SIGKILL, "SIGTERM is ignored, so only SIGKILL ends it"
        assert not Path(f"/proc/{stubborn}").exists() or b"State:\tZ" in Path(f"/proc/{stubborn}/status").read_bytes()
    finally:
        middle.kill()
        for pid in started:  # only when the test failed: what it started must not outlive it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
