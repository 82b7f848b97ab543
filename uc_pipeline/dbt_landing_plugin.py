"""The dbt-duckdb plugin (profiles.yml, `plugins:`) that lets dbt read a landing zone in an object store.

When `UC_LANDING_URL` is an object store, it loads httpfs from its installed package and creates the
S3 secret from the AWS variables on dbt's DuckDB database (duckdb_remote.py), so the sources'
`read_parquet('s3://…')` work with automatic extension install and load off. For a local landing
zone it does nothing. Plugins: https://github.com/duckdb/dbt-duckdb#writing-your-own-plugins
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from uc_pipeline.settings import is_object_store, landing_url


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        url = landing_url()
        if not is_object_store(url):
            return
        # imported here: it loads pyarrow's file systems, a tenth of a second of every local dbt run's start
        from uc_pipeline.duckdb_remote import enable_object_store

        enable_object_store(conn, [url])
