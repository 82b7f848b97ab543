"""`uc-pipeline demo`: the whole pipeline on one machine against the sandbox, with no server.

Starts the sandbox in-process, writes a connections file for it, runs the `daily_refresh` job over the
last N days (every provider, then the partitioned dbt models) and the `publish` job (history views,
serving snapshot, KPI picture) on a local Dagster instance under `<data_dir>/dagster_home`, then
prints what was built and where it is.
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from uc_pipeline.settings import CONNECTIONS_FILE_ENV, DATA_DIR_ENV, serving_path

console = Console()

LOCAL_INSTANCE_YAML = """\
# Local Dagster instance of the demo (embedded SQLite storage). Production uses the repository's
# dagster.yaml with Postgres; see the README.
telemetry:
  enabled: false
"""


def _prepare_environment(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ[DATA_DIR_ENV] = str(data_dir)
    os.environ[CONNECTIONS_FILE_ENV] = str(data_dir / "connections.yaml")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(data_dir / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(LOCAL_INSTANCE_YAML, encoding="utf-8")


def _run_job(job_name: str, tags: dict[str, str], progress: Progress, label: str) -> Any:
    """Run a job of the code location in-process, advancing a progress bar per materialization."""
    import dagster as dg
    from dagster._core.events import DagsterEventType

    from uc_pipeline.definitions import defs

    job = defs.resolve_job_def(job_name)
    instance = dg.DagsterInstance.get()
    run_id = str(uuid.uuid4())
    expected = len(job.asset_layer.executable_asset_keys)
    task = progress.add_task(label, total=expected)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = job.execute_in_process(
                instance=instance,
                tags=tags,
                run_id=run_id,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            )
        except Exception as exc:  # noqa: BLE001 - reported below with the run id
            outcome["error"] = exc

    worker = threading.Thread(target=target, name=f"demo-{job_name}")
    worker.start()
    while worker.is_alive():
        worker.join(0.5)
        done = {
            e.dagster_event.asset_key
            for e in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
            if e.dagster_event
        }
        progress.update(task, completed=min(len(done), expected))
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    progress.update(task, completed=expected)
    if not result.success:
        failures = [
            f"{e.step_key}: {e.event_specific_data.error.message.strip()}"  # type: ignore[union-attr]
            for e in result.all_events
            if e.event_type_value == "STEP_FAILURE"
        ]
        raise RuntimeError(f"{job_name} failed (run {run_id}):\n" + "\n".join(failures))
    return result


def _summary(data_dir: Path, start: date, end: date) -> None:
    con = duckdb.connect(str(serving_path(data_dir)), read_only=True)
    try:
        rows = con.execute("select provider, outcome, count(*) from uc.uc_call group by all order by 1, 2").fetchall()
        outcomes = sorted({r[1] for r in rows})
        table = Table(title=f"Calls per provider and outcome, {start} .. {end} (uc.uc_call)")
        table.add_column("provider")
        for o in outcomes:
            table.add_column(o, justify="right")
        table.add_column("total", justify="right")
        for provider in sorted({r[0] for r in rows}):
            counts = {r[1]: r[2] for r in rows if r[0] == provider}
            table.add_row(provider, *(f"{counts.get(o, 0):,}" for o in outcomes), f"{sum(counts.values()):,}")
        console.print(table)
        from uc_pipeline.report import KPI_SQL

        since = datetime.combine(start, datetime.min.time(), tzinfo=UTC).isoformat()
        kpis = con.execute(KPI_SQL, [since])
        columns = [d[0] for d in kpis.description]
        kpi_table = Table(title="KPIs (reporting.kpi_daily, whole window; n/a = not supplied by the provider)")
        for c in columns:
            kpi_table.add_column(c, justify="right")
        for row in kpis.fetchall():
            kpi_table.add_row(*("n/a" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v) for v in row))
        console.print(kpi_table)
    finally:
        con.close()


def run_demo(data_dir: Path, days: int = 7, calls_per_day: int = 150) -> int:
    """Run the demo; returns a process exit code."""
    data_dir = data_dir.resolve()
    _prepare_environment(data_dir)
    from uc_pipeline.assets.schedules import range_tags
    from uc_pipeline.sandbox import Sandbox

    end = datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    sandbox = Sandbox(Sandbox.default_connections(calls_per_day=calls_per_day), profile="fast")
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    with sandbox.serve(port=0) as base_url:
        yaml_text, env = sandbox.connections_yaml(base_url)
        (data_dir / "connections.yaml").write_text(yaml_text, encoding="utf-8")
        os.environ.update(env)
        console.print(
            f"sandbox serving every provider at [bold]{base_url}[/]; connections: {data_dir / 'connections.yaml'}"
        )
        with Progress(*columns, console=console) as progress:
            _run_job("daily_refresh", range_tags(start, end), progress, f"extract + dbt, {start} .. {end}")
            _run_job("publish", {}, progress, "history views, serving snapshot, KPI picture")
    _summary(data_dir, start, end)
    console.print(f"landing zone : {data_dir / 'landing'}")
    console.print(f"warehouse    : {data_dir / 'warehouse.duckdb'} (written by dbt only)")
    console.print(f"serving      : {serving_path(data_dir)} (open this one: duckdb -readonly {serving_path(data_dir)})")
    console.print(f"KPI picture  : {data_dir / 'reports' / 'kpi_last_30_days.png'}")
    console.print(f"Dagster UI   : DAGSTER_HOME={os.environ['DAGSTER_HOME']} UC_DATA_DIR={data_dir} dagster dev")
    return 0
