"""Zoom Phone through Dagster: three days of both extract assets materialized in one run against the sandbox,
with the fault matrix on (5xx, resets, truncated and slow answers, 429 storms with and without Retry-After,
tokens dying, an expired page token, schema drift), land exactly the sandbox's ground truth (ids, no
duplicates, records verbatim), and the request log shows no request over a quota, the daily one included."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from uc_pipeline.assets.extract import build_extract_asset
from uc_pipeline.landing import read_partition
from uc_pipeline.providers import get_provider
from uc_pipeline.sandbox import FaultSpec, Sandbox

from .support import PARTITIONS, YESTERDAY, day_bounds, materialize_days, sandbox_env

DAYS = [YESTERDAY - timedelta(days=i) for i in (2, 1, 0)]
FAULTS = FaultSpec(error_5xx_rate=0.1, reset_rate=0.03, truncated_rate=0.03, slow_rate=0.02, slow_s=1.0,
                   storm_429=2, storm_429_no_retry_after=2, token_expiry_after=25, drift_extra_fields=True, seed=12)


def test_three_days_under_faults_land_the_ground_truth_within_every_quota(tmp_path: Path) -> None:
    base = Sandbox.default_connections(["zoomphone"], calls_per_day=40, seed=23)[0]
    # A small daily Heavy budget on the account (three days need three pages, plus what faults make the
    # client send again): any request over it would show in the request log.
    conn = replace(base, faults=FAULTS, options={"expire_page_tokens": 1, "daily_limit": 40})
    with sandbox_env(tmp_path, [conn]) as env:
        streams = list(get_provider("zoomphone").streams)
        assets = [build_extract_asset("zoomphone", s, PARTITIONS) for s in streams]
        result = materialize_days(assets, env, DAYS[0], DAYS[-1])
        failures = [e.event_specific_data.error.message for e in result.all_events
                    if e.event_type_value == "STEP_FAILURE"]
        assert result.success, "\n".join(failures)
        emulator = env.sandbox.emulator("zoomphone")
        for stream in streams:
            for day in DAYS:
                rows = read_partition(env.data_dir, "zoomphone", stream, conn.connection_id, day).to_pylist()
                truth = {emulator.record_id(stream, r): r
                         for r in env.sandbox.records(conn.connection_id, stream, *day_bounds(day))}
                ids = [r["_record_id"] for r in rows]
                assert len(ids) == len(set(ids)), f"{stream} {day}: duplicate ids"
                assert set(ids) == set(truth), f"{stream} {day}: landed ids differ from the ground truth"
                for row in rows:
                    assert json.loads(row["_record"]) == json.loads(json.dumps(truth[row["_record_id"]]))
        log = env.sandbox.request_log
        assert not log.violations(conn.connection_id)
        faults = env.sandbox.fault_counts(conn.connection_id)
        assert sum(v for k, v in faults.items() if k.startswith("http_5")) > 0, faults
        assert faults.get("token_expiry", 0) > 0, faults
        daily = [e for e in log.entries(conn.connection_id) if e.status == 429 and not e.fault]
        assert not daily, "a 429 the sandbox did not inject: a quota was exceeded"
