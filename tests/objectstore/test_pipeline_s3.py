"""The pipeline with its landing zone in an S3 bucket (a real S3 server on loopback): Dagster extract
assets land the sandbox's ground truth there, dbt builds the unified model from it through DuckDB's
httpfs, and the serving snapshot published to the bucket is attached read-only by a remote reader, as
the README's recipe does, with no DuckDB extension ever downloaded.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from tests.pipeline.support import YESTERDAY, day_bounds, failed_error_checks, run_job, sandbox_env
from tests.pipeline.test_extract_assets import test_three_days_land_exactly_the_ground_truth as land_and_compare
from tests.s3_server import ACCESS_KEY_ID, REGION, SECRET_ACCESS_KEY, S3Landing
from uc_pipeline.assets.schedules import range_tags
from uc_pipeline.duckdb_remote import httpfs_path
from uc_pipeline.landing import partition_key
from uc_pipeline.providers import get_provider
from uc_pipeline.sandbox import Sandbox

DAY = YESTERDAY - timedelta(days=1)
README = Path(__file__).resolve().parents[2] / "README.md"
# The field of each provider's call stream that uc_call keeps as `source_id` (models/uc/_uc.yml).
CALL_STREAM_ID = {
    "aircall": ("calls", "id"),
    "ringcentral": ("call_log", "sessionId"),
    "eightbyeight": ("recordings", "transactionID"),
    "zendesk": ("calls", "id"),
}


@pytest.mark.parametrize("provider", ["aircall", "ringcentral"])
def test_extract_assets_land_the_ground_truth_in_the_bucket(
    s3_landing: S3Landing, tmp_path: Path, provider: str
) -> None:
    # The same Dagster runs and ground-truth comparison as a local landing zone (read back through S3).
    land_and_compare(tmp_path, provider)
    days = [YESTERDAY - timedelta(days=i) for i in (2, 1, 0)]
    connection_id = f"demo-{provider}"
    expected = {f"landing/{partition_key(provider, s, connection_id, d)}"
                for s in get_provider(provider).streams for d in days}
    assert set(s3_landing.object_keys()) == expected
    assert not (tmp_path / "data" / "landing").exists()


def remote_recipe(landing: S3Landing) -> str:
    """The README's remote-reader recipe with this test's server and credentials filled in."""
    section = README.read_text(encoding="utf-8").split("## Beyond one machine", 1)[1]
    recipe = section.split("```sql", 1)[1].split("```", 1)[0]
    endpoint = landing.endpoint.removeprefix("http://")
    values = {"<AWS_ACCESS_KEY_ID>": ACCESS_KEY_ID, "<AWS_SECRET_ACCESS_KEY>": SECRET_ACCESS_KEY,
              "<AWS_REGION>": REGION, "s3://bucket/uc/serving.duckdb": landing.serving_url}
    for placeholder, value in values.items():
        assert placeholder in recipe, placeholder
        recipe = recipe.replace(placeholder, value)
    # An S3-compatible store: the recipe's optional endpoint lines, uncommented.
    recipe = re.sub(r"--\s*,\s*(ENDPOINT|URL_STYLE|USE_SSL)", r", \1", recipe)
    return recipe.replace("<host:port>", endpoint).replace("<true|false>", "false")


def test_daily_run_builds_from_the_bucket_and_publishes_for_remote_readers(
    s3_landing: S3Landing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # dbt's DuckDB would install extensions under $HOME/.duckdb: it must install none.
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    connections = Sandbox.default_connections(list(CALL_STREAM_ID), calls_per_day=25, seed=21)
    with sandbox_env(tmp_path, connections) as env:
        os.environ["UC_DATA_DIR"] = str(env.data_dir)
        os.environ["UC_CONNECTIONS_FILE"] = str(env.connections_file)
        from uc_pipeline.definitions import build_definitions

        defs = build_definitions()
        # the day, volume and seed of tests/pipeline/test_end_to_end.py, whose error-level checks pass locally
        daily = run_job(defs, "daily_refresh", range_tags(DAY, DAY))
        assert not failed_error_checks(daily), failed_error_checks(daily)
        run_job(defs, "publish", {})
        truth = {}
        for conn in connections:
            stream, field = CALL_STREAM_ID[conn.provider]
            records = env.sandbox.records(conn.connection_id, stream, *day_bounds(DAY))
            # a RingCentral record without `sessionId` is keyed by its own `id`
            truth[conn.provider] = {str(r.get(field) or r["id"]) for r in records}

    assert not (env.data_dir / "landing").exists()
    assert any(k.startswith("landing/aircall/calls/") for k in s3_landing.object_keys())
    assert "serving.duckdb" in s3_landing.object_keys()
    installed = [p for p in (home / ".duckdb").rglob("*") if p.is_file()]
    assert installed == [], "a DuckDB extension was installed (downloaded)"

    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        con.execute(f"LOAD '{httpfs_path()}'")
        for statement in remote_recipe(s3_landing).split(";"):
            if statement.strip():
                con.execute(statement)
        rows = con.execute("select provider, source_id from uc_serving.uc.uc_call").fetchall()
        with pytest.raises(duckdb.Error):
            con.execute("create table uc_serving.main.written_by_a_reader (x int)")
    finally:
        con.close()
    served = {p: {s for q, s in rows if q == p} for p in CALL_STREAM_ID}
    for provider in CALL_STREAM_ID:
        assert truth[provider], f"{provider}: the sandbox generated no call that day"
        assert served[provider] == truth[provider], provider
    local = duckdb.connect(str(env.data_dir / "serving.duckdb"), read_only=True)
    try:
        assert local.execute("select count(*) from uc.uc_call").fetchone()[0] == len(rows)
    finally:
        local.close()
