"""Screenshots of the Dagster UI for the README, taken the way a user gets there.

Runs a short demo on a temporary data directory, starts `uc-pipeline dev` on it, materializes
yesterday's partition of the `daily_refresh` job through the running webserver (GraphQL, as the UI's
Materialize button does), then saves PNGs of the asset catalog, that partition's materialization, the
run and a model's asset checks into `docs/screenshots/` with headless Chromium (Debian's `chromium`
package: `apt-get install -y chromium`). Stops `uc-pipeline dev` as Ctrl-C does.

Run from the repository root: `python docs/make_screenshots.py [--out docs/screenshots]` (about 5-10
minutes on 2 cores). The PNGs must show data: look at them before committing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from dagster_graphql import DagsterGraphQLClient

REPO = Path(__file__).resolve().parents[1]
CALLS_PER_DAY = 25
READY_TIMEOUT_S = 600
RUN_TIMEOUT_S = 1200
# what the UI's "Skip" on its first-visit newsletter prompt records, so that it does not cover the pages
NUX_SEEN = "mutation { setNuxSeen }"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what: str, ready: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} not ready after {timeout_s:.0f} s")
        time.sleep(2)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def screenshot(browser: str, url: str, path: Path, height: int = 1000) -> None:
    """One page, after the UI has had 20 s of (virtual) time to load its data."""
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size=1600,{height}",
         "--virtual-time-budget=20000", f"--screenshot={path}", url],
        capture_output=True, timeout=180, check=True,
    )
    print(f"saved {path.relative_to(REPO) if path.is_relative_to(REPO) else path}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("no Chromium found: install it (Debian: apt-get install -y chromium) and run again")
    args.out.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "uc_pipeline.cli"]
    # as a user runs it: no DAGSTER_HOME exported, so the demo and dev share <data>/dagster_home
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "UC_DATA_DIR", "UC_CONNECTIONS_FILE")}
    with tempfile.TemporaryDirectory(prefix="uc-screenshots-") as tmp:
        data = Path(tmp) / "data"
        print("running the demo (2 days) ...", flush=True)
        subprocess.run([*cli, "demo", "--data-dir", str(data), "--days", "2", "--calls-per-day", str(CALLS_PER_DAY)],
                       env=env, check=True, timeout=1800, capture_output=True)
        port, sandbox_port = free_port(), free_port()
        log = (Path(tmp) / "dev.log").open("w")
        dev = subprocess.Popen([*cli, "dev", "--data-dir", str(data), "--port", str(port), "--sandbox-port",
                                str(sandbox_port), "--calls-per-day", str(CALLS_PER_DAY)],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until("the webserver", lambda: dev.poll() is None and answers(f"{url}/server_info"), READY_TIMEOUT_S)
            httpx.post(f"{url}/graphql", json={"query": NUX_SEEN}, timeout=30)
            client = DagsterGraphQLClient("127.0.0.1", port_number=port, timeout=120)
            day = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
            print(f"materializing {day} through the webserver ...", flush=True)
            run_id = client.submit_job_execution("daily_refresh", tags={"dagster/partition": day})
            wait_until("the run", lambda: client.get_run_status(run_id).value in ("SUCCESS", "FAILURE", "CANCELED"),
                       RUN_TIMEOUT_S)
            status = client.get_run_status(run_id).value
            if status != "SUCCESS":
                raise SystemExit(f"run {run_id} ended {status}; see {log.name}")
            pages = {
                "asset-catalog": ("/assets", 1000),
                "partition-materialization": (f"/assets/raw/aircall/calls?view=partitions&partition={day}", 1100),
                "run": (f"/runs/{run_id}", 1000),
                "uc-call-checks": ("/assets/uc/uc_call?view=checks", 1100),
            }
            for name, (path, height) in pages.items():
                screenshot(browser, url + path, args.out / f"{name}.png", height)
        finally:
            if dev.poll() is None:
                dev.send_signal(signal.SIGINT)  # what Ctrl-C sends
                try:
                    dev.wait(timeout=90)
                except subprocess.TimeoutExpired:
                    dev.kill()
            log.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
