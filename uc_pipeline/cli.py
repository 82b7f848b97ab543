"""The `uc-pipeline` command: the demo, the Dagster UI against the sandbox (`dev`), the sandbox server,
backfills through a running Dagster, and operator conveniences."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

from uc_pipeline.demo import add_demo_arguments
from uc_pipeline.process_tree import enable_interrupts
from uc_pipeline.settings import DATA_DIR_ENV, DEMO_CALLS_PER_DAY

DEFAULT_DAGSTER_URL = "http://127.0.0.1:3000"


def _demo(args: argparse.Namespace) -> int:
    from uc_pipeline.demo import run_demo

    return run_demo(Path(args.data_dir), days=args.days, calls_per_day=args.calls_per_day, verbose=args.verbose)


def _sandbox(args: argparse.Namespace) -> int:
    from uc_pipeline.sandbox.standalone import main as sandbox_main

    return sandbox_main(args.args)


def _dev(args: argparse.Namespace) -> int:
    from uc_pipeline.dev import DevError, run_dev

    try:
        return run_dev(Path(args.data_dir), port=args.port, sandbox_port=args.sandbox_port,
                       calls_per_day=args.calls_per_day)
    except (DevError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _backfill(args: argparse.Namespace) -> int:
    from uc_pipeline.backfill import BackfillError, submit_backfill, wait_for_backfill

    try:
        backfill_id = submit_backfill(args.url, args.first, args.last, args.select)
        print(f"backfill {backfill_id} launched: {args.first} .. {args.last}; "
              f"{args.url.rstrip('/')}/runs/b/{backfill_id}", flush=True)
        if not args.wait:
            return 0
        status = wait_for_backfill(args.url, backfill_id, timeout_s=args.timeout)
    except BackfillError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = sorted(run for run, state in status.runs.items() if state != "SUCCESS")
    print(f"backfill {backfill_id}: {status.status}, {len(status.runs)} run(s), {len(failed)} not successful"
          + (f": {', '.join(failed)}" if failed else ""))
    return 0 if status.status in ("COMPLETED", "COMPLETED_SUCCESS") and not failed else 1


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day; write YYYY-MM-DD") from None


def _publish(args: argparse.Namespace) -> int:
    from uc_pipeline.serving import publish_snapshot
    from uc_pipeline.settings import landing_url, serving_path, serving_url, warehouse_path

    base = Path(args.data_dir).resolve()
    snap = publish_snapshot(warehouse_path(base), serving_path(base), publish_url=serving_url(base),
                            landing_url=landing_url(base))
    print(f"published {snap.path} ({len(snap.tables)} tables, {snap.bytes:,} bytes)"
          + (f"; uploaded to {snap.url}" if snap.url else ""))
    return 0


def _check_connections(args: argparse.Namespace) -> int:
    from uc_pipeline.connections import ConnectionConfigError, load_connections

    try:
        connections = load_connections(args.file)
    except ConnectionConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for c in connections:
        print(f"ok  {c.provider:<13} {c.connection_id:<24} {c.base_url}  history from {c.history_start}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="uc-pipeline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    default_data = os.environ.get(DATA_DIR_ENV, "data")

    demo = sub.add_parser(
        "demo", help="start the sandbox, extract the last days of every provider, build, publish and summarise"
    )
    add_demo_arguments(demo, default_data)
    demo.set_defaults(func=_demo)

    dev = sub.add_parser(
        "dev", help="after the demo: the sandbox on a fixed port and the Dagster UI (webserver + daemon) against it"
    )
    dev.add_argument("--data-dir", default=default_data, help="the demo's data directory (default: ./data)")
    dev.add_argument("--port", type=int, default=3000, help="Dagster webserver port (default 3000)")
    dev.add_argument("--sandbox-port", type=int, default=8765, help="sandbox port (default 8765)")
    dev.add_argument("--calls-per-day", type=int, default=DEMO_CALLS_PER_DAY,
                     help="the volume the demo ran with (default: the demo's default)")
    dev.set_defaults(func=_dev)

    backfill = sub.add_parser("backfill", help="backfill days of every partitioned asset through a running Dagster")
    backfill.add_argument("--from", dest="first", type=_day, required=True, help="first day, YYYY-MM-DD")
    backfill.add_argument("--to", dest="last", type=_day, required=True, help="last day, YYYY-MM-DD (included)")
    backfill.add_argument("--url", default=os.environ.get("UC_DAGSTER_URL", DEFAULT_DAGSTER_URL),
                          help=f"the Dagster webserver (default $UC_DAGSTER_URL or {DEFAULT_DAGSTER_URL})")
    backfill.add_argument("--select", action="append", default=[],
                          help="only assets whose key starts with this, e.g. raw/aircall (repeatable)")
    backfill.add_argument("--wait", action="store_true", help="wait for the backfill to end; exit 1 if a run failed")
    backfill.add_argument("--timeout", type=float, default=3600.0, help="with --wait: seconds to wait at most")
    backfill.set_defaults(func=_backfill)

    # Its flags (--port, --profile, --config, --seed, --now, ...) are parsed by uc_pipeline.sandbox.standalone.
    sandbox = sub.add_parser(
        "sandbox",
        help="serve the provider emulators and print connection entries (`uc-pipeline sandbox --help`)",
        add_help=False,
        prefix_chars="\0",
    )
    sandbox.add_argument("args", nargs=argparse.REMAINDER)
    sandbox.set_defaults(func=_sandbox)

    publish = sub.add_parser("publish", help="publish serving.duckdb from the warehouse")
    publish.add_argument("--data-dir", default=default_data)
    publish.set_defaults(func=_publish)

    check = sub.add_parser("check-connections", help="validate a connections file and its environment")
    check.add_argument("file")
    check.set_defaults(func=_check_connections)
    return parser


def main(argv: list[str] | None = None) -> int:
    enable_interrupts()
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
