"""dbt dies with the process that started it (`uc-dbt`, dbt_exec.py): a run of the in-process executor
killed with SIGKILL while dbt holds the warehouse leaves no dbt behind, the warehouse opens read-write
at once, and the dead-run sensor reports the run failed.

dbt is made slow deterministically by `UC_DBT_EXECUTABLE`: the dbt that `uc-dbt` runs is a program
that, for `dbt build`, opens the warehouse read-write as dbt-duckdb does, says so, and waits; any
other dbt command goes to the real dbt. Everything else is real: the Dagster CLI in its own process,
dagster-dbt starting `uc-dbt`, the sandbox serving the extraction.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import dbt.cli.main
import duckdb
import pytest
import yaml

from uc_pipeline import dbt_exec
from uc_pipeline.assets.run_reaper import dead_run_reaper
from uc_pipeline.assets.schedules import range_tags
from uc_pipeline.dbt_exec import EXECUTABLE_ENV, GC_THRESHOLDS, ORPHANED_EXIT, PARENT_ENV
from uc_pipeline.dbt_project import DBT_EXECUTABLE
from uc_pipeline.sandbox import Sandbox

from .support import YESTERDAY, sandbox_env
from .test_killed_run import END_BOUND_S, REPO, START_BOUND_S, KilledRun, marked_processes, wait_for

HOLDING_DBT = """#!{python}
import os, sys, time
if sys.argv[1:2] != ["build"]:
    os.execv({real!r}, [{real!r}, *sys.argv[1:]])
import duckdb
con = duckdb.connect(os.path.join(os.environ["UC_DATA_DIR"], "warehouse.duckdb"))
con.execute("create or replace table dbt_was_here as select 1 as x")
open({ready!r}, "w").close()
time.sleep(600)
"""


def holding_dbt(folder: Path) -> tuple[Path, Path]:
    """The slow dbt, and the file it creates once it holds the warehouse."""
    ready = folder / "holding-dbt.ready"
    program = folder / "holding-dbt"
    real = str(Path(sys.executable).parent / "dbt")
    program.write_text(HOLDING_DBT.format(python=sys.executable, real=real, ready=str(ready)), encoding="utf-8")
    program.chmod(0o755)
    return program, ready


def default_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    production = yaml.safe_load((REPO / "dagster.yaml").read_text(encoding="utf-8"))
    default = {"concurrency": production["concurrency"], "telemetry": {"enabled": False}}
    (home / "dagster.yaml").write_text(yaml.safe_dump(default), encoding="utf-8")
    return home


def test_the_code_location_starts_dbt_through_uc_dbt() -> None:
    assert Path(DBT_EXECUTABLE).name == "uc-dbt", "the package's scripts are installed (`pip install -e .`)"


def test_dbt_of_an_in_process_run_dies_with_the_killed_run(tmp_path: Path) -> None:
    home = default_home(tmp_path)
    program, ready = holding_dbt(tmp_path)
    with sandbox_env(tmp_path, Sandbox.default_connections(calls_per_day=20, seed=6)) as env:
        run = KilledRun(home, {}, env.data_dir, env.connections_file)
        run.env[EXECUTABLE_ENV] = str(program)
        instance = run.instance()
        try:
            run.start("job", "execute", "-j", "daily_refresh", "--tags", json.dumps(range_tags(YESTERDAY, YESTERDAY)),
                      "-c", str(REPO / "deploy" / "in_process.yaml"))
            wait_for("dbt holds the warehouse", ready.exists, START_BOUND_S, poll_s=0.2)
            (dbt,) = [pid for pid, cmd in marked_processes(run.mark).items() if str(program) in cmd]
            others = run.kill()
            assert dbt in others
            # dbt's parent was the run's process itself: nothing of the run but dbt could have stopped it.
            assert not [c for c in others.values() if "spawn_main" in c or "forkserver" in c], others

            wait_for("dbt ends with the run's process", lambda: dbt not in marked_processes(run.mark), END_BOUND_S)
            with duckdb.connect(str(env.data_dir / "warehouse.duckdb")) as con:  # read-write: the lock is free
                con.execute("create or replace table opened_after_kill as select 1 as x")
                assert con.execute("select x from dbt_was_here").fetchall() == [(1,)]

            (dagster_run,) = instance.get_runs()
            result = dead_run_reaper(dg.build_sensor_context(instance=instance))
            assert dagster_run.run_id in (result.skip_message or ""), result
            failed = instance.get_run_by_id(dagster_run.run_id)
            assert failed is not None and failed.status == dg.DagsterRunStatus.FAILURE
            (failure,) = instance.all_logs(dagster_run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
            assert f"run's process (pid {run.proc.pid})" in failure.dagster_event.message  # type: ignore[union-attr]
            assert dagster_run.run_id not in instance.event_log_storage.get_concurrency_run_ids(), "pool slots held"
        finally:
            run.cleanup()
            instance.dispose()


def test_uc_dbt_runs_dbt_with_its_arguments_and_exit_code() -> None:
    done = subprocess.run([DBT_EXECUTABLE, "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "duckdb" in done.stdout.lower()  # dbt-core's version listing names its adapter plugins
    bad = subprocess.run([DBT_EXECUTABLE, "no-such-command"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2, bad  # click's usage error, passed through unchanged


def test_uc_dbt_runs_the_dbt_of_its_python_in_its_own_process_with_the_collector_tuned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No UC_DBT_EXECUTABLE: the parent-death signal is asked for first, then dbt's command line runs in the
    same process (nothing is exec'd) with the arguments uc-dbt got and the raised GC thresholds."""
    seen: dict[str, object] = {}

    def cli() -> None:
        seen.update(thresholds=gc.get_threshold(), argv=list(sys.argv))
        raise SystemExit(0)

    def execv(*args: object) -> None:
        raise AssertionError(f"exec'd {args}")

    monkeypatch.setattr(dbt.cli.main, "cli", cli)
    monkeypatch.setattr(dbt_exec, "die_with_parent", lambda: seen.setdefault("guarded_before_dbt", not seen))
    monkeypatch.setattr(os, "execv", execv)
    monkeypatch.delenv(EXECUTABLE_ENV, raising=False)
    monkeypatch.setattr(sys, "argv", ["/venv/bin/uc-dbt", "build", "--select", "tag:partitioned"])
    before = gc.get_threshold()
    try:
        with pytest.raises(SystemExit) as ended:
            dbt_exec.main()
    finally:
        gc.set_threshold(*before)
    assert ended.value.code == 0
    assert seen == {"guarded_before_dbt": True, "thresholds": GC_THRESHOLDS,
                    "argv": ["dbt", "build", "--select", "tag:partitioned"]}


