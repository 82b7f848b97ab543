"""A backfill whose steps run on two Celery workers: the Dagster instance and the rate limiter's state in
PostgreSQL, the broker on RabbitMQ, each worker a process of its own with its own Dagster home, and the
sandbox serving the providers' documented quotas. The landed records are exactly the sandbox's, the
steps ran on both workers, and no request went over a quota."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from dagster._core.execution.backfill import PartitionBackfill
from sqlalchemy.engine import make_url

from tests.pipeline.support import YESTERDAY, day_bounds
from uc_pipeline.assets.extract import build_extract_assets
from uc_pipeline.assets.partitions import daily_partitions, earliest_history_start
from uc_pipeline.landing import read_partition
from uc_pipeline.providers import PROVIDER_IDS, get_provider
from uc_pipeline.sandbox import Sandbox

from .cluster import (
    BROKER_URL,
    REPO,
    Service,
    broker_problem,
    delete_queue,
    start_daemon,
    start_worker,
    stop_all,
    wait_until,
    write_celery_config,
)

pytestmark = pytest.mark.postgres

DAYS = [YESTERDAY - timedelta(days=i) for i in (3, 2, 1, 0)]
CALLS_PER_DAY = 12
EXTRACT_KEYS = [dg.AssetKey(["raw", p, s]) for p in PROVIDER_IDS for s in get_provider(p).streams]


@dataclass
class Landing:
    """Where the workers land: the environment they get, and how the test reads a landed partition back.

    A local folder is the one thing the processes share on disk (they all use `data_dir`); with an
    object store (`UC_LANDING_URL` in `env`) each worker gets a data directory of its own as well.
    """

    name: str
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def shared_disk(self) -> bool:
        return "UC_LANDING_URL" not in self.env

    def worker_data_dir(self, node: str) -> Path:
        return self.data_dir if self.shared_disk else self.data_dir.parent / f"{node}_data"

    def rows(self, provider: str, stream: str, connection_id: str, day) -> list[dict]:
        return read_partition(self.data_dir, provider, stream, connection_id, day).to_pylist()


@pytest.fixture(params=["s3"])
def landing(request: pytest.FixtureRequest, tmp_path: Path) -> Landing:
    """The landing zone every worker writes: a bucket of the loopback S3 server (`UC_LANDING_URL`), the
    multi-machine form, where no worker shares a disk with another (`"local"`, a shared folder, also works)."""
    if request.param == "s3":
        s3 = request.getfixturevalue("s3_landing")  # also points this process's environment at the bucket
        return Landing(request.param, tmp_path / "data", s3.env)
    return Landing(request.param, tmp_path / "data")


@pytest.fixture
def broker() -> str:
    problem = broker_problem()
    if problem:
        message = f"the Celery broker {BROKER_URL.split('@')[-1]} is not reachable ({problem})"
        if os.environ.get("UC_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + "; CI requires it (start RabbitMQ, see .ci/run)")
        pytest.skip(message + "; start RabbitMQ to run the distributed tests")
    return BROKER_URL


@pytest.fixture
def database(postgres_dsn: str) -> Iterator[str]:
    """A fresh database of the local server for the instance and the limiter; dropped after."""
    name = f"uc_celery_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(postgres_dsn, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as con:
        con.execute(sa.text(f'create database "{name}"'))
    try:
        yield str(make_url(postgres_dsn).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as con:
            con.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


def instance_home(path: Path) -> Path:
    """A Dagster home holding the repository's production instance (dagster.yaml: PostgreSQL)."""
    path.mkdir(parents=True)
    shutil.copy(REPO / "dagster.yaml", path / "dagster.yaml")
    return path


def extract_asset_graph(connections_file: Path):
    """The extract assets as the code location defines them (same keys, same partitions), without loading
    the dbt project: enough to describe the backfill, which the daemon checks against the code location."""
    partitions = daily_partitions(earliest_history_start(connections_file))
    resources = {"uc": dg.ResourceDefinition.none_resource()}  # not run here: only the graph is read
    return dg.Definitions(assets=build_extract_assets(partitions), resources=resources).resolve_asset_graph()


def worker_nodes(instance: dg.DagsterInstance, run_id: str) -> dict[str, str]:
    """step key -> the Celery worker (node name) that executed it, from the run's event log."""
    nodes = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = entry.dagster_event
        metadata = (event.engine_event_data.metadata or {}) if event else {}
        if event and event.step_key and "Celery worker" in metadata:
            nodes[event.step_key] = metadata["Celery worker"].value
    return nodes


def deployment_env(home: Path, landing: Landing, database: str, broker: str, connections_file: Path,
                   celery_config: Path, credentials: dict[str, str]) -> dict[str, str]:
    """The environment deploy/README.md lists, for the daemon (and, with their own home, the workers)."""
    url = make_url(database)
    return {
        **os.environ, **credentials, **landing.env,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": url.host, "DAGSTER_PG_PORT": str(url.port or 5432),
        "DAGSTER_PG_USER": url.username, "DAGSTER_PG_PASSWORD": url.password or "",
        "DAGSTER_PG_DB": url.database,
        "UC_DATA_DIR": str(landing.data_dir),
        "UC_CONNECTIONS_FILE": str(connections_file),
        "UC_LIMITER_URL": database,  # the quotas are shared through PostgreSQL, not a local file
        "UC_CELERY_CONFIG": str(celery_config),
        "UC_CELERY_BROKER": broker,
        "UC_AUTOMATION_DEFAULT_STATUS": "stopped",  # no publish sensor: this backfill lands only
    }


