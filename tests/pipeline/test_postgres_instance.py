"""The production instance (`deploy/dagster.yaml`): runs, events and partition status stored in PostgreSQL."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from uc_pipeline.assets.extract import build_extract_asset
from uc_pipeline.sandbox import Sandbox

from .support import PARTITIONS, YESTERDAY, sandbox_env

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def postgres_instance(postgres_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """A DagsterInstance from the repository's deploy/dagster.yaml, on a fresh database of the local server."""
    db_name = f"uc_dagster_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_dsn, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as con:
        con.execute(sa.text(f'create database "{db_name}"'))
    url = make_url(postgres_dsn)
    for var, value in {
        "DAGSTER_PG_HOST": url.host,
        "DAGSTER_PG_PORT": str(url.port or 5432),
        "DAGSTER_PG_USER": url.username,
        "DAGSTER_PG_PASSWORD": url.password or "",
        "DAGSTER_PG_DB": db_name,
    }.items():
        monkeypatch.setenv(var, value)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", home / "dagster.yaml")
    instance = dg.DagsterInstance.from_config(str(home))
    db = sa.create_engine(url.set(database=db_name), poolclass=sa.pool.NullPool)
    try:
        yield instance, db
    finally:
        instance.dispose()
        db.dispose()
        with admin.connect() as con:
            con.execute(sa.text(f'drop database if exists "{db_name}" with (force)'))
        admin.dispose()


def test_run_events_and_partitions_are_stored_in_postgres(postgres_instance: tuple, tmp_path: Path) -> None:
    instance, db = postgres_instance
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
    assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
    connections = Sandbox.default_connections(["aircall"], calls_per_day=20, seed=5)
    with sandbox_env(tmp_path, connections) as env:
        asset = build_extract_asset("aircall", "calls", PARTITIONS)
        result = dg.materialize(
            [asset], instance=instance, partition_key=YESTERDAY.isoformat(), resources={"uc": env.resource()}
        )
    assert result.success
    with db.connect() as con:
        status = con.execute(sa.text("select status from runs where run_id = :r"), {"r": result.run_id}).scalar()
        events = con.execute(
            sa.text("select count(*) from event_logs where run_id = :r"), {"r": result.run_id}
        ).scalar()
        partitions = (
            con.execute(
                sa.text(
                    "select partition from event_logs "
                    "where run_id = :r and dagster_event_type = 'ASSET_MATERIALIZATION'"
                ),
                {"r": result.run_id},
            )
            .scalars()
            .all()
        )
    assert status == "SUCCESS"
    assert events > 5
    assert partitions == [YESTERDAY.isoformat()]
    key = dg.AssetKey(["raw", "aircall", "calls"])
    assert instance.get_materialized_partitions(key) == {YESTERDAY.isoformat()}
    assert instance.get_run_by_id(result.run_id).is_success
