"""The BI serving snapshot: a copy of the `uc` and `reporting` schemas, published by atomic replace.

DuckDB allows one writer or many readers of a file, not both, so analysts and BI tools never open
the warehouse: they open `serving.duckdb`, which is rebuilt beside the old one and renamed over it.
Readers that hold the old file keep reading it (same inode) and never see half a build; new readers
get the new one. The file is written in an old storage version so DuckDB 1.x readers (bundled by BI
drivers) can open it.

With a `publish_url` (`UC_SERVING_URL`, or `serving.duckdb` beside a landing zone in an object store)
the finished file is also uploaded there whole (landing_store.py: one PUT or a completed multipart
upload), and BI clients on other machines attach it read-only over httpfs:
`ATTACH 's3://bucket/uc/serving.duckdb' AS uc_serving (READ_ONLY)`. A reader attached during a publish
keeps the pages it has read; re-attaching gives the new version.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from uc_pipeline.duckdb_remote import connect
from uc_pipeline.landing_store import open_store

SERVED_SCHEMAS = ("uc", "reporting")
# The oldest storage version DuckDB 1.x readers all understand.
STORAGE_VERSION = "v1.0.0"


@dataclass(frozen=True)
class PublishedSnapshot:
    path: Path
    tables: dict[str, int]  # "schema.table" -> rows
    published_at: datetime
    bytes: int
    url: str | None = None  # where it was also published for remote readers


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def publish_snapshot(
    warehouse: str | Path,
    serving: str | Path,
    schemas: tuple[str, ...] = SERVED_SCHEMAS,
    *,
    publish_url: str | None = None,
    landing_url: str | None = None,
) -> PublishedSnapshot:
    """Copy `schemas` of the warehouse (tables and views, materialized as tables) into `serving`, and
    upload the result whole to `publish_url` when given. `landing_url` is where the warehouse's views
    over the landing zone read (an object store needs httpfs to copy them)."""
    warehouse, serving = Path(warehouse), Path(serving)
    if not warehouse.is_file():
        raise FileNotFoundError(f"{warehouse}: no warehouse yet. Run the dbt models first (uc-pipeline demo).")
    tmp = serving.with_name(f".{serving.name}.{uuid.uuid4().hex}.tmp")
    published_at = datetime.now(UTC)
    tables: dict[str, int] = {}
    con = connect(urls=[landing_url])
    try:
        # Attached under its own name: dbt's views refer to their catalog ("warehouse") by name.
        catalog = _quote(warehouse.stem)
        con.execute(f"ATTACH '{_sql_path(warehouse)}' AS {catalog} (READ_ONLY)")
        con.execute(f"ATTACH '{_sql_path(tmp)}' AS snap (STORAGE_VERSION '{STORAGE_VERSION}')")
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = ? and table_schema in (select unnest(?)) "
            "order by 1, 2",
            [warehouse.stem, list(schemas)],
        ).fetchall()
        if not relations:
            raise RuntimeError(f"{warehouse}: schemas {', '.join(schemas)} are empty; build the dbt models first.")
        for schema in sorted({s for s, _ in relations}):
            con.execute(f"CREATE SCHEMA snap.{_quote(schema)}")
        for schema, table in relations:
            target = f"snap.{_quote(schema)}.{_quote(table)}"
            con.execute(f"CREATE TABLE {target} AS SELECT * FROM {catalog}.{_quote(schema)}.{_quote(table)}")
            tables[f"{schema}.{table}"] = con.execute(f"select count(*) from {target}").fetchone()[0]
        con.execute(
            "CREATE TABLE snap.main.snapshot_info AS SELECT ?::TIMESTAMPTZ AS published_at, ? AS source, "
            "? AS storage_version",
            [published_at, str(warehouse), STORAGE_VERSION],
        )
        con.execute("DETACH snap")
        con.execute(f"DETACH {catalog}")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    Path(f"{tmp}.wal").unlink(missing_ok=True)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, serving)
    if publish_url:
        folder, _, name = publish_url.rstrip("/").rpartition("/")
        open_store(folder).put_file(serving, name)
    return PublishedSnapshot(path=serving, tables=tables, published_at=published_at, bytes=serving.stat().st_size,
                             url=publish_url)
