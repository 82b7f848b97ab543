"""The dbt-duckdb plugin (profiles.yml, `plugins:`) that lets dbt read a landing zone in an object store.

When `UC_LANDING_URL` is an object store, it loads httpfs from its installed package and creates the
S3 secret from the AWS variables on dbt's DuckDB database (duckdb_remote.py), so the sources'
`read_parquet('s3://…')` work with automatic extension install and load off. For a local landing
zone it does nothing. Plugins: https://github.com/duckdb/dbt-duckdb#writing-your-own-plugins
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from uc_pipeline.duckdb_remote import enable_object_store
from uc_pipeline.settings import landing_url


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        enable_object_store(conn, [landing_url()])
