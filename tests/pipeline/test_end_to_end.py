"""The whole code location against the sandbox: landing -> dbt -> serving in Dagster runs, while a BI
reader holds the serving snapshot."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from uc_pipeline.assets.schedules import range_tags
from uc_pipeline.providers import PROVIDER_IDS
from uc_pipeline.sandbox import Sandbox

from .support import YESTERDAY, failed_error_checks, run_job, sandbox_env

FIRST_DAY = YESTERDAY - timedelta(days=1)
BI_READER = """
import sys
import sqlalchemy as sa
engine = sa.create_engine("duckdb:///" + sys.argv[1], connect_args={"read_only": True})
with engine.connect() as con:
    count = "select count(*) from uc.uc_call"
    print(con.execute(sa.text(count)).scalar(), flush=True)
    sys.stdin.readline()
    print(con.execute(sa.text(count)).scalar(), flush=True)
"""


@pytest.fixture(scope="module")
def location(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    tmp = tmp_path_factory.mktemp("e2e")
    with sandbox_env(tmp, Sandbox.default_connections(calls_per_day=25, seed=21)) as env:
        os.environ["UC_DATA_DIR"] = str(env.data_dir)
        os.environ["UC_CONNECTIONS_FILE"] = str(env.connections_file)
        from uc_pipeline.definitions import build_definitions

        yield build_definitions(), env


def uc_call_counts(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return dict(con.execute("select provider, count(*) from uc.uc_call group by 1").fetchall())
    finally:
        con.close()


def loads_of_day(path: Path, day: date) -> set[Any]:
    """When the day's calls were (re)written (`_loaded_at`). Zendesk's are left out: its incremental
    export is by update time, so a later partition lands a call of this day again when it changed."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        sql = "select _loaded_at from uc.uc_call where call_date = ? and provider <> 'zendesk'"
        rows = con.execute(sql, [day]).fetchall()
        return {row[0] for row in rows}
    finally:
        con.close()


def test_landing_to_marts_in_one_run_then_publish_under_a_bi_reader(location: tuple) -> None:
    defs, env = location
    daily = run_job(defs, "daily_refresh", range_tags(FIRST_DAY, FIRST_DAY))
    materialized = {e.asset_key.to_user_string() for e in daily.get_asset_materialization_events()}
    assert {"raw/aircall/calls", "uc/uc_call", "reporting/kpi_daily"} <= materialized
    assert not failed_error_checks(daily), failed_error_checks(daily)
    run_job(defs, "publish", {})
    serving = env.data_dir / "serving.duckdb"
    first = uc_call_counts(serving)
    assert set(first) == set(PROVIDER_IDS)
    first_day_loads = loads_of_day(env.data_dir / "warehouse.duckdb", FIRST_DAY)

    # A BI tool in its own process holds a read-only SQLAlchemy connection throughout.
    reader = subprocess.Popen(
        [sys.executable, "-c", BI_READER, str(serving)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        before = int(reader.stdout.readline())
        second_daily = run_job(defs, "daily_refresh", range_tags(YESTERDAY, YESTERDAY))  # dbt writes meanwhile
        run_job(defs, "publish", {})
        out, _ = reader.communicate("again\n", timeout=60)
    finally:
        reader.kill()
    assert reader.returncode == 0 and int(out) == before  # a consistent view, never half a build
    second = uc_call_counts(serving)
    assert all(second[p] > first[p] for p in PROVIDER_IDS)
    # the second partition's dbt run was windowed to its day (through the environment, restored after)
    # and started from the code location's parse of the project instead of parsing it again
    assert loads_of_day(env.data_dir / "warehouse.duckdb", FIRST_DAY) == first_day_loads
    assert not {"UC_START_DATE", "UC_END_DATE"} & set(os.environ)
    (dbt_log,) = (env.data_dir / "dbt" / "target").glob(f"dbt_daily_models-{second_daily.run_id[:7]}-*/dbt.log")
    log = dbt_log.read_text()
    assert "Partial parsing enabled" in log and "Unable to do partial parsing" not in log
    assert (env.data_dir / "reports" / "kpi_last_30_days.png").stat().st_size > 10_000


def test_readme_example_queries_run_on_the_serving_snapshot(location: tuple) -> None:
    _, env = location
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    queries = [q.strip() for q in readme.split("```sql")[1].split("```")[0].split(";") if "select" in q]
    # "today" is the day after the data's last, even when the tests run past midnight
    today = f"date '{(YESTERDAY + timedelta(days=1)).isoformat()}'"
    assert len(queries) >= 4
    con = duckdb.connect(str(env.data_dir / "serving.duckdb"), read_only=True)
    try:
        for query in queries:
            assert con.execute(query.replace("current_date", today)).fetchall(), query
    finally:
        con.close()
