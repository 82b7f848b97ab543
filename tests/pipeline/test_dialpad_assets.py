"""The Dialpad extract asset through Dagster against the sandbox: three days materialized in one run land
exactly the sandbox's ground truth (every id once, every record verbatim) with the fault matrix injected,
and the request log shows no request over Dialpad's quota."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from uc_pipeline.assets.extract import build_extract_asset
from uc_pipeline.landing import read_partition
from uc_pipeline.sandbox import FaultSpec, SandboxConnection

from .support import PARTITIONS, YESTERDAY, day_bounds, materialize_days, sandbox_env

DAYS = [YESTERDAY - timedelta(days=i) for i in (2, 1, 0)]
FAULT_MATRIX = FaultSpec(error_5xx_rate=0.15, reset_rate=0.1, truncated_rate=0.05, malformed_rate=0.0,
                         slow_rate=0.1, slow_s=1.0, storm_429=2, storm_429_no_retry_after=1, seed=5)


def test_three_days_land_exactly_the_ground_truth_under_faults(tmp_path: Path) -> None:
    conn = SandboxConnection(provider="dialpad", connection_id="dp-assets", credentials={"api_key": "dp-assets-key"},
                             seed=9, calls_per_day=600, history_start=YESTERDAY - timedelta(days=10),
                             options={"int64": "mixed"}, faults=FAULT_MATRIX)
    with sandbox_env(tmp_path, [conn]) as env:
        asset = build_extract_asset("dialpad", "calls", PARTITIONS)
        # Timeouts under the 1 s slow answers; retries enough for the faults drawn.
        result = materialize_days([asset], env, DAYS[0], DAYS[-1], http_timeout_s=0.5, http_max_attempts=10)
        assert result.success
        for day in DAYS:
            rows = read_partition(env.data_dir, "dialpad", "calls", conn.connection_id, day).to_pylist()
            truth = env.sandbox.records(conn.connection_id, "calls", *day_bounds(day))
            expected = {str(int(r["call_id"])): json.loads(json.dumps(r)) for r in truth}
            ids = [r["_record_id"] for r in rows]
            assert len(ids) == len(set(ids)), f"{day}: a call landed twice"
            assert set(ids) == set(expected) and len(ids) > 100, day
            for row in rows:
                assert json.loads(row["_record"]) == expected[row["_record_id"]]
        log = env.sandbox.request_log
        assert log.violations(conn.connection_id) == []
        counts = env.sandbox.fault_counts(conn.connection_id)
        assert counts.get("storm_429") == 2 and sum(n for k, n in counts.items() if k.startswith("http_5")) > 0
        mats = result.asset_materializations_for_node(asset.op.name)
        assert {m.partition for m in mats} == {d.isoformat() for d in DAYS}
        for m in mats:
            day = next(d for d in DAYS if d.isoformat() == m.partition)
            assert m.metadata["dagster/row_count"].value == len(
                env.sandbox.records(conn.connection_id, "calls", *day_bounds(day)))
