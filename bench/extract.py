"""Extraction benchmark against an in-process sandbox (fast quota profile).

Per provider it reports:
- backfill: a `--days` backfill of one connection, partitions run by `--workers` processes at once
  sharing one SQLite limiter (as a Dagster backfill does): wall time, requests made, the quota bound
  (the least time the quota allows for those requests: for each rate group, floor((n - 1) / limit)
  windows; the largest group wins), wall / bound, 429s provoked (goal 0), requests over a quota as
  the sandbox counted them, duplicate records removed at landing and pages fetched twice;
- memory: the peak RSS of a process extracting one partition of about `--volumes` records each (the
  sandbox's daily volume is sized so that the partition lands that many records; quota lifted, so this
  measures memory, not waiting), read from that process's own `VmHWM` (goal: flat);
- landing (`--object-store`): the landing zone's own throughput, the same partitions of
  `--landing-records` records written to a local folder and to an S3 bucket (moto's S3-compatible
  server on a loopback port, started here: its Python server, not S3, bounds the upload), best of 3.

Run from the repository root: `python bench/extract.py --quick` (under 2 minutes) or
`python bench/extract.py` (30 days; 10k vs 1M records). See bench/README.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from uc_pipeline.connections import Connection, load_connections  # noqa: E402
from uc_pipeline.extract import extract_partition  # noqa: E402
from uc_pipeline.http import HttpSettings  # noqa: E402
from uc_pipeline.providers import PROVIDER_IDS, get_provider  # noqa: E402
from uc_pipeline.sandbox import Clock, QuotaSpec, Sandbox, SandboxConnection, load_emulator  # noqa: E402
from uc_pipeline.sandbox.generator import MAX_CALLS_PER_DAY, day_volume  # noqa: E402

# The memory runs extract one weekday whose history starts that day, with the clock at its end: the
# partition holds that day's calls and the sandbox generates nothing else.
MEMORY_DAY = date(2026, 1, 1)  # a Thursday
RATIO_SAMPLE_CALLS = 20_000  # the daily volume the records landed per call are measured at
CHILD_TIMEOUT_S = 4 * 3600
_WORKER: dict[str, Connection] = {}


def _init_worker(conn_file: str, env: dict[str, str]) -> None:
    os.environ.update(env)
    _WORKER.update({c.connection_id: c for c in load_connections(conn_file)})


def _warm(_: int) -> int:
    time.sleep(0.3)  # long enough that every worker of the pool takes one and has imported everything
    return os.getpid()


def _extract_one(connection_id: str, stream: str, day: str, data_dir: str, settings: dict[str, Any]) -> dict[str, Any]:
    result = extract_partition(_WORKER[connection_id], stream, date.fromisoformat(day), data_dir=data_dir,
                               settings=HttpSettings(**settings))
    return {"records": result.landed.rows, "duplicates_removed": result.landed.duplicates_removed, **result.http}


def _write_connections(sandbox: Sandbox, folder: Path) -> tuple[Path, dict[str, str]]:
    text, env = sandbox.connections_yaml()
    path = folder / "connections.yaml"
    path.write_text(text, encoding="utf-8")
    return path, env


def _clock_after(first: date, days: int) -> Clock:
    return Clock(frozen=datetime.combine(first + timedelta(days=days + 1), dtime(12), tzinfo=UTC))


def backfill_start(days: int) -> date:
    """The first day of a backfill of the last `days` days before yesterday: recent, because a provider may
    serve only recent history (Zoom Phone: the last six months, judged by the client's own clock)."""
    return datetime.now(UTC).date() - timedelta(days=days + 1)


def quota_bound(group_counts: Counter[str], quotas: dict[str, QuotaSpec]) -> float:
    """The least time a sliding-window quota allows for these requests: the first `limit` at once,
    then `limit` more per window."""
    return max((math.floor((n - 1) / quotas[g].requests) * quotas[g].window_s
                for g, n in group_counts.items() if n > 0 and g in quotas), default=0.0)


def backfill(provider: str, days: int, calls_per_day: int, workers: int, quota_scale: float) -> dict[str, Any]:
    first = backfill_start(days)
    connection = Sandbox.default_connections([provider], calls_per_day=calls_per_day, history_start=first)[0]
    # The fast profile's quotas, windows stretched by `quota_scale` (the client gets the same through the
    # generated connections file): a scale that makes the quota, not the sandbox's speed, the bottleneck.
    connection.quotas = {g: QuotaSpec(q.requests, q.window_s * quota_scale,
                                      q.penalty_s * quota_scale if q.penalty_s else None)
                         for g, q in load_emulator(provider).fast_quotas.items()}
    # "Now" is the day after the backfilled range, as for a backfill of the last `days` days (an
    # incremental export, which reads everything updated since its start, then stops there).
    sandbox = Sandbox([connection], profile="fast", clock=_clock_after(first, days))
    connection_id = f"demo-{provider}"
    streams = list(get_provider(provider).streams)
    # Generate the history and index it before the clock starts: the sandbox's speed is not what is measured.
    for d in range(days):
        start = datetime.combine(first + timedelta(days=d), dtime(0), tzinfo=UTC)
        for stream in streams:
            sandbox.prepare(connection_id, stream, start, start + timedelta(days=1))
    with sandbox.serve(), tempfile.TemporaryDirectory(prefix="uc-bench-") as tmp:
        folder = Path(tmp)
        conn_file, env = _write_connections(sandbox, folder)
        settings = {"limiter_url": f"sqlite:///{folder / 'state' / 'ratelimit.sqlite'}",
                    "state_dir": str(folder / "state")}
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(str(conn_file), env)) as pool:
            list(pool.map(_warm, range(workers)))
            sandbox.request_log.clear()
            started = time.monotonic()
            futures = [pool.submit(_extract_one, connection_id, stream, (first + timedelta(d)).isoformat(),
                                   str(folder / "data"), settings)
                       for d in range(days) for stream in streams]
            results = [f.result() for f in futures]
            wall = time.monotonic() - started
        log = sandbox.request_log
        entries = log.entries(connection_id)
        groups = Counter(e.group for e in entries if e.group)
        bound = quota_bound(groups, sandbox.quotas(connection_id))
        return {
            "provider": provider, "days": days, "workers": workers,
            "quotas": {g: f"{q.requests}/{q.window_s:g}s" for g, q in sandbox.quotas(connection_id).items()},
            "partitions": len(results), "records": sum(r["records"] for r in results),
            "requests": sum(r["requests"] for r in results), "requests_by_group": dict(groups),
            "wall_s": round(wall, 2), "quota_bound_s": round(bound, 2),
            "wall_over_bound": round(wall / bound, 3) if bound else None,
            "first_to_last_request_s": round(entries[-1].monotonic - entries[0].monotonic, 2) if entries else None,
            "throttled_429": sum(e.status == 429 for e in entries),
            "over_quota": len(log.violations(connection_id)),
            "retries": sum(r["retries"] for r in results),
            "duplicates_removed": sum(r["duplicates_removed"] for r in results),
            "duplicate_pages": sum(n - 1 for n in log.duplicate_pages(connection_id).values()),
        }


