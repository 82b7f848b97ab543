"""`uc-pipeline demo`: the whole pipeline on one machine against the sandbox, with no server.

Starts the sandbox in-process, writes a connections file for it, runs the `daily_refresh` job over the
last N days (every provider, then the partitioned dbt models) and the `publish` job (history views,
serving snapshot, KPI picture of the same days) on a local Dagster instance under
`<data_dir>/dagster_home`, then prints what was built and where it is.

Quiet by default: dbt's and Dagster's own output go to `<data_dir>/logs/demo.log` and the terminal
shows progress bars and the summary; `--verbose` shows that output too. The summary reads the same
figures as the KPI picture (`uc_pipeline.report_data.window_figures`) for the same days.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
import uuid
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import duckdb
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from uc_pipeline.process_tree import enable_interrupts
from uc_pipeline.report_data import (
    OUTCOMES,
    WindowFigures,
    fmt_count,
    fmt_pct,
    fmt_seconds,
    kpi_cells,
    kpi_headers,
    window_figures,
)
from uc_pipeline.report_leaders import AgentLine, QueueLine, top_agents, top_queues
from uc_pipeline.settings import (
    CONNECTIONS_FILE_ENV,
    DATA_DIR_ENV,
    DEMO_CALLS_PER_DAY,
    landing_url,
    serving_path,
    serving_url,
)

LOCAL_INSTANCE_YAML = """\
# Local Dagster instance of the demo (embedded SQLite storage). Production uses the repository's
# dagster.yaml with Postgres; see the README.
telemetry:
  enabled: false
"""
PICTURE_OP = "serving__kpi_picture"
DIRECTION_NAMES = {"INBOUND": "inbound", "OUTBOUND": "outbound", "INTERNAL": "internal"}


def add_demo_arguments(parser: argparse.ArgumentParser, default_data: str = "data") -> None:
    """The demo's options, for `uc-pipeline demo` and `python -m uc_pipeline.demo`."""
    parser.add_argument(
        "--data-dir", default=default_data, help="where landing, warehouse and snapshot go (default: ./data)"
    )
    parser.add_argument("--days", type=int, default=7, help="days to extract, ending yesterday (default 7)")
    parser.add_argument(
        "--calls-per-day", type=int, default=DEMO_CALLS_PER_DAY, help="sandbox volume per connection and day"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="show dbt's and Dagster's output (default: <data-dir>/logs/demo.log)"
    )


