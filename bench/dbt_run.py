"""One timed dbt CLI command of a checkout's dbt project, as the dbt benchmarks run it: through the program
the checkout's Dagster runs dbt as, the partition window in the environment as Dagster sets it, wall and
CPU time measured, the output shown on failure."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from uc_pipeline.settings import WINDOW_ENV

# The daily build of a partition as Dagster runs it (unit tests are left to CI).
DAILY = ["build", "--select", "tag:partitioned", "--exclude-resource-type", "unit_test"]


def dbt_program(checkout: Path) -> str:
    """What the checkout's pipeline runs dbt as: `uc-dbt` (uc_pipeline/dbt_exec.py) where it has one, else
    dbt itself (as before that program existed); either from this interpreter's environment."""
    name = "uc-dbt" if (checkout / "uc_pipeline" / "dbt_exec.py").exists() else "dbt"
    return str(Path(sys.executable).parent / name)


def timed_dbt(project: Path, args: list[str], data_dir: Path, target: Path, window: tuple[str, str] | None = None,
              extra_env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run `dbt <args>` on `project` with `window` (first day, last day) in the environment; its wall and
    CPU seconds (the CPU time is steadier where a shared host takes CPU away)."""
    env = {**os.environ, "DO_NOT_TRACK": "1", "UC_DATA_DIR": str(data_dir), **(extra_env or {})}
    for name in WINDOW_ENV:
        env.pop(name, None)
    if window:
        env.update(zip(WINDOW_ENV, window, strict=True))
    cmd = [dbt_program(project.parent), *args, "--project-dir", str(project), "--profiles-dir",
           str(project), "--target-path", str(target), "--log-path", str(target / "logs")]
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-6000:])
        raise SystemExit(f"{project}: dbt {' '.join(args)} failed (exit {done.returncode})")
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime
