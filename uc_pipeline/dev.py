"""`uc-pipeline dev`: the Dagster UI against the sandbox, after the demo, with every button working.

Starts the sandbox on a fixed port for the demo's connections (same seed and volume, so it serves the
calls the demo landed), rewrites the generated `<data_dir>/connections.yaml` to point at that port,
then starts the Dagster webserver and daemon on the demo's instance (`<data_dir>/dagster_home`). The
sandbox's credentials reach the Dagster processes through their environment only: never printed,
never written. Partitions start at the first landed day (the sandbox's history in this mode), and the
schedule and the publish sensor start stopped (the dead-run sensor always runs: it starts nothing).
Ctrl-C (or SIGTERM) stops the Dagster processes, then the sandbox.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO

from uc_pipeline.assets.schedules import AUTOMATION_ENV
from uc_pipeline.landing import landed_days
from uc_pipeline.process_tree import enable_interrupts
from uc_pipeline.settings import CONNECTIONS_FILE_ENV, DATA_DIR_ENV, REPO_DIR

GENERATED_HEADER = "# Generated for the uc-pipeline sandbox"
DEV_INSTANCE_YAML = """\
# Local Dagster instance of the demo and `uc-pipeline dev` (embedded SQLite storage). Production uses
# the repository's dagster.yaml with Postgres; see the README.
telemetry:
  enabled: false
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
concurrency:
  pools:
    default_limit: 1
    granularity: op
"""
STOP_TIMEOUT_S = 30.0


class DevError(RuntimeError):
    """`uc-pipeline dev` cannot start; the message says what to do."""


def first_landed_day(data_dir: Path) -> date | None:
    """The earliest `date=` partition in the landing zone, or None when nothing is landed yet."""
    return min(landed_days(data_dir), default=None)


def history_start(data_dir: Path, today: date | None = None) -> date:
    """Where the dev sandbox's history (and so the partitions) starts: the first landed day, else a week ago."""
    today = today or datetime.now(UTC).date()
    return first_landed_day(data_dir) or today - timedelta(days=7)


def ensure_instance(home: Path) -> None:
    """A local instance with a queued run coordinator and pools of one, unless the user wrote their own."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    # The demo's instance file has only telemetry; the queue and the pools are what the UI's runs need.
    if "run_coordinator" not in existing and "storage" not in existing:
        path.write_text(DEV_INSTANCE_YAML, encoding="utf-8")


def check_connections_file(path: Path) -> None:
    if not path.exists():
        raise DevError(f"{path} does not exist: run `uc-pipeline demo --data-dir {path.parent}` first "
                       "(it lands data and writes this file), or pass the right --data-dir.")
    if not path.read_text(encoding="utf-8").startswith(GENERATED_HEADER):
        raise DevError(f"{path} was not generated for the sandbox, so `uc-pipeline dev` will not rewrite it. "
                       "Run Dagster against your own connections with `dg dev` (see the README), or give "
                       "a --data-dir the demo wrote.")


class Output:
    """Copies the children's output to ours until the stop begins; after it, what they print while being
    interrupted (e.g. a code server stopped halfway through loading) is noise, not news."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def follow(self, stream: IO[bytes]) -> None:
        def copy() -> None:
            for line in iter(stream.readline, b""):
                if not self.stopping.is_set():
                    sys.stdout.buffer.write(line)
                    sys.stdout.flush()
            stream.close()

        thread = threading.Thread(target=copy, daemon=True)
        thread.start()
        self._threads.append(thread)

    def join(self, timeout_s: float = 5.0) -> None:
        for thread in self._threads:
            thread.join(timeout_s)


def start_process(args: list[str], env: Mapping[str, str], output: Output, cwd: Path) -> subprocess.Popen[bytes]:
    """A child in its own process group (so stopping it reaches the code server it starts)."""
    proc = subprocess.Popen(args, env=dict(env), cwd=cwd, start_new_session=True, preexec_fn=enable_interrupts,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    output.follow(proc.stdout)
    return proc


def stop_processes(processes: list[subprocess.Popen[bytes]], timeout_s: float = STOP_TIMEOUT_S) -> None:
    """SIGTERM every group, then SIGKILL what is still there after `timeout_s`."""
    for proc in processes:
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for proc in processes:
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


@contextmanager
def _stop_on_signals() -> Iterator[list[int]]:
    """Turn SIGTERM into KeyboardInterrupt like Ctrl-C, and SIGINT back on when inherited ignored."""
    received: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    saved = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


def run_dev(
    data_dir: Path,
    port: int = 3000,
    sandbox_port: int = 8765,
    calls_per_day: int = 150,
    seed: int = 1,
    host: str = "127.0.0.1",
) -> int:
    """Serve the sandbox and Dagster until interrupted; returns a process exit code."""
    from uc_pipeline.sandbox import Sandbox

    data_dir = data_dir.resolve()
    connections_path = data_dir / "connections.yaml"
    check_connections_file(connections_path)
    start = history_start(data_dir)
    sandbox = Sandbox(Sandbox.default_connections(calls_per_day=calls_per_day, seed=seed, history_start=start),
                      profile="fast")
    home = data_dir / "dagster_home"
    ensure_instance(home)
    with _stop_on_signals(), sandbox.serve(port=sandbox_port, host=host) as base_url:
        yaml_text, secrets = sandbox.connections_yaml(base_url)
        connections_path.write_text(yaml_text, encoding="utf-8")
        env = {
            **os.environ,
            **secrets,
            DATA_DIR_ENV: str(data_dir),
            CONNECTIONS_FILE_ENV: str(connections_path),
            "DAGSTER_HOME": str(home),
            AUTOMATION_ENV: "stopped",
            "DO_NOT_TRACK": "1",
        }
        bin_dir = Path(sys.executable).parent
        # Started in the instance's folder: in the repository root Dagster would warn that the production
        # dagster.yaml there is not the instance's.
        location = ["-m", "uc_pipeline.definitions", "--working-directory", str(REPO_DIR)]
        print(f"sandbox   : {base_url} (history from {start}; connections: {connections_path})", flush=True)
        print(f"Dagster UI: http://{host}:{port} (DAGSTER_HOME={home}); schedule and publish sensor start stopped",
              flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        output = Output()
        processes = [
            start_process([str(bin_dir / "dagster-webserver"), "-h", host, "-p", str(port), *location], env, output,
                          home),
            start_process([str(bin_dir / "dagster-daemon"), "run", *location], env, output, home),
        ]
        try:
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
            dead = next(p for p in processes if p.poll() is not None)
            print(f"error: {Path(str(dead.args[0])).name} exited with {dead.returncode}; stopping. "
                  "Its log is above.", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("stopping Dagster and the sandbox ...", flush=True)
            return 0
        finally:
            output.stopping.set()
            stop_processes(processes)
            output.join()
            print("stopped.", flush=True)
