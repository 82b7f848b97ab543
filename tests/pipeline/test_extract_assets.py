"""Extract assets against the sandbox: landed records equal the ground truth, partition by partition."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from uc_pipeline.assets.extract import TOTAL_CHECK, build_extract_asset
from uc_pipeline.landing import read_partition
from uc_pipeline.providers import PROVIDER_IDS, get_provider
from uc_pipeline.sandbox import Sandbox

from .support import PARTITIONS, YESTERDAY, day_bounds, materialize_days, sandbox_env

DAYS = [YESTERDAY - timedelta(days=i) for i in (2, 1, 0)]


def landed(env, provider: str, stream: str, connection_id: str, day) -> list[dict]:
    rows = read_partition(env.data_dir, provider, stream, connection_id, day).to_pylist()
    return rows


@pytest.mark.parametrize("provider", PROVIDER_IDS)
def test_three_days_land_exactly_the_ground_truth(tmp_path: Path, provider: str) -> None:
    connections = Sandbox.default_connections([provider], calls_per_day=40, seed=7)
    with sandbox_env(tmp_path, connections) as env:
        streams = list(get_provider(provider).streams)
        assets = [build_extract_asset(provider, s, PARTITIONS) for s in streams]
        result = materialize_days(assets, env, DAYS[0], DAYS[-1])
        assert result.success
        conn_id = connections[0].connection_id
        for stream in streams:
            for day in DAYS:
                rows = landed(env, provider, stream, conn_id, day)
                truth = env.sandbox.records(conn_id, stream, *day_bounds(day))
                emulator = env.sandbox.emulator(provider)
                expected = {emulator.record_id(stream, r): r for r in truth}
                ids = [r["_record_id"] for r in rows]
                assert len(ids) == len(set(ids)), "duplicate record ids in a partition"
                assert set(ids) == set(expected), f"{stream} {day}: landed ids differ from the ground truth"
                for row in rows:
                    assert json.loads(row["_record"]) == expected[row["_record_id"]]
        assert not env.sandbox.request_log.violations()
        assert not env.sandbox.request_log.duplicate_pages()
        for check in result.get_asset_check_evaluations():
            assert check.check_name == TOTAL_CHECK and check.passed
        mats = result.asset_materializations_for_node(assets[0].op.name)
        assert {m.partition for m in mats} == {d.isoformat() for d in DAYS}
        # one run covered three days; each partition's materialization reports that day's own records
        stream = streams[0]
        for m in mats:
            day = next(d for d in DAYS if d.isoformat() == m.partition)
            truth = env.sandbox.records(conn_id, stream, *day_bounds(day))
            assert m.metadata["dagster/row_count"].value == len(truth), m.partition
            (entry,) = m.metadata["partitions"].value
            assert (entry["connection"], entry["day"], entry["records"]) == (conn_id, m.partition, len(truth))


def test_failing_connection_does_not_stop_the_others(tmp_path: Path) -> None:
    good = Sandbox.default_connections(["aircall"], calls_per_day=30, seed=3)[0]
    bad = replace(good, connection_id="broken-aircall", seed=4, credentials=dict(good.credentials))
    with sandbox_env(tmp_path, [good, bad]) as env:
        entries = yaml.safe_load(env.connections_file.read_text())["connections"]
        token_var = next(e for e in entries if e["connection_id"] == "broken-aircall")["credentials"]["api_token"]
        os.environ[token_var] = "not-the-token"
        asset = build_extract_asset("aircall", "calls", PARTITIONS)
        result = materialize_days([asset], env, YESTERDAY, YESTERDAY)
        assert not result.success
        failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
        message = failure.event_specific_data.error.message
        assert "broken-aircall" in message and "demo-aircall" not in message.split("Landed in this run:")[0]
        assert "Landed in this run: demo-aircall" in message
        assert read_partition(env.data_dir, "aircall", "calls", good.connection_id, YESTERDAY).num_rows > 0
        assert "not-the-token" not in message
        assert "credentials" in message  # says what to check


def test_backfill_before_history_start_is_clamped_with_a_warning(tmp_path: Path) -> None:
    conn = replace(Sandbox.default_connections(["aircall"], calls_per_day=20)[0], history_start=YESTERDAY)
    with sandbox_env(tmp_path, [conn]) as env:
        asset = build_extract_asset("aircall", "calls", PARTITIONS)
        result = materialize_days([asset], env, YESTERDAY - timedelta(days=2), YESTERDAY)
        assert result.success
        mats = result.asset_materializations_for_node(asset.op.name)
        assert mats and all(m.metadata["days_before_history_start"].value == {conn.connection_id: 2} for m in mats)
        root = env.data_dir / "landing" / "aircall" / "calls" / f"connection={conn.connection_id}"
        assert sorted(p.name for p in root.iterdir()) == [f"date={YESTERDAY.isoformat()}"]
