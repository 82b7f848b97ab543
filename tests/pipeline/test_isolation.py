"""The tests leave the user's environment alone, and dbt builds on two data directories do not meet:
each session has its own Dagster home, and dbt's target and logs follow the data directory."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import dagster as dg
import duckdb

from uc_pipeline.assets.extract import build_extract_assets
from uc_pipeline.sandbox import Sandbox

from .support import PARTITIONS, YESTERDAY, materialize_days, sandbox_env

REPO = Path(__file__).resolve().parents[2]
USER_INSTANCE = """\
# a user's instance file, which a test run must not rewrite
telemetry:
  enabled: false
run_monitoring:
  enabled: true
"""
DBT_BUILD = """
import os, sys
import dagster as dg
from uc_pipeline.definitions import build_definitions

defs = build_definitions()
job = defs.resolve_job_def("daily_refresh")
dbt_keys = [k for k in job.asset_layer.executable_asset_keys if not (k.path[0] == "raw" and len(k.path) == 3)]
result = job.execute_in_process(asset_selection=dbt_keys, partition_key=sys.argv[1],
                                instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
failures = [e.event_specific_data.error.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
(mat,) = [m for m in result.get_asset_materialization_events() if m.asset_key == dg.AssetKey(["uc", "uc_call"])]
meta = mat.materialization.metadata
types = {c.name: c.type for c in meta["dagster/column_schema"].value.columns}
print("UC_CALL", meta["dagster/row_count"].value, types["start_at"], types["call_date"], sep="|")
print("OK" if result.success else "FAILED\\n" + "\\n".join(failures))
"""


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


def test_the_session_has_its_own_dagster_home_and_data_dir() -> None:
    home = Path(os.environ["DAGSTER_HOME"]).resolve()
    assert home.is_relative_to(Path(tempfile.gettempdir()).resolve())
    assert Path(os.environ["UC_DATA_DIR"]).resolve().is_relative_to(Path(tempfile.gettempdir()).resolve())

    @dg.asset
    def probe() -> int:
        return 1

    instance = dg.DagsterInstance.get()
    assert Path(instance.root_directory).resolve() == home
    assert dg.materialize([probe], instance=instance).success
    assert instance.get_latest_materialization_event(dg.AssetKey("probe")) is not None


def test_an_exported_dagster_home_is_left_byte_identical(tmp_path: Path) -> None:
    home = tmp_path / "user_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(USER_INSTANCE, encoding="utf-8")
    before = tree_digest(home)
    env = {**os.environ, "DAGSTER_HOME": str(home), "UC_DATA_DIR": str(tmp_path / "user_data")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
         "tests/pipeline/test_isolation.py::test_the_session_has_its_own_dagster_home_and_data_dir",
         "tests/pipeline/test_schedule.py"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert tree_digest(home) == before
    assert not (tmp_path / "user_data").exists()


def test_two_dbt_builds_on_two_data_dirs_at_once_both_pass(tmp_path: Path) -> None:
    shared_target = REPO / "dbt_project" / "target"
    shared_before = set(shared_target.glob("*")) if shared_target.exists() else set()
    with sandbox_env(tmp_path, Sandbox.default_connections(calls_per_day=150, seed=5)) as env:
        assert materialize_days(build_extract_assets(PARTITIONS), env, YESTERDAY, YESTERDAY).success
        other = tmp_path / "other"
        shutil.copytree(env.data_dir, other)
        builds = []
        for data in (env.data_dir, other):
            child_env = {**os.environ, "UC_DATA_DIR": str(data), "UC_CONNECTIONS_FILE": str(env.connections_file)}
            builds.append(subprocess.Popen([sys.executable, "-c", DBT_BUILD, YESTERDAY.isoformat()], env=child_env,
                                           cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
        outputs = [b.communicate(timeout=900)[0] for b in builds]
    for data, out in zip((env.data_dir, other), outputs, strict=True):
        assert out.rstrip().endswith("OK"), out[-3000:]
        # the model's materialization carries its row count and its columns' warehouse types
        _, rows, start_type, date_type = next(x for x in out.splitlines() if x.startswith("UC_CALL|")).split("|")
        con = duckdb.connect(str(data / "warehouse.duckdb"), read_only=True)
        try:
            assert int(rows) == con.execute("select count(*) from uc.uc_call").fetchone()[0] > 0
        finally:
            con.close()
        assert (start_type, date_type) == ("TIMESTAMP WITH TIME ZONE", "DATE")
        assert (data / "dbt" / "target" / "manifest.json").exists()
        assert list((data / "dbt" / "target").glob("dbt_daily_models-*/dbt.log"))
    # nothing of either build went to the project's own target folder
    assert (set(shared_target.glob("*")) if shared_target.exists() else set()) == shared_before