def _memory_sandbox(provider: str, calls_per_day: int) -> tuple[Sandbox, SandboxConnection, str]:
    connection = Sandbox.default_connections([provider], calls_per_day=calls_per_day, history_start=MEMORY_DAY)[0]
    # Lift the quota (for the sandbox and, through the generated file, the client): this measures memory.
    connection.quotas = {g: QuotaSpec(100_000, 1.0) for g in load_emulator(provider).fast_quotas}
    clock = Clock(frozen=datetime.combine(MEMORY_DAY + timedelta(days=1), dtime(0), tzinfo=UTC))
    return Sandbox([connection], profile="fast", clock=clock), connection, next(iter(get_provider(provider).streams))


def _memory_window() -> tuple[datetime, datetime]:
    start = datetime.combine(MEMORY_DAY, dtime(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def calls_per_day_for(provider: str, records: int) -> int:
    """The sandbox volume whose memory partition lands about `records` records: the records landed per
    generated call, measured at a small volume, then the `calls_per_day` near the estimate whose drawn
    day volume (the generator jitters it per volume) comes closest."""
    sandbox, conn, stream = _memory_sandbox(provider, RATIO_SAMPLE_CALLS)
    per_call = len(sandbox.record_ids(conn.connection_id, stream, *_memory_window())) / day_volume(conn, MEMORY_DAY)
    wanted = records / per_call
    guess = max(1, round(wanted * RATIO_SAMPLE_CALLS / day_volume(conn, MEMORY_DAY)))
    candidates = range(max(1, guess - guess // 10), min(MAX_CALLS_PER_DAY, guess + guess // 10) + 1,
                       max(1, guess // 2000))
    return min(candidates, key=lambda n: abs(day_volume(dataclasses.replace(conn, calls_per_day=n), MEMORY_DAY)
                                             - wanted))


def memory(provider: str, records: int) -> dict[str, Any]:
    """Extract one partition of about `records` records in a fresh process and read its peak RSS."""
    calls_per_day = calls_per_day_for(provider, records)
    sandbox, connection, stream = _memory_sandbox(provider, calls_per_day)
    start, end = _memory_window()
    sandbox.prepare(connection.connection_id, stream, start, end)  # generated and indexed before the child starts
    with sandbox.serve(), tempfile.TemporaryDirectory(prefix="uc-bench-") as tmp:
        folder = Path(tmp)
        conn_file, env = _write_connections(sandbox, folder)
        args = [sys.executable, __file__, "--child", str(conn_file), connection.connection_id, stream,
                MEMORY_DAY.isoformat(), str(folder / "data"), f"sqlite:///{folder / 'state' / 'ratelimit.sqlite'}"]
        proc = subprocess.run(args, env={**os.environ, **env}, capture_output=True, text=True,
                              timeout=CHILD_TIMEOUT_S)
        if proc.returncode != 0:
            raise RuntimeError(f"{provider} {records}: the extraction process failed:\n{proc.stderr[-3000:]}")
        child = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"provider": provider, "target_records": records, "calls_per_day": calls_per_day,
            "calls_that_day": day_volume(connection, MEMORY_DAY), "stream": stream, **child}


def _peak_rss_kb() -> int:
    """This process's own peak RSS in KB. Linux `VmHWM` (the high-water mark of this address space):
    `getrusage`'s `ru_maxrss` survives `execve`, so in a child started by `subprocess` it would report
    the benchmark process's peak (the sandbox's generated history) whenever that is the larger."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: kilobytes; macOS: bytes


def _child(conn_file: str, connection_id: str, stream: str, day: str, data_dir: str, limiter_url: str) -> None:
    connection = next(c for c in load_connections(conn_file) if c.connection_id == connection_id)
    started = time.monotonic()
    result = extract_partition(connection, stream, date.fromisoformat(day), data_dir=data_dir,
                               settings=HttpSettings(limiter_url=limiter_url))
    peak_kb = _peak_rss_kb()
    print(json.dumps({"records": result.landed.rows, "requests": result.http.get("requests"),
                      "seconds": round(time.monotonic() - started, 1), "peak_rss_mb": round(peak_kb / 1024, 1)}))


def _landing_records(count: int):
    """Records shaped like a call-log entry (~600 bytes of JSON each), with a few ids repeated."""
    for i in range(count):
        yield str(i - 1 if i % 500 == 499 else i), {
            "id": i, "sessionId": f"s{i:012d}", "startTime": "2026-01-01T10:00:00.000Z", "duration": i % 900,
            "direction": "Inbound" if i % 2 else "Outbound", "result": "Accepted",
            "from": {"phoneNumber": f"+1555{i % 10_000_000:07d}", "name": f"Caller {i}"},
            "to": {"phoneNumber": "+15550000000", "name": "Support"}, "legs": [{"action": "Phone Call"}] * 3,
            "note": "x" * 300,
        }


def _time_landing(data_dir: Path, records: int, partitions: int) -> tuple[float, int]:
    """Best of three: seconds to land `partitions` partitions of `records` records, and bytes landed."""
    from uc_pipeline.landing import write_partition

    start = datetime.combine(MEMORY_DAY, dtime(0), tzinfo=UTC)
    best, size = math.inf, 0
    for _ in range(3):
        started = time.perf_counter()
        size = 0
        for p in range(partitions):
            landed = write_partition(data_dir, "ringcentral", "call_log", f"bench-{p}", MEMORY_DAY,
                                     _landing_records(records), window_start=start,
                                     window_end=start + timedelta(days=1), extracted_at=start)
            size += landed.bytes
        best = min(best, time.perf_counter() - started)
    return best, size


def landing_throughput(records: int, partitions: int) -> dict[str, Any]:
    """Land the same partitions locally, then in a bucket of a loopback S3 server; records/s of each."""
    from tests.s3_server import isolated_env, moto_server, new_landing

    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="uc-bench-landing-") as tmp:
        os.environ.pop("UC_LANDING_URL", None)
        local_s, size = _time_landing(Path(tmp) / "local", records, partitions)
        try:
            with moto_server() as endpoint:
                os.environ.clear()
                os.environ.update(isolated_env(new_landing(endpoint)))
                remote_s, _ = _time_landing(Path(tmp) / "remote", records, partitions)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    total = records * partitions
    return {"phase": "landing", "partitions": partitions, "records_per_partition": records,
            "mb_landed": round(size / 1e6, 1), "local_s": round(local_s, 2), "object_store_s": round(remote_s, 2),
            "local_records_per_s": round(total / local_s), "object_store_records_per_s": round(total / remote_s),
            "object_store_over_local_throughput": round(local_s / remote_s, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--providers", default=",".join(PROVIDER_IDS), help="comma-separated provider ids")
    parser.add_argument("--days", type=int, default=30, help="days of the backfill (default 30)")
    parser.add_argument("--calls-per-day", type=int, default=1000, help="sandbox volume of the backfill")
    parser.add_argument("--workers", type=int, default=4, help="partitions extracted at once, one process each")
    parser.add_argument("--quota-scale", type=float, default=1.0,
                        help="stretch the fast quotas' windows by this factor (default 1: the fast profile)")
    parser.add_argument("--volumes", default="10000,1000000",
                        help="records landed in the partition of each memory run (comma-separated)")
    parser.add_argument("--memory-providers", default=None, help="providers of the memory runs (default: --providers)")
    parser.add_argument("--skip-backfill", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="7 days x 300 calls; memory at 10k vs 100k records on ringcentral (1,000 per page)")
    parser.add_argument("--object-store", action="store_true",
                        help="also compare the landing zone's throughput: local folder vs an S3 bucket on loopback")
    parser.add_argument("--landing-records", type=int, default=100_000,
                        help="records per partition of the --object-store comparison (default 100000)")
    parser.add_argument("--landing-partitions", type=int, default=4,
                        help="partitions of the --object-store comparison (default 4)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--child", nargs=6, metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(*args.child)
        return 0
    if args.quick:
        args.days, args.calls_per_day, args.volumes = 7, 300, "10000,100000"
        args.memory_providers = args.memory_providers or "ringcentral"
    providers = [p for p in args.providers.split(",") if p]
    unknown = set(providers) - set(PROVIDER_IDS)
    if unknown:
        parser.error(f"unknown provider(s) {sorted(unknown)}; known: {', '.join(PROVIDER_IDS)}")
    results: dict[str, list[dict[str, Any]]] = {"backfill": [], "memory": [], "landing": []}
    if args.object_store:
        row = landing_throughput(args.landing_records, args.landing_partitions)
        results["landing"].append(row)
        print(json.dumps(row), flush=True)
    if not args.skip_backfill:
        for provider in providers:
            row = backfill(provider, args.days, args.calls_per_day, args.workers, args.quota_scale)
            results["backfill"].append(row)
            print(json.dumps(row), flush=True)
    if not args.skip_memory:
        for provider in (args.memory_providers or args.providers).split(","):
            for volume in (int(v) for v in args.volumes.split(",") if v):
                row = memory(provider, volume)
                results["memory"].append(row)
                print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
