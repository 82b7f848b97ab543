"""Directory snapshot assets against the sandbox: each run lands a new `snapshot=<UTC time>` file per connection
(earlier ones kept) with the landing zone's columns, the listing's entries verbatim; a failing connection does
not stop the others, nor fail the step: its asset check fails instead."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import yaml

from uc_pipeline.assets.snapshots import SNAPSHOT_CHECK, build_snapshot_asset
from uc_pipeline.sandbox import Sandbox

from .support import sandbox_env

COLUMNS = ["_connection_id", "_window_start", "_window_end", "_extracted_at", "_record_id", "_record"]


def snapshots(data_dir: Path, provider: str, stream: str, connection_id: str) -> list[Path]:
    folder = data_dir / "landing" / provider / stream / f"connection={connection_id}"
    return sorted(folder.glob("snapshot=*/part.parquet"))


def test_each_run_lands_a_new_snapshot_of_the_directory(tmp_path: Path) -> None:
    connections = Sandbox.default_connections(["ringcentral"], calls_per_day=60, seed=4)
    conn_id = connections[0].connection_id
    with sandbox_env(tmp_path, connections) as env:
        asset = build_snapshot_asset("ringcentral", "extensions")
        for _ in range(2):
            result = dg.materialize([asset], resources={"uc": env.resource()}, instance=dg.DagsterInstance.ephemeral())
            assert result.success
        files = snapshots(env.data_dir, "ringcentral", "extensions", conn_id)
        assert len(files) in (1, 2)  # two runs within one second share the folder
        table = pq.read_table(files[-1])
        assert table.column_names == COLUMNS
        rows = table.to_pylist()
        records = {r["_record_id"]: json.loads(r["_record"]) for r in rows}
        assert {r["type"] for r in records.values()} >= {"User", "Department"}
        assert all(str(record["id"]) == key for key, record in records.items())
        stamp = files[-1].parent.name.removeprefix("snapshot=")
        assert rows[0]["_extracted_at"].strftime("%Y%m%dT%H%M%SZ") == stamp
        assert rows[0]["_window_start"] == rows[0]["_window_end"] == rows[0]["_extracted_at"]
        (mat,) = result.asset_materializations_for_node(asset.op.name)
        assert mat.metadata["dagster/row_count"].value == len(rows)


def test_failing_connection_does_not_stop_the_others(tmp_path: Path) -> None:
    good = Sandbox.default_connections(["aircall"], calls_per_day=30, seed=3)[0]
    bad = replace(good, connection_id="broken-aircall", seed=4, credentials=dict(good.credentials))
    with sandbox_env(tmp_path, [good, bad]) as env:
        entries = yaml.safe_load(env.connections_file.read_text())["connections"]
        token_var = next(e for e in entries if e["connection_id"] == "broken-aircall")["credentials"]["api_token"]
        os.environ[token_var] = "not-the-token"
        asset = build_snapshot_asset("aircall", "users")
        result = dg.materialize([asset], resources={"uc": env.resource()}, instance=dg.DagsterInstance.ephemeral())
        # the step succeeds (a directory never holds back the calls); its check fails, naming the connection
        assert result.success
        (check,) = result.get_asset_check_evaluations()
        assert check.check_name == SNAPSHOT_CHECK and not check.passed
        failed = check.metadata["failed"].value
        assert len(failed) == 1 and failed[0].startswith("broken-aircall")
        assert check.metadata["landed"].value == "demo-aircall"
        assert "not-the-token" not in json.dumps(failed)
        assert snapshots(env.data_dir, "aircall", "users", good.connection_id)
        assert not snapshots(env.data_dir, "aircall", "users", "broken-aircall")