def test_uc_dbt_does_not_start_dbt_when_its_parent_has_already_ended(tmp_path: Path) -> None:
    """The parent named in UC_DBT_PARENT_PID is not this process's parent any more: no dbt runs."""
    program, ready = holding_dbt(tmp_path)
    env = {**os.environ, EXECUTABLE_ENV: str(program), PARENT_ENV: str(os.getpid() + 1_000_000),
           "UC_DATA_DIR": str(tmp_path)}
    done = subprocess.run([DBT_EXECUTABLE, "build"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == ORPHANED_EXIT, done
    assert "has ended; dbt is not run" in done.stderr
    assert not ready.exists() and not (tmp_path / "warehouse.duckdb").exists()


def test_dbt_started_by_uc_dbt_gets_sigkill_when_its_parent_is_killed(tmp_path: Path) -> None:
    """Apart from Dagster: a parent starting `uc-dbt` and then killed leaves no dbt behind."""
    program, ready = holding_dbt(tmp_path)
    parent_code = (
        "import os, subprocess, sys, time\n"
        f"env = {{**os.environ, {PARENT_ENV!r}: str(os.getpid())}}\n"
        f"p = subprocess.Popen([{DBT_EXECUTABLE!r}, 'build'], env=env)\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    env = {**os.environ, EXECUTABLE_ENV: str(program), "UC_DATA_DIR": str(tmp_path)}
    parent = subprocess.Popen([sys.executable, "-c", parent_code], env=env, stdout=subprocess.PIPE, text=True)
    dbt = 0
    try:
        assert parent.stdout is not None
        dbt = int(parent.stdout.readline())
        wait_for("dbt holds the warehouse", ready.exists, 60)
        parent.kill()
        parent.wait(timeout=30)

        def gone() -> bool:
            try:
                return b"State:\tZ" in Path(f"/proc/{dbt}/status").read_bytes()  # awaiting its new parent
            except OSError:
                return True
        wait_for("dbt ends with its parent", gone, 30)
    finally:
        parent.kill()
        if dbt:  # only when the test failed: what it started must not outlive it
            with contextlib.suppress(ProcessLookupError):
                os.kill(dbt, signal.SIGKILL)
