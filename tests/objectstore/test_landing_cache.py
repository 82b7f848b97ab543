"""dbt's read of a landing zone in S3 (a real S3 server on loopback): every landed file the run needs is read
whole once, one GET each, and no later query of the run fetches it again (duckdb_remote.warm_landing_cache,
called by the dbt plugin). DuckDB's own HTTP log counts the requests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from tests.s3_server import S3Landing
from uc_pipeline.duckdb_remote import connect, warm_landing_cache
from uc_pipeline.landing import write_partition

DAYS = [date(2026, 11, 1) + timedelta(days=n) for n in range(3)]


def land_days(data_dir: Path) -> None:
    for day in DAYS:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        records = [(str(n), {"id": n, "day": str(day), "note": "x" * 40}) for n in range(200)]
        end = start + timedelta(days=1)
        write_partition(data_dir, "aircall", "calls", "acme", day, records,
                        window_start=start, window_end=end, extracted_at=end)


def file_gets(con: duckdb.DuckDBPyConnection, after: int = 0) -> list[str]:
    """The landed objects fetched (GET requests of a `part.parquet`) in the HTTP log's rows after `after`."""
    rows = con.execute("select message from duckdb_logs where type = 'HTTP' offset ?", [after]).fetchall()
    return [m for (m,) in rows if "'type': GET" in m and "part.parquet" in m.split("'headers'")[0]]


def log_size(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select count(*) from duckdb_logs where type = 'HTTP'").fetchone()[0]


def test_a_windowed_run_reads_its_days_files_once_and_queries_fetch_nothing_more(
        s3_landing: S3Landing, tmp_path: Path) -> None:
    land_days(tmp_path)
    con = connect(urls=[s3_landing.url])
    con.execute("set enable_logging = true; set logging_level = 'debug'; set enabled_log_types = 'HTTP'")
    try:
        assert warm_landing_cache(con, s3_landing.url, (str(DAYS[1]), str(DAYS[1]))) == 1
        gets = file_gets(con)
        assert len(gets) == 1 and f"date%3D{DAYS[1]}" in gets[0]

        assert warm_landing_cache(con, s3_landing.url) == 3
        warmed = log_size(con)
        glob = f"read_parquet('{s3_landing.url}/*/*/*/*/part.parquet', hive_partitioning = true)"
        # two queries reading different columns, as a build's source tests and staging models do
        assert con.execute(f"select count(*), count(distinct _record_id) from {glob}").fetchone() == (600, 200)
        days = con.execute(f"select distinct json_extract_string(_record, '$.day') from {glob} order by 1").fetchall()
        assert [d for (d,) in days] == [str(d) for d in DAYS]
        assert file_gets(con, warmed) == [], "a landed file was fetched again after the warm-up"
    finally:
        con.close()


def test_nothing_landed_warms_nothing(s3_landing: S3Landing) -> None:
    con = connect(urls=[s3_landing.url])
    try:
        assert warm_landing_cache(con, s3_landing.url) == 0
        assert warm_landing_cache(con, s3_landing.url, (str(DAYS[0]), str(DAYS[2]))) == 0
    finally:
        con.close()