def _prepare_environment(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ[DATA_DIR_ENV] = str(data_dir)
    os.environ[CONNECTIONS_FILE_ENV] = str(data_dir / "connections.yaml")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(data_dir / "dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(LOCAL_INSTANCE_YAML, encoding="utf-8")


@contextlib.contextmanager
def _quiet_dagster() -> Iterator[None]:
    """Hide Dagster's beta/preview notices about our own definitions: they speak to the project's
    developers (who see them in tests and `dg check defs`), not to someone trying the demo."""
    import dagster as dg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        warnings.simplefilter("ignore", dg.PreviewWarning)
        yield


@contextlib.contextmanager
def _output_to(log: IO[str] | None) -> Iterator[None]:
    """Send what the jobs print (dagster-dbt echoes dbt's log lines to stdout; Dagster's console
    logger writes to stderr) to `log`; None keeps it on the terminal. The jobs run in a thread of this
    process, so the process's streams are what must move; the console holds the terminal itself."""
    if log is None:
        yield
        return
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        yield


def _run_job(job_name: str, run_config: dict[str, Any], tags: dict[str, str], progress: Progress, label: str) -> Any:
    """Run a job of the code location in-process, advancing a progress bar per materialization."""
    import dagster as dg
    from dagster._core.events import DagsterEventType

    from uc_pipeline.definitions import defs

    job = defs.resolve_job_def(job_name)
    instance = dg.DagsterInstance.get()
    run_id = str(uuid.uuid4())
    expected = len(job.asset_layer.executable_asset_keys)
    task = progress.add_task(label, total=expected, current="")
    outcome: dict[str, Any] = {}
    config = {**run_config, "loggers": {"console": {"config": {"log_level": "WARNING"}}}}

    def target() -> None:
        try:
            outcome["result"] = job.execute_in_process(
                instance=instance, tags=tags, run_id=run_id, raise_on_error=False, run_config=config
            )
        except Exception as exc:  # noqa: BLE001 - reported below with the run id
            outcome["error"] = exc

    worker = threading.Thread(target=target, name=f"demo-{job_name}")
    worker.start()
    while worker.is_alive():
        worker.join(0.5)
        done = [
            e.dagster_event.asset_key
            for e in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)
            if e.dagster_event and e.dagster_event.asset_key
        ]
        latest = done[-1].to_user_string() if done else ""
        progress.update(task, completed=min(len(set(done)), expected), current=latest)
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    progress.update(task, completed=expected, current="done")
    if not result.success:
        failures = [
            f"{e.step_key}: {e.event_specific_data.error.message.strip()}"  # type: ignore[union-attr]
            for e in result.all_events
            if e.event_type_value == "STEP_FAILURE"
        ]
        raise RuntimeError(f"{job_name} failed (run {run_id}):\n" + "\n".join(failures))
    return result


def window_text(figures: WindowFigures) -> str:
    """The window as the titles name it, e.g. "2026-12-05 .. 2026-12-06 (2 days, UTC)"."""
    days = (figures.last_day - figures.first_day).days + 1
    plural = "s" if days != 1 else ""
    return f"{figures.first_day} .. {figures.last_day} ({days} day{plural}, {figures.reporting_timezone})"


def summary_tables(figures: WindowFigures) -> list[Table]:
    """The demo's tables: calls by direction and outcome, then the inbound KPIs, both of the window.

    One column per provider, so that a table stays narrow (a provider's name wraps over two lines of
    its header rather than widening every row); columns fold rather than cut (`overflow="fold"`) on
    a terminal narrower still, and piped output is never truncated to a name's first letters."""
    window = window_text(figures)
    providers = figures.providers
    calls = Table(title=f"Calls by direction and outcome, {window}", caption="reporting.calls_daily")
    calls.add_column("direction", overflow="fold")
    calls.add_column("outcome", overflow="fold")
    for provider in providers:
        calls.add_column(figures.names[provider], justify="right", overflow="fold")
    for direction, by_provider in figures.outcomes.items():  # in INBOUND, OUTBOUND, INTERNAL order
        seen = [o for o in OUTCOMES if any(o in counts for counts in by_provider.values())]
        label = DIRECTION_NAMES.get(direction, direction)
        for i, outcome in enumerate(seen):
            counts = [by_provider.get(p, {}).get(outcome, 0) for p in providers]
            calls.add_row(label if i == 0 else "", outcome.lower(), *(f"{n:,}" for n in counts))
        totals = [sum(by_provider.get(p, {}).values()) for p in providers]
        calls.add_row("", "total", *(f"{n:,}" for n in totals), style="bold", end_section=True)
    kpis = Table(
        title=f"Inbound KPIs, {window}",
        caption="reporting.kpi_daily; n/a = not measured from what the provider reports",
    )
    kpis.add_column("", overflow="fold")
    measured = [p for p in providers if p in figures.totals]
    for provider in measured:
        kpis.add_column(figures.names[provider], justify="right", overflow="fold")
    cells = [kpi_cells(figures.totals[p]) for p in measured]
    for row, header in enumerate(kpi_headers(figures)):
        kpis.add_row(header, *(c[row] for c in cells))
    return [calls, kpis]


def leader_tables(figures: WindowFigures, queues: list[QueueLine], agents: list[AgentLine]) -> list[Table]:
    """Top queues by offered calls and top agents by handled calls, by name."""
    window = window_text(figures)
    top_q = Table(title=f"Top queues, {window}", caption="reporting.queue_daily; n/a = not measured")
    for name, justify in (("queue", "left"), ("provider", "left"), ("offered", "right"), ("answered", "right"),
                          ("service level", "right"), ("ASA", "right")):
        top_q.add_column(name, justify=justify, overflow="fold")
    for q in queues:
        service_level = None if q.service_level is None else 100 * q.service_level
        top_q.add_row(f"{q.name} ({q.kind})", figures.names.get(q.provider, q.provider), fmt_count(q.offered),
                      fmt_count(q.answered), fmt_pct(service_level), fmt_seconds(q.asa_s))
    top_a = Table(title=f"Top agents by handled calls, {window}", caption="reporting.agent_daily")
    for name, justify in (("agent", "left"), ("provider", "left"), ("handled", "right"), ("AHT", "right")):
        top_a.add_column(name, justify=justify, overflow="fold")
    for a in agents:
        top_a.add_row(a.name, figures.names.get(a.provider, a.provider), fmt_count(a.handled), fmt_seconds(a.aht_s))
    return [top_q, top_a]


def _summary(console: Console, data_dir: Path, start: date, end: date) -> None:
    con = duckdb.connect(str(serving_path(data_dir)), read_only=True)
    try:
        figures = window_figures(con, first_day=start, last_day=end)
        queues, agents = top_queues(con, start, end), top_agents(con, start, end)
    finally:
        con.close()
    for table in [*summary_tables(figures), *leader_tables(figures, queues, agents)]:
        console.print(table)


def run_demo(data_dir: Path, days: int = 7, calls_per_day: int = DEMO_CALLS_PER_DAY, verbose: bool = False) -> int:
    """Run the demo; returns a process exit code."""
    console = Console(file=sys.stdout)  # the terminal, held before the jobs' output moves to the log
    data_dir = data_dir.resolve()
    _prepare_environment(data_dir)
    log_path = data_dir / "logs" / "demo.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    end = datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    with _quiet_dagster(), open(log_path, "a", encoding="utf-8") as log:
        with console.status("loading the pipeline's definitions (Dagster, dbt manifest)"):
            from uc_pipeline.assets.schedules import range_tags
            from uc_pipeline.definitions import defs  # noqa: F401 - loaded here, under the status line
            from uc_pipeline.sandbox import Sandbox
        sandbox = Sandbox(Sandbox.default_connections(calls_per_day=calls_per_day), profile="fast")
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            TextColumn("[dim]{task.fields[current]}"),
        )
        with sandbox.serve(port=0) as base_url:
            yaml_text, env = sandbox.connections_yaml(base_url)
            (data_dir / "connections.yaml").write_text(yaml_text, encoding="utf-8")
            os.environ.update(env)
            console.print(f"sandbox serving every provider at [bold]{base_url}[/]", soft_wrap=True)
            console.print(f"dbt and Dagster output: {log_path}" + (" (and below)" if verbose else ""), soft_wrap=True)
            picture = {"ops": {PICTURE_OP: {"config": {"days": days, "last_day": end.isoformat()}}}}
            with (
                Progress(*columns, console=console, redirect_stdout=verbose, redirect_stderr=verbose) as progress,
                _output_to(None if verbose else log),
            ):
                try:
                    label = f"extract + dbt build, {start} .. {end}"
                    _run_job("daily_refresh", {}, range_tags(start, end), progress, label)
                    _run_job("publish", picture, {}, progress, "serving snapshot, KPI picture")
                except RuntimeError as exc:
                    console.print(f"[red]{exc}[/]", highlight=False)
                    console.print(f"dbt's and Dagster's full output: {log_path}", soft_wrap=True)
                    return 1
    _summary(console, data_dir, start, end)
    paths = [
        ("connections", f"{data_dir / 'connections.yaml'} (the sandbox's; `uc-pipeline dev` serves it again)"),
        ("landing zone", landing_url(data_dir)),
        ("warehouse", f"{data_dir / 'warehouse.duckdb'} (written by dbt only)"),
        ("serving", f"{serving_path(data_dir)} (open this one: duckdb -readonly {serving_path(data_dir)})"),
        *[("published", f"{url} (README: Beyond one machine)") for url in [serving_url(data_dir)] if url],
        ("KPI picture", f"{data_dir / 'reports' / 'kpi_last_30_days.png'} (same days; figures in .json beside it)"),
        ("Dagster UI", f"uc-pipeline dev --data-dir {data_dir} --calls-per-day {calls_per_day}"),
    ]
    for name, value in paths:
        console.print(f"{name:<13}: {value}", soft_wrap=True, highlight=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m uc_pipeline.demo [options]`: the same as `uc-pipeline demo`."""
    enable_interrupts()
    parser = argparse.ArgumentParser(prog="uc-pipeline demo", description=__doc__.split("\n\n")[0])
    add_demo_arguments(parser, os.environ.get(DATA_DIR_ENV, "data"))
    args = parser.parse_args(argv)
    return run_demo(Path(args.data_dir), days=args.days, calls_per_day=args.calls_per_day, verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
