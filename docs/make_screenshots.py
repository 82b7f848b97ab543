"""Screenshots of the Dagster UI for the README, taken the way a user gets there.

Runs a short demo on a temporary data directory, starts `uc-pipeline dev` on it, materializes
yesterday's partition of the extract assets through the running webserver (GraphQL, as the UI's
Materialize button does), then saves PNGs of the asset catalog, that partition's materialization, the
run and a model's asset checks into `docs/screenshots/` with Playwright driving a headless Chromium
(`pip install -e '.[docs]'`; the system's Chromium, e.g. Debian's `apt-get install -y chromium`, or
`playwright install chromium`). Each page is taken once a text that only its loaded data shows is
on it. Stops `uc-pipeline dev` as Ctrl-C does.

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

import dagster as dg
import httpx
from dagster_graphql import DagsterGraphQLClient

REPO = Path(__file__).resolve().parents[1]
CALLS_PER_DAY = 25
PAGE_TIMEOUT_MS = 180_000
STREAMS = ("aircall/calls", "ringcentral/call_log", "eightbyeight/recordings", "zendesk/calls", "zendesk/legs")
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


def screenshots(browser: str | None, base: str, pages: dict[str, tuple[str, str]], out: Path) -> None:
    """Each page (name -> (path, a text its loaded data shows)) as `<out>/<name>.png`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=browser, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = chromium.new_page(viewport={"width": 1600, "height": 1000})
            for name, (path, shows) in pages.items():
                page.goto(base + path, wait_until="load", timeout=PAGE_TIMEOUT_MS)
                page.get_by_text(shows).first.wait_for(timeout=PAGE_TIMEOUT_MS)
                page.wait_for_timeout(3000)  # the rest of the page's queries
                page.screenshot(path=out / f"{name}.png")
                print(f"saved {out / name}.png", flush=True)
        finally:
            chromium.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    try:
        import playwright  # noqa: F401
    except ImportError:
        raise SystemExit("Playwright is missing: pip install -e '.[docs]'") from None
    browser = shutil.which("chromium") or shutil.which("chromium-browser")  # else Playwright's own
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
            # the extract assets (the demo's runs already built the dbt models and ran their checks)
            run_id = client.submit_job_execution("daily_refresh", tags={"dagster/partition": day},
                                                 asset_selection=[dg.AssetKey(["raw", *k.split("/")]) for k in STREAMS])
            wait_until("the run", lambda: client.get_run_status(run_id).value in ("SUCCESS", "FAILURE", "CANCELED"),
                       RUN_TIMEOUT_S)
            status = client.get_run_status(run_id).value
            if status != "SUCCESS":
                shutil.copy(log.name, args.out / "dev.log")
                raise SystemExit(f"run {run_id} ended {status}; see {args.out / 'dev.log'}")
            pages = {
                "asset-catalog": ("/assets", "raw_views"),
                "partition-materialization": (f"/assets/raw/aircall/calls?view=partitions&partition={day}",
                                              "total_requests"),
                "run": (f"/runs/{run_id}", "RUN_SUCCESS"),
                "uc-call-checks": ("/assets/uc/uc_call?view=checks", "uc_call_id_is_unique"),
            }
            screenshots(browser, url, pages, args.out)
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
