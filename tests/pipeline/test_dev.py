"""Day two: after the demo, `uc-pipeline dev` serves the sandbox and the Dagster UI; a partition
materialized through the running webserver and a CLI backfill both succeed against the sandbox, each
partition with its own figures; Ctrl-C stops everything."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import httpx
import pytest
from dagster_graphql import DagsterGraphQLClient

from uc_pipeline.sandbox import Sandbox

from .support import YESTERDAY, day_bounds

CALLS_PER_DAY = 25  # the demo's and dev's volume here; the same, so dev serves the calls the demo landed
EXTRACT_KEYS = [["raw", "aircall", "calls"], ["raw", "ringcentral", "call_log"]]
STATE_QUERY = """
{ repositoriesOrError { ... on RepositoryConnection { nodes {
    schedules { name scheduleState { status } }
    sensors { name sensorState { status } } } } } }
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what: str, ready, timeout_s: float = 300.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not ready after {timeout_s:.0f} s")
        time.sleep(1)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    data = tmp_path_factory.mktemp("day2") / "data"
    cli = [sys.executable, "-m", "uc_pipeline.cli"]
    # as a user runs it: no DAGSTER_HOME exported, so the demo's runs go to <data>/dagster_home, which dev serves
    user_env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    demo = subprocess.run([*cli, "demo", "--data-dir", str(data), "--days", "2", "--calls-per-day",
                           str(CALLS_PER_DAY)], capture_output=True, text=True, timeout=1200, env=user_env)
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    port, sandbox_port = free_port(), free_port()
    log = (data.parent / "dev.log").open("w")
    assert (data / "dagster_home" / "storage").is_dir()
    proc = subprocess.Popen(
        [*cli, "dev", "--data-dir", str(data), "--port", str(port), "--sandbox-port", str(sandbox_port),
         "--calls-per-day", str(CALLS_PER_DAY)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    info = {"proc": proc, "data": data, "port": port, "sandbox_port": sandbox_port, "url": f"http://127.0.0.1:{port}",
            "log": data.parent / "dev.log"}
    try:
        wait_until("the webserver", lambda: proc.poll() is None and answers(f"{info['url']}/server_info"))
        yield info
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
            try:
                proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def landed_truth(day) -> dict[str, int]:
    """Records the sandbox serves per extract asset for `day` (the demo's seed and volume)."""
    sandbox = Sandbox(Sandbox.default_connections(calls_per_day=CALLS_PER_DAY))
    return {
        "/".join(key): len(sandbox.records(f"demo-{key[1]}", key[2], *day_bounds(day))) for key in EXTRACT_KEYS
    }


def row_counts(home: Path, key: list[str], days: list[str]) -> dict[str, int | None]:
    """`dagster/row_count` of each day's latest materialization of `key` (None: never materialized)."""
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        counts: dict[str, int | None] = {}
        for day in days:  # read by partition: no other run's materializations can crowd a day out
            records = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=dg.AssetKey(key), asset_partitions=[day]), limit=1
            ).records
            counts[day] = records[0].asset_materialization.metadata["dagster/row_count"].value if records else None
        return counts
    finally:
        instance.dispose()


def test_a_partition_materialized_through_the_webserver_lands_the_sandbox_calls(dev: dict) -> None:
    proc, data = dev["proc"], dev["data"]
    # credentials reach Dagster, never its output or a file
    env_values = Sandbox.default_connections()[0].credentials.values()
    text = dev["log"].read_text()
    assert not any(v in text for v in env_values)
    assert "dagster_home" in text and str(dev["sandbox_port"]) in (data / "connections.yaml").read_text()

    client = DagsterGraphQLClient("127.0.0.1", port_number=dev["port"], timeout=120)
    state = client._execute(STATE_QUERY)["repositoriesOrError"]["nodes"][0]
    assert {s["scheduleState"]["status"] for s in state["schedules"]} == {"STOPPED"}
    sensors = {s["name"]: s["sensorState"]["status"] for s in state["sensors"]}
    assert sensors == {"publish_after_warehouse_update": "STOPPED", "dead_run_reaper": "RUNNING"}  # housekeeping

    day = YESTERDAY
    run_id = client.submit_job_execution(
        "daily_refresh", tags={"dagster/partition": day.isoformat()}, asset_selection=[dg.AssetKey(k) for k in
                                                                                       EXTRACT_KEYS],
    )
    wait_until("the run", lambda: client.get_run_status(run_id).value in ("SUCCESS", "FAILURE", "CANCELED"), 600)
    assert client.get_run_status(run_id).value == "SUCCESS", dev["log"].read_text()[-4000:]
    truth = landed_truth(day)
    for key in EXTRACT_KEYS:
        assert row_counts(data / "dagster_home", key, [day.isoformat()]) == {day.isoformat(): truth["/".join(key)]}
    assert proc.poll() is None


def test_cli_backfill_runs_through_dagster_with_each_days_figures(dev: dict) -> None:
    first, last = YESTERDAY - timedelta(days=1), YESTERDAY
    cmd = [sys.executable, "-m", "uc_pipeline.cli", "backfill", "--from", first.isoformat(), "--to", last.isoformat(),
           "--select", "raw/aircall", "--select", "raw/ringcentral", "--url", dev["url"], "--wait", "--timeout", "900"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1000)
    assert out.returncode == 0, out.stdout + out.stderr + dev["log"].read_text()[-4000:]
    assert "COMPLETED" in out.stdout
    days = [first.isoformat(), last.isoformat()]
    truths = {day: landed_truth(date.fromisoformat(day)) for day in days}
    for key in EXTRACT_KEYS:
        expected = {day: truths[day]["/".join(key)] for day in days}
        landed = row_counts(dev["data"] / "dagster_home", key, days)
        assert landed == expected, out.stdout + dev["log"].read_text()[-4000:]


def test_ctrl_c_stops_dagster_and_the_sandbox(dev: dict) -> None:
    proc = dev["proc"]
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=90) == 0
    assert not listening(dev["port"]) and not listening(dev["sandbox_port"])
    out = dev["log"].read_text()
    assert "Traceback" not in out

