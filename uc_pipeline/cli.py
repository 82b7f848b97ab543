"""The `uc-pipeline` command: the demo, the sandbox server, and operator conveniences."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from uc_pipeline.settings import DATA_DIR_ENV


def _demo(args: argparse.Namespace) -> int:
    from uc_pipeline.demo import run_demo

    return run_demo(Path(args.data_dir), days=args.days, calls_per_day=args.calls_per_day)


def _sandbox(args: argparse.Namespace) -> int:
    from uc_pipeline.sandbox.standalone import main as sandbox_main

    return sandbox_main(args.args)


def _publish(args: argparse.Namespace) -> int:
    from uc_pipeline.serving import publish_snapshot
    from uc_pipeline.settings import serving_path, warehouse_path

    base = Path(args.data_dir).resolve()
    snap = publish_snapshot(warehouse_path(base), serving_path(base))
    print(f"published {snap.path} ({len(snap.tables)} tables, {snap.bytes:,} bytes)")
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
    demo.add_argument(
        "--data-dir", default=default_data, help="where landing, warehouse and snapshot go (default: ./data)"
    )
    demo.add_argument("--days", type=int, default=7, help="days to extract, ending yesterday (default 7)")
    demo.add_argument("--calls-per-day", type=int, default=150, help="sandbox volume per connection and day")
    demo.set_defaults(func=_demo)

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
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