def backfill_and_wait(instance: dg.DagsterInstance, backfill_id: str, connections_file: Path,
                      daemon: Service) -> list[dg.DagsterRun]:
    """Submit the backfill of DAYS for every extract asset (what the UI's "Materialize → partition range"
    does) and wait until the daemon's runs of it have all finished."""
    instance.add_backfill(PartitionBackfill.from_asset_partitions(
        backfill_id=backfill_id, asset_graph=extract_asset_graph(connections_file), asset_selection=EXTRACT_KEYS,
        partition_names=[d.isoformat() for d in DAYS], backfill_timestamp=time.time(), tags={},
        dynamic_partitions_store=instance, all_partitions=False, title=None, description=None, run_config=None,
    ))
    backfill_runs = dg.RunsFilter(tags={"dagster/backfill": backfill_id})

    def done() -> bool:
        runs = instance.get_runs(filters=backfill_runs)
        return bool(runs) and all(r.is_finished for r in runs) or daemon.proc.poll() is not None

    wait_until("the backfill's runs", done, 900, daemon.log)
    return instance.get_runs(filters=backfill_runs)


def assert_landed_the_truth(sandbox: Sandbox, landing: Landing) -> None:
    """Every (connection, stream, day) landed exactly the sandbox's records, each once."""
    for conn in sandbox.connections:
        emulator = sandbox.emulator(conn.provider)
        for stream in get_provider(conn.provider).streams:
            for day in DAYS:
                truth = sandbox.records(conn.connection_id, stream, *day_bounds(day))
                expected = {emulator.record_id(stream, r): r for r in truth}
                rows = landing.rows(conn.provider, stream, conn.connection_id, day)
                ids = [r["_record_id"] for r in rows]
                assert len(ids) == len(set(ids)), f"{conn.provider}/{stream} {day}: duplicate record ids"
                assert set(ids) == set(expected), f"{conn.provider}/{stream} {day}: landed ids differ"
                for row in rows:
                    assert json.loads(row["_record"]) == expected[row["_record_id"]]


def test_backfill_steps_run_on_two_celery_workers(
    tmp_path: Path, landing: Landing, broker: str, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = uuid.uuid4().hex[:10]
    queue, nodes = f"uc-test-{token}", [f"w1-{token}", f"w2-{token}"]
    logs = tmp_path / "logs"
    logs.mkdir()
    sandbox = Sandbox(Sandbox.default_connections(calls_per_day=CALLS_PER_DAY, seed=21), profile="documented")
    with sandbox.serve(port=0) as base:
        yaml_text, credentials = sandbox.connections_yaml(base)
        connections_file = tmp_path / "connections.yaml"
        connections_file.write_text(yaml_text, encoding="utf-8")
        celery_config = write_celery_config(tmp_path / "celery.yaml", queue)
        env = deployment_env(instance_home(tmp_path / "dagster_home"), landing, database, broker, connections_file,
                             celery_config, credentials)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        dg.DagsterInstance.get().dispose()  # its tables, created once here rather than by every process at once
        services: list[Service] = []
        try:
            daemon = start_daemon(env, logs)  # the longest to start: it loads the code location (dbt parse)
            services.append(daemon)
            for node in nodes:
                # a machine of its own as far as Dagster knows: its own home (and data dir, unless landing is local)
                worker_env = {**env, "DAGSTER_HOME": str(instance_home(tmp_path / f"{node}_home")),
                              "UC_DATA_DIR": str(landing.worker_data_dir(node))}
                services.append(start_worker(node, celery_config, queue, worker_env, logs))
            for worker in services[1:]:
                wait_until(f"Celery worker {worker.name}", lambda w=worker: " ready." in w.output()
                           or w.proc.poll() is not None, 120, worker.log)
                assert worker.proc.poll() is None, worker.output()[-3000:]
            instance = dg.DagsterInstance.get()
            try:
                runs = backfill_and_wait(instance, f"celery{token}", connections_file, daemon)
                assert runs and all(r.is_success for r in runs), [r.status for r in runs] + [daemon.output()[-4000:]]
                executed = {k: v for run in runs for k, v in worker_nodes(instance, run.run_id).items()}
                materialized = {key: instance.get_materialized_partitions(key) for key in EXTRACT_KEYS}
            finally:
                instance.dispose()
        finally:
            stop_all(services)
            delete_queue(queue)

        assert materialized == {key: {d.isoformat() for d in DAYS} for key in EXTRACT_KEYS}
        # every extract step ran on a worker, and each worker ran some: both "machines" took part
        assert len(executed) == len(EXTRACT_KEYS), executed
        assert {node.split("@")[0] for node in executed.values()} == set(nodes), executed
        assert_landed_the_truth(sandbox, landing)
        assert not sandbox.request_log.violations(), sandbox.request_log.violations()[:5]
        # the quotas were shared through PostgreSQL: its limiter table saw the workers' requests, no local file did
        engine = sa.create_engine(database, poolclass=sa.pool.NullPool)
        with engine.connect() as con:
            assert con.execute(sa.text("select count(*) from uc_rate_slots")).scalar() > 0
        engine.dispose()
        assert not list(tmp_path.rglob("*.sqlite"))
