"""Wall time and peak memory of the hostile paging cases, through the production extraction path.

Each case of `tests/hostile/test_hostile_paging.py` and `tests/hostile/test_hostile_ringcentral.py`
(the same servers, behaviours and connection options) is served on a loopback port by this process,
while a child process runs `uc_pipeline.extract.extract_partition` for the case's day, exactly as an
extract asset does, until the partition fails. Per case it reports the outcome (the error's class and
its first words), the requests the server counted, wall time, the child's RSS before extracting (the
imports) and its peak RSS (`VmHWM`), and, with `--tracemalloc`, the peak of Python's own allocations
during the extraction (slower: every allocation is traced).

The bound it is read against: the landing writer holds at most one batch of `BATCH_ROWS` records or
`BATCH_CHARS` characters before writing it to its scratch file, DuckDB works under its 256 MB memory
limit, and one response body is at most `HttpSettings.max_response_bytes`; none of those grows with
the pages served. What does grow is the paging guard's set of the partition's distinct record keys,
so a case that only the time budget ends (`options.max_partition_seconds`) grows with the pages it
gets through: `--budget` and `--requests-per-second` raise both to show how much.

Run from the repository root (on demand, not in the tests):
    .venv/bin/python bench/hostile.py
    .venv/bin/python bench/hostile.py --budget 30 --requests-per-second 1000 --cases eightbyeight-new-full-pages-forever
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from tests.hostile import test_hostile_paging as paging  # noqa: E402
from tests.hostile import test_hostile_ringcentral as rc  # noqa: E402
from tests.hostile.paging_servers import CREDENTIALS, Served, hostile_server  # noqa: E402
from tests.hostile.ringcentral_servers import CLIENT_ID, CLIENT_SECRET, JWT, ringcentral_server  # noqa: E402
from uc_pipeline.landing import BATCH_CHARS, BATCH_ROWS  # noqa: E402

CONNECTION_ID = "hostile-bench"
CHILD_TIMEOUT_S = 3600


def _peak_rss_kb() -> int:
    """This process's `VmHWM` (its own peak RSS, reset by `execve`, unlike `getrusage`'s ru_maxrss)."""
    return _status_kb("VmHWM:")


def _status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field))


def _child(conn_file: str, stream: str, day: str, data_dir: str, trace: str) -> None:
    from uc_pipeline.connections import load_connections
    from uc_pipeline.extract import extract_partition
    from uc_pipeline.http import HttpSettings

    (connection,) = load_connections(conn_file)
    before_kb = _status_kb("VmRSS:")
    if trace == "1":
        tracemalloc.start()
    started = time.monotonic()
    try:
        result = extract_partition(connection, stream, date.fromisoformat(day), data_dir=data_dir,
                                   settings=HttpSettings(state_dir=str(Path(data_dir) / "state")))
        outcome = f"landed {result.landed.rows} records"
    except Exception as exc:  # noqa: BLE001 - the outcome is what is reported
        outcome = f"{type(exc).__name__}: {str(exc)[:160]}"
    seconds = time.monotonic() - started
    traced = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else None
    print(json.dumps({"outcome": outcome, "seconds": round(seconds, 2), "rss_before_mb": round(before_kb / 1024, 1),
                      "peak_rss_mb": round(_peak_rss_kb() / 1024, 1),
                      "traced_peak_mb": round(traced / 2**20, 1) if traced is not None else None}))


def _connection(provider: str, base_url: str, options: dict, rps: int) -> tuple[dict[str, Any], dict[str, str]]:
    if provider == "ringcentral":
        names, values = ("client_id", "client_secret", "jwt"), (CLIENT_ID, CLIENT_SECRET, JWT)
        quota: dict[str, Any] = {g: {"requests": rps, "per_seconds": 1} for g in ("default", "auth")}
    else:
        names, values = paging.FIELDS[provider], CREDENTIALS[provider]
        quota = {"requests": rps, "per_seconds": 1}
    env = {f"UC_BENCH_{n.upper()}": v.removesuffix("/token") for n, v in zip(names, values, strict=True)}
    entry = {"provider": provider, "connection_id": CONNECTION_ID, "base_url": base_url,
             "credentials": {n: f"UC_BENCH_{n.upper()}" for n in names}, "history_start": "2026-01-01",
             "quota": quota, "options": options}
    return entry, env


def cases(budget: float | None) -> Iterator[tuple[str, str, str, Any, dict]]:
    """(name, provider, stream, server context factory, options) of every hostile case."""
    for name, case in paging.CASES.items():
        options = dict(case.options)
        if budget and "max_partition_seconds" in options:
            options["max_partition_seconds"] = budget
        yield name, case.provider, paging.STREAMS[case.provider], (
            lambda c=case: hostile_server(c.provider, c.behaviour)), options
    for name, rc_case in rc.CASES.items():
        options = {"per_page": rc.PER_PAGE, **rc_case.options}
        if budget and "max_partition_seconds" in options:
            options["max_partition_seconds"] = budget
        yield f"ringcentral-{name}", "ringcentral", rc.STREAM, (
            lambda c=rc_case: ringcentral_server(c.behaviour, c.token)), options


def run_case(name: str, provider: str, stream: str, server: Any, options: dict, rps: int, trace: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="uc-bench-hostile-") as tmp, server() as served:
        served: Served
        entry, env = _connection(provider, served.base_url, options, rps)
        conn_file = Path(tmp) / "connections.yaml"
        conn_file.write_text(yaml.safe_dump({"connections": [entry]}), encoding="utf-8")
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(conn_file), stream, paging.DAY.isoformat(),
             str(Path(tmp) / "data"), "1" if trace else "0"],
            env={**os.environ, **env}, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, cwd=REPO,
        )
        wall = time.monotonic() - started
        requests = served.count
    if done.returncode != 0:
        raise RuntimeError(f"{name}: the child failed:\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return {"case": name, "requests": requests, "child_wall_s": round(wall, 2), **figures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--budget", type=float, default=None,
                        help="max_partition_seconds of the cases only a time budget ends (default: the tests' 2 s)")
    parser.add_argument("--requests-per-second", type=int, default=20, help="the connection's quota (default 20/s)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python's allocations (slower)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--child", nargs=5, metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    wanted = {c for c in args.cases.split(",") if c}
    print(f"bound: landing batches of at most {BATCH_ROWS} records or {BATCH_CHARS >> 20} MiB of records, DuckDB "
          "memory_limit 256MB, one response body at most max_response_bytes (32 MiB); the paging guard keeps "
          "every distinct record key of the partition", flush=True)
    with contextlib.suppress(OSError):
        print(f"load average: {os.getloadavg()[0]:.1f}", flush=True)
    results = []
    for name, provider, stream, server, options in cases(args.budget):
        if wanted and name not in wanted:
            continue
        result = run_case(name, provider, stream, server, options, args.requests_per_second, args.tracemalloc)
        results.append(result)
        print(json.dumps(result), flush=True)
    print(f"\n{'case':52} {'requests':>8} {'extract s':>9} {'RSS before':>10} {'peak RSS':>9} {'traced':>7}")
    for r in results:
        traced = "-" if r["traced_peak_mb"] is None else f"{r['traced_peak_mb']:.1f}M"
        print(f"{r['case']:52} {r['requests']:>8} {r['seconds']:>9.2f} {r['rss_before_mb']:>9.1f}M "
              f"{r['peak_rss_mb']:>8.1f}M {traced:>7}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
