"""The dbt-duckdb plugin (profiles.yml, `plugins:`) that lets dbt read a landing zone in an object store.

When `UC_LANDING_URL` is an object store, it loads httpfs from its installed package and creates the
S3 secret from the AWS variables on dbt's DuckDB database (duckdb_remote.py), so the sources'
`read_parquet('s3://…')` work with automatic extension install and load off, then reads the landed files
the run will read (the partition window's days when Dagster sets UC_START_DATE/UC_END_DATE, else all)
whole into DuckDB's file cache, one GET each (duckdb_remote.warm_landing_cache). For a local landing
zone it does nothing. Plugins: https://github.com/duckdb/dbt-duckdb#writing-your-own-plugins
"""

from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from uc_pipeline.duckdb_remote import enable_object_store, warm_landing_cache
from uc_pipeline.settings import WINDOW_ENV, landing_url


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        url = landing_url()
        if enable_object_store(conn, [url]):
            start, end = (os.environ.get(name) for name in WINDOW_ENV)
            warm_landing_cache(conn, url, (start, end) if start and end else None)
