"""A small Dagster-on-Celery deployment on loopback for the distributed tests: the broker check, the
per-test Celery config (deploy/celery.yaml with a queue of its own), and the long-running processes
(Celery workers, dagster-daemon), each in its own process group so teardown stops exactly them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from uc_pipeline.process_tree import enable_interrupts

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
BROKER_URL = os.environ.get("UC_TEST_BROKER_URL", "pyamqp://guest:guest@127.0.0.1:5672//")


def broker_problem(url: str = BROKER_URL) -> str | None:
    """None when the broker's port answers, else why not."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    try:
        with socket.create_connection((host, port), timeout=3):
            return None
    except OSError as exc:
        return f"{host}:{port}: {exc}"


def delete_queue(queue: str, url: str = BROKER_URL) -> None:
    """Remove the test's queue from the broker (Celery declares it durable: it would outlive the test)."""
    import kombu

    with kombu.Connection(url, connect_timeout=5) as connection:
        connection.default_channel.queue_delete(queue)


def write_celery_config(path: Path, queue: str) -> Path:
    """deploy/celery.yaml as shipped, but for `queue`, so parallel test runs on one broker never share tasks."""
    config = yaml.safe_load((REPO / "deploy" / "celery.yaml").read_text(encoding="utf-8"))
    config["execution"]["celery"]["config_source"]["task_default_queue"] = queue
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def wait_until(what: str, ready: Callable[[], bool], timeout_s: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise AssertionError(f"{what} not ready after {timeout_s:.0f} s\n{tail}")
        time.sleep(0.5)


@dataclass
class Service:
    """A process we started, with its whole process group (the Celery CLI starts `celery`, which forks)."""

    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def terminate(self) -> None:
        """SIGTERM to its process group (its own session: the group id is its pid)."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)

    def wait_or_kill(self, grace_s: float) -> None:
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        # the celery worker's pool children end with it; make sure none outlives the test
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)


def stop_all(services: list[Service], grace_s: float = 20.0) -> None:
    """Stop them all at once: each gets `grace_s` seconds after SIGTERM, then SIGKILL."""
    for service in services:
        service.terminate()
    for service in services:
        service.wait_or_kill(grace_s)


def start(name: str, args: list[str], env: Mapping[str, str], logs: Path, cwd: Path = REPO) -> Service:
    log = logs / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, preexec_fn=enable_interrupts)
    return Service(name, proc, log)


def start_worker(node: str, config: Path, queue: str, env: Mapping[str, str], logs: Path) -> Service:
    """`dagster-celery worker start` as deploy/README.md documents it, one process at a time."""
    args = [str(BIN / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y", str(config),
            "-q", queue, "-n", node, "--", "--concurrency=1", "--without-gossip", "--without-mingle"]
    # the Celery CLI runs `celery` from PATH: this interpreter's
    env = {**env, "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}
    return start(node, args, env, logs)


def start_daemon(env: Mapping[str, str], logs: Path) -> Service:
    return start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", str(REPO / "workspace.yaml")], env, logs)
