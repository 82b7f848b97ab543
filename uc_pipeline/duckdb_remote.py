"""DuckDB's access to the object store: the httpfs extension from its PyPI package and an S3 secret
built from the standard AWS variables, with nothing ever downloaded.

DuckDB would otherwise install httpfs from the internet the first time a query names `s3://` (which
many production networks forbid). The extension ships as the PyPI package `duckdb-extension-httpfs`,
pinned with duckdb, and is loaded from its installed file by path (signature checks stay on); every
connection made here turns automatic install and load off, so a missing extension fails at once
instead of reaching for the network. The same secret serves dbt's reads of the landing zone
(dbt_landing_plugin.py), the serving publisher and remote readers of the published snapshot.
DuckDB secrets: https://duckdb.org/docs/stable/configuration/secrets_manager ; S3 options:
https://duckdb.org/docs/stable/core_extensions/httpfs/s3api
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from uc_pipeline.landing_store import StoreConfigError, s3_endpoint, s3_region
from uc_pipeline.settings import is_object_store

# Connection settings that keep DuckDB off the network for its extensions.
NO_EXTENSION_DOWNLOAD = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
SECRET_NAME = "uc_object_store"


def httpfs_path() -> Path:
    """The httpfs extension file of the installed `duckdb-extension-httpfs` (same version as duckdb)."""
    spec = find_spec("duckdb_extension_httpfs")
    version = duckdb.__version__
    if spec is not None and spec.origin:
        path = Path(spec.origin).parent / "extensions" / f"v{version}" / "httpfs.duckdb_extension"
        if path.is_file():
            return path
    raise StoreConfigError(
        f"DuckDB's httpfs extension for duckdb {version} is not installed; it reads the object store. "
        f"Install it with `pip install duckdb-extension-httpfs=={version}` (it is never downloaded at run time)."
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def s3_secret_sql(name: str = SECRET_NAME) -> str:
    """`CREATE OR REPLACE SECRET` for S3 from the AWS variables (holds the secret: never log it)."""
    key_id = os.environ.get("AWS_ACCESS_KEY_ID")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not key_id or not secret:
        raise StoreConfigError(
            "DuckDB reads the object store with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: set both "
            "(with AWS_SESSION_TOKEN for temporary credentials)."
        )
    options = {"KEY_ID": key_id, "SECRET": secret}
    if os.environ.get("AWS_SESSION_TOKEN"):
        options["SESSION_TOKEN"] = os.environ["AWS_SESSION_TOKEN"]
    options["REGION"] = s3_region() or "us-east-1"
    endpoint = s3_endpoint()
    if endpoint:
        parts = urlsplit(endpoint)
        options["ENDPOINT"] = parts.netloc
        options["USE_SSL"] = "true" if (parts.scheme or "https") == "https" else "false"
        # S3-compatible servers (MinIO, Ceph, moto) address buckets by path, not by host name.
        options["URL_STYLE"] = "path"
    body = ", ".join(f"{k} {_literal(v)}" for k, v in options.items())
    return f"CREATE OR REPLACE SECRET {name} (TYPE s3, {body})"


def enable_object_store(con: duckdb.DuckDBPyConnection, urls: Iterable[str | None]) -> bool:
    """Load httpfs and the S3 secret into `con` when one of `urls` is in an object store; whether it did."""
    remote = [u for u in urls if u and is_object_store(u)]
    if not remote:
        return False
    unsupported = sorted({u.partition("://")[0] for u in remote} - {"s3"})
    if unsupported:
        raise StoreConfigError(f"DuckDB reads s3:// URLs here; {', '.join(unsupported)}:// is not configured")
    con.execute(f"LOAD {_literal(str(httpfs_path()))}")
    con.execute(s3_secret_sql())
    return True


def connect(database: str = ":memory:", *, read_only: bool = False, urls: Iterable[str | None] = ()
            ) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that never downloads an extension, reaching the object store when `urls` need it."""
    con = duckdb.connect(database, read_only=read_only, config=dict(NO_EXTENSION_DOWNLOAD))
    try:
        enable_object_store(con, urls)
    except BaseException:
        con.close()
        raise
    return con
