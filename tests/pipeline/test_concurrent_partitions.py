"""Partitions extracted at once in separate processes: ten of one connection stay under the quota, and three
materializations of the same partition all succeed and leave one complete file."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from uc_pipeline.landing import partition_path, read_partition
from uc_pipeline.sandbox import QuotaSpec, Sandbox

from .support import YESTERDAY, day_bounds, sandbox_env

WORKER = """
import sys
from datetime import date
from uc_pipeline.connections import load_connections
from uc_pipeline.extract import extract_partition
from uc_pipeline.http import HttpSettings
connections_file, data_dir, day, limiter = sys.argv[1:5]
(conn,) = load_connections(connections_file)
result = extract_partition(conn, "calls", date.fromisoformat(day), data_dir=data_dir,
                           settings=HttpSettings(limiter_url=limiter, state_dir=data_dir + "/state"))
print(result.landed.rows, result.http.get("throttled"))
"""


def test_ten_concurrent_partitions_never_exceed_the_quota(tmp_path: Path) -> None:
    conn = replace(
        Sandbox.default_connections(["aircall"], calls_per_day=150, seed=11)[0],
        quotas={"default": QuotaSpec(requests=5, window_s=1.0)},
    )
    days = [YESTERDAY - timedelta(days=i) for i in range(10)]
    with sandbox_env(tmp_path, [conn]) as env:
        limiter = f"sqlite:///{tmp_path / 'ratelimit.sqlite'}"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(env.connections_file), str(env.data_dir), day.isoformat(), limiter],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for day in days
        ]
        outputs = [p.communicate(timeout=300) for p in procs]
        for proc, (out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, err
            assert out.split()[1] == "0", "a 429 means the shared limiter let too many requests through"
        log = env.sandbox.request_log
        assert not log.violations(), f"{len(log.violations())} requests over the quota"
        assert not log.duplicate_pages()
        for day in days:
            landed = {
                r["_record_id"]
                for r in read_partition(env.data_dir, "aircall", "calls", conn.connection_id, day).to_pylist()
            }
            assert landed == set(env.sandbox.record_ids(conn.connection_id, "calls", *day_bounds(day)))


MATERIALIZE_WORKER = """
import sys
import dagster as dg
from uc_pipeline.assets.extract import build_extract_asset
from uc_pipeline.assets.resources import PipelineResource
from tests.pipeline.support import PARTITIONS
connections_file, data_dir, day, limiter = sys.argv[1:5]
asset = build_extract_asset("aircall", "calls", PARTITIONS)
resource = PipelineResource(data_dir=data_dir, connections_file=connections_file, limiter_url=limiter)
result = dg.materialize([asset], resources={"uc": resource}, instance=dg.DagsterInstance.ephemeral(),
                        partition_key=day, raise_on_error=False)
print("success" if result.success else "failure")
"""


def test_three_processes_materializing_the_same_partition_all_succeed(tmp_path: Path) -> None:
    """A backfill beside the schedule's lookback: the same partition materialized by three processes at once."""
    conn = Sandbox.default_connections(["aircall"], calls_per_day=400, seed=12)[0]
    with sandbox_env(tmp_path, [conn]) as env:
        limiter = f"sqlite:///{tmp_path / 'ratelimit.sqlite'}"
        args = [str(env.connections_file), str(env.data_dir), YESTERDAY.isoformat(), limiter]
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", MATERIALIZE_WORKER, *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=Path(__file__).resolve().parents[2],
            )
            for _ in range(3)
        ]
        outputs = [p.communicate(timeout=600) for p in procs]
        for proc, (out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0 and out.split() == ["success"], err[-3000:]
        truth = set(env.sandbox.record_ids(conn.connection_id, "calls", *day_bounds(YESTERDAY)))
        table = read_partition(env.data_dir, "aircall", "calls", conn.connection_id, YESTERDAY)
        assert sorted(table.column("_record_id").to_pylist()) == sorted(truth)
        folder = partition_path(env.data_dir, "aircall", "calls", conn.connection_id, YESTERDAY).parent
        assert sorted(p.name for p in folder.iterdir()) == ["part.parquet"]
