"""The code location as a `dg` project: `dg check defs` and `dg list defs` pass, and loading it prints
no warning (no beta or deprecation warning of ours, no ignored dagster.yaml)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def dg_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # `dg` compares the active virtual environment with the project's; name the one running the tests.
    return {**os.environ, "VIRTUAL_ENV": sys.prefix, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "UC_DATA_DIR": str(tmp_path_factory.mktemp("dg") / "data")}


def dg(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "dg"), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=900)


def test_dg_check_defs_passes_without_warnings(dg_env: dict[str, str]) -> None:
    run = dg(["check", "defs"], dg_env)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "All definitions loaded successfully" in output
    assert "warning" not in output.lower(), output


def test_dg_list_defs_names_the_jobs_schedule_and_sensor(dg_env: dict[str, str]) -> None:
    run = dg(["list", "defs", "--json"], dg_env)
    assert run.returncode == 0, run.stdout + run.stderr
    listed = json.loads(run.stdout)
    assert {j["name"] for j in listed["jobs"]} >= {"daily_refresh", "publish"}
    assert [s["name"] for s in listed["schedules"]] == ["daily_refresh_schedule"]
    assert sorted(s["name"] for s in listed["sensors"]) == ["dead_run_reaper", "publish_after_warehouse_update"]
    assert {"raw/aircall/calls", "uc/uc_call", "raw_views/aircall_calls"} <= {a["asset_key"] for a in listed["assets"]}


def test_loading_the_code_location_warns_nothing(dg_env: dict[str, str]) -> None:
    # Python's default filters, i.e. what a user sees (Dagster's beta and supersession warnings show)
    run = subprocess.run([sys.executable, "-c", "import uc_pipeline.definitions"], cwd=REPO,
                         env=dg_env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "Warning" not in run.stderr, run.stderr
