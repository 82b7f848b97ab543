"""The serving snapshot: atomic publish while BI readers hold the file, readable by DuckDB 1.x."""

from __future__ import annotations

import struct
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from uc_pipeline.serving import publish_snapshot

# DuckDB's storage format number for v1.0.0, which every DuckDB 1.x reader opens.
DUCKDB_1X_FORMAT = 64


def build_warehouse(path: Path, calls: int) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute(
            "create schema if not exists uc; create schema if not exists reporting; create schema if not exists raw"
        )
        con.execute(
            f"create or replace table uc.uc_call as select 'aircall:a:' || range as id, 'ANSWERED' as outcome "
            f"from range({calls})"
        )
        con.execute("create or replace view reporting.calls_total as select count(*) as calls from uc.uc_call")
        con.execute("create or replace table raw.not_served as select 1 as x")
    finally:
        con.close()


def test_publish_copies_served_schemas_only(tmp_path: Path) -> None:
    build_warehouse(tmp_path / "warehouse.duckdb", 10)
    snap = publish_snapshot(tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb")
    assert snap.tables == {"reporting.calls_total": 1, "uc.uc_call": 10}
    header = (tmp_path / "serving.duckdb").read_bytes()[:20]
    assert header[8:12] == b"DUCK" and struct.unpack("<Q", header[12:20])[0] == DUCKDB_1X_FORMAT
    con = duckdb.connect(str(tmp_path / "serving.duckdb"), read_only=True)
    schemas = {r[0] for r in con.execute("select schema_name from information_schema.schemata").fetchall()}
    assert "raw" not in schemas
    assert con.execute("select storage_version from main.snapshot_info").fetchone()[0] == "v1.0.0"
    con.close()


def test_bi_reader_and_build_and_publish_all_succeed(tmp_path: Path) -> None:
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb"
    build_warehouse(warehouse, 100)
    publish_snapshot(warehouse, serving)
    engine = sa.create_engine(f"duckdb:///{serving}", connect_args={"read_only": True}, poolclass=sa.pool.NullPool)
    with engine.connect() as reader:
        assert reader.execute(sa.text("select count(*) from uc.uc_call")).scalar() == 100
        build_warehouse(warehouse, 250)  # the warehouse is written while a BI tool reads the snapshot
        publish_snapshot(warehouse, serving)
        # The open reader keeps its consistent snapshot; it never sees half a build.
        assert reader.execute(sa.text("select count(*) from uc.uc_call")).scalar() == 100
    with engine.connect() as fresh:
        assert fresh.execute(sa.text("select calls from reporting.calls_total")).scalar() == 250
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "warehouse.duckdb"]


def test_publish_without_warehouse_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="Run the dbt models first"):
        publish_snapshot(tmp_path / "warehouse.duckdb", tmp_path / "serving.duckdb")
