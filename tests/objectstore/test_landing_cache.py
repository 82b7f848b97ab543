"""dbt over a landing zone in S3 (a real S3 server on loopback): the run's `on-run-start` statement
(macros/landing.sql, uc_prefetch_landing) reads every landed file its selected nodes will query whole, one
GET each, and no later query fetches that file again; a run that reads no landed file fetches nothing.

The statement is taken from dbt's own log of a real run, then run with the queries a build makes on a DuckDB
connection whose HTTP log counts the requests."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from tests.dbt_staging import dbtrun
from tests.s3_server import S3Landing
from uc_pipeline.duckdb_remote import connect
from uc_pipeline.landing import write_partition

DAYS = [date(2026, 11, 1) + timedelta(days=n) for n in range(3)]
HOOK = re.compile(r"select count\(\*\) as landed_files_prefetched.*?read_blob\(\[(.*?)\]\)")


def land_days(data_dir: Path) -> None:
    for day in DAYS:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        end = start + timedelta(days=1)
        records = [(str(n), {"id": n, "direction": "inbound", "status": "done", "started_at": int(start.timestamp())})
                   for n in range(200)]
        write_partition(data_dir, "aircall", "calls", "acme", day, records,
                        window_start=start, window_end=end, extracted_at=end)


def hook_statements(data_dir: Path) -> list[str]:
    """The on-run-start statements of the runs logged in `data_dir`'s dbt log, in order."""
    log = (data_dir / "logs" / "dbt.log").read_text()
    return re.findall(r"\*/\n(select [^\n]*landed_files_prefetched[^\n]*)\n", log)


def file_gets(con: duckdb.DuckDBPyConnection, after: int = 0) -> list[str]:
    """The landed objects fetched (GETs of a `part.parquet`) in the HTTP log after its first `after` rows."""
    rows = con.execute("select message from duckdb_logs where type = 'HTTP' offset ?", [after]).fetchall()
    return [m for (m,) in rows if "'type': GET" in m and "part.parquet" in m.split("'headers'")[0]]


def test_a_windowed_build_fetches_its_days_files_once_and_a_seed_load_fetches_none(
        s3_landing: S3Landing, tmp_path: Path) -> None:
    land_days(tmp_path)
    day = str(DAYS[1])
    dbtrun.dbt(tmp_path, ["build", "--select", "+stg_aircall__uc_call", "--exclude-resource-type", "unit_test"],
               vars={"uc_start_date": day, "uc_end_date": day})
    dbtrun.dbt(tmp_path, ["build", "--select", "resource_type:seed"])
    windowed, seeds_only = hook_statements(tmp_path)[-2:]
    assert seeds_only == "select 0 as landed_files_prefetched"
    patterns = re.findall(r"'([^']+)'", HOOK.search(windowed).group(1))
    assert f"{s3_landing.url}/aircall/calls/*/date={day}/part.parquet" in patterns
    assert all("/aircall/" in p for p in patterns), patterns  # only the streams the selected nodes read
    assert not [p for p in patterns if "date=" in p and day not in p], patterns

    con = connect(urls=[s3_landing.url])
    con.execute("set enable_logging = true; set logging_level = 'debug'; set enabled_log_types = 'HTTP'")
    try:
        assert con.execute(windowed).fetchone()[0] == 1
        fetched = file_gets(con)
        assert len(fetched) == 1 and f"date%3D{day}" in fetched[0]
        warmed = con.execute("select count(*) from duckdb_logs where type = 'HTTP'").fetchone()[0]
        files = f"read_parquet('{s3_landing.url}/aircall/calls/*/date={day}/part.parquet', hive_partitioning = true)"
        # queries reading different columns, as a build's source tests and parsing models do
        assert con.execute(f"select count(*) from {files} where _record_id is null").fetchone() == (0,)
        assert con.execute(f"select count(distinct _record_id), count(_record) from {files}").fetchone() == (200, 200)
        assert file_gets(con, warmed) == [], "a landed file was fetched again after the prefetch"
    finally:
        con.close()
