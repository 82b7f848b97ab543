"""What a one-partition extract run costs beyond its extraction, launched the way a user does.

Runs `dagster asset materialize -m uc_pipeline.definitions --select raw/<provider>/<stream>
--partition DAY` against a sandbox served by this process (one connection, fast quota profile), on a
fresh data directory and Dagster home, once with the default executor (multiprocess: the step runs in
a process of its own) and once with `-c deploy/in_process.yaml` (the step runs in the launching
process). Per run it reports:

- wall: from starting the command to its exit;
- extraction: the `seconds` of the partition's extraction, from its materialization's metadata;
- overhead: wall - extraction (goal: at most 10 s);
- cpu: CPU seconds of the command and its step processes, which other work on the machine hardly
  changes (the wall time under a load of N on 2 cores is about N/2 times the idle one);
- to_run_start / step_start / step / after_step: where the overhead goes, from the run's event log
  (command start to RUN_START; RUN_START to STEP_START; the step; STEP_SUCCESS to the command's exit).

The dbt manifest is parsed once before the first run (what the first load of the code location does
on a fresh clone); `--cold` measures that first run too. Run from the repository root:
`python bench/overhead.py [--provider aircall --stream calls --repeat 2 --json FILE]`. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import dagster as dg  # noqa: E402

from uc_pipeline.sandbox import Sandbox  # noqa: E402
from uc_pipeline.settings import CONNECTIONS_FILE_ENV, DATA_DIR_ENV  # noqa: E402

BIN = Path(sys.executable).parent
RUN_TIMEOUT_S = 600
EXECUTORS = {"multiprocess (default)": [], "in_process (-c deploy/in_process.yaml)": ["-c", "deploy/in_process.yaml"]}


def environment(tmp: Path, secrets: dict[str, str], connections: Path) -> dict[str, str]:
    home = tmp / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UC_", "DBT_"))}
    return {**env, **secrets, DATA_DIR_ENV: str(tmp / "data"), CONNECTIONS_FILE_ENV: str(connections),
            "DAGSTER_HOME": str(home), "DO_NOT_TRACK": "1", "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}


def run_events(home: str, run_id: str) -> dict[str, float]:
    """Timestamps of the run's first event of each kind."""
    instance = dg.DagsterInstance.from_config(home)
    try:
        found: dict[str, float] = {}
        for record in instance.all_logs(run_id):
            if record.dagster_event is not None:
                found.setdefault(record.dagster_event.event_type_value, record.timestamp)
        return found
    finally:
        instance.dispose()


def latest(home: str, key: dg.AssetKey) -> tuple[str, float]:
    """(run id, extraction seconds) of the asset's latest materialization."""
    instance = dg.DagsterInstance.from_config(home)
    try:
        record = instance.fetch_materializations(key, limit=1).records[0]
        parts = record.asset_materialization.metadata["partitions"].value
        # connections extract in parallel threads: the slowest one is the extraction's time
        return record.run_id, max(float(p["seconds"]) for p in parts)
    finally:
        instance.dispose()


def one_run(env: dict[str, str], asset: str, day: date, extra: list[str]) -> dict[str, Any]:
    cmd = [str(BIN / "dagster"), "asset", "materialize", "-m", "uc_pipeline.definitions", "--select", asset,
           "--partition", day.isoformat(), *extra]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    ended = time.time()
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    run_id, extraction = latest(env["DAGSTER_HOME"], dg.AssetKey(asset.split("/")))
    events = run_events(env["DAGSTER_HOME"], run_id)
    wall = ended - started
    return {
        "command": " ".join(["dagster", *cmd[1:]]),
        "wall_s": round(wall, 2),
        "extraction_s": round(extraction, 2),
        "overhead_s": round(wall - extraction, 2),
        # CPU time of the command and its step processes (the sandbox's is not in it): close to the wall
        # time on an idle machine, and hardly moved by other work sharing the cores
        "cpu_s": round(cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime, 2),
        "to_run_start_s": round(events["PIPELINE_START"] - started, 2),
        "step_start_s": round(events["STEP_START"] - events["PIPELINE_START"], 2),
        "step_s": round(events["STEP_SUCCESS"] - events["STEP_START"], 2),
        "after_step_s": round(ended - events["STEP_SUCCESS"], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provider", default="aircall")
    parser.add_argument("--stream", default="calls")
    parser.add_argument("--calls-per-day", type=int, default=150)
    parser.add_argument("--repeat", type=int, default=2, help="runs per executor, each on a new partition")
    parser.add_argument("--cold", action="store_true", help="also time the first run, which parses the dbt project")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    today = datetime.now(UTC).date()
    start = today - timedelta(days=2 * args.repeat + 3)
    sandbox = Sandbox(Sandbox.default_connections(providers=[args.provider], calls_per_day=args.calls_per_day,
                                                  history_start=start), profile="fast")
    asset = f"raw/{args.provider}/{args.stream}"
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in EXECUTORS}
    with tempfile.TemporaryDirectory(prefix="uc-overhead-") as tmp, sandbox.serve() as base_url:
        connections = Path(tmp) / "connections.yaml"
        yaml_text, secrets = sandbox.connections_yaml(base_url)
        connections.write_text(yaml_text, encoding="utf-8")
        env = environment(Path(tmp), secrets, connections)
        day = start
        if args.cold:
            results["first run (parses dbt)"] = [one_run(env, asset, day, [])]
            day += timedelta(days=1)
        else:  # what loading the code location once does on a fresh clone: parse the dbt project
            subprocess.run([sys.executable, "-c", "import uc_pipeline.definitions"], cwd=REPO, env=env, check=True,
                           timeout=RUN_TIMEOUT_S)
        for _ in range(args.repeat):
            for name, extra in EXECUTORS.items():
                results[name].append(one_run(env, asset, day, extra))
                day += timedelta(days=1)
    load = os.getloadavg()[0]
    for name, runs in results.items():
        print(f"\n{name}: {runs[0]['command']}")
        for r in runs:
            print("  " + "  ".join(f"{k}={v}" for k, v in r.items() if k != "command"))
        print(f"  median overhead: {statistics.median(r['overhead_s'] for r in runs):.1f} s")
    print(f"\nload average (1 min) at the end: {load:.1f}")
    if args.json:
        args.json.write_text(json.dumps({"load_average": load, "runs": results}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
