"""The code location as a `dg` project: `dg check defs` and `dg list defs` pass, and loading it prints
no warning (no beta or deprecation warning of ours, no ignored dagster.yaml). Its catalog reads well:
the seeds carry no partitions, and every check has a name of its own and says what it asserts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster
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


@pytest.fixture(scope="module")
def defs() -> dagster.Definitions:
    from uc_pipeline.definitions import build_definitions

    return build_definitions()


def test_seeds_are_unpartitioned_and_described(defs: dagster.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    seeds = [k for k in graph.get_all_asset_keys() if k.path[0] == "seeds"]
    # dbt_project/seeds/: coverage and enums of each of the four providers
    assert len(seeds) >= 8
    for key in seeds:
        node = graph.get(key)
        assert node.partitions_def is None, f"{key.to_user_string()} shows partitions"
        assert node.description and not node.description.startswith("dbt seed"), key.to_user_string()
    # what reads them stays partitioned, and depends on them
    uc_call = graph.get(dagster.AssetKey(["staging", "stg_aircall__uc_call"]))
    assert uc_call.partitions_def is not None
    enums = dagster.AssetKey(["seeds", "aircall_enums"])
    assert enums in uc_call.parent_keys
    assert enums in defs.resolve_job_def("daily_refresh").asset_layer.executable_asset_keys  # loaded first


# what dbt names a test nobody named: `<test>_<model>_<column>[__<args>]`, a hash when that is too long
DBT_GENERATED = re.compile(r"^(not_null|unique|accepted_values|relationships|dbt_utils|source)_|_[0-9a-f]{10}$")


def test_every_check_has_a_name_of_its_own_and_a_description(defs: dagster.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    specs = [graph.get_check_spec(key) for key in graph.asset_check_keys]
    assert len(specs) >= 40  # the dbt data tests of models (sources' are not checks) and the Python checks
    generated = [s.name for s in specs if DBT_GENERATED.search(s.name)]
    assert generated == [], "checks with dbt's generated names; give the tests a `name:` in the yml"
    undescribed = [s.name for s in specs if not (s.description or "").strip()]
    assert undescribed == [], "checks without a description; give the tests a `description:` in the yml"
    names = [s.name for s in specs]
    assert "uc_call_id_is_unique" in names and "kpi_daily_grain_is_unique" in names
