"""Benchmark of the dbt project at volume: generate landing Parquet for N calls (bench/dbt_landing.py),
then time a full `dbt build`, the daily partitioned run of a new day (and of the same day again) and the
KPI queries analysts run on the marts. The daily run gets its window as Dagster passes it, through
UC_START_DATE/UC_END_DATE, so dbt keeps its parse. Two floors frame the figures: dbt's own start when it
has nothing to build, and one core reading and parsing every landed record once. The new day is also
built a second time from the same warehouse with the window in `--vars`, which shows what the re-parse
that every new `--vars` value forces costs. Each timing says how much CPU the host (a virtual machine's
hypervisor) took meanwhile, since that makes the same run vary.

With `--object-store` the full build is timed a second time with the landing zone in an S3 bucket
(`UC_LANDING_URL=s3://…`, moto's S3-compatible server on a loopback port, started here), read by dbt
through DuckDB's httpfs, and compared with the local one.

    python bench/dbt.py --calls 1000000            # about 1M calls over 30 days
    python bench/dbt.py --calls 10000000 --days 60 # 10M
    python bench/dbt.py --calls 200000 --object-store
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb
from dbt_landing import FIRST_DAY, REPO, generate, hold_back, land_held, landing_floor
from dbt_run import DAILY, timed_dbt

from uc_pipeline.providers import PROVIDER_IDS

PROJECT = REPO / "dbt_project"
KPI_QUERIES = {
    "kpi_daily, one provider, 30 days": (
        "select * from reporting.kpi_daily where provider = 'zendesk' and day >= (select max(day) - 30 "
        "from reporting.kpi_daily) order by day"
    ),
    "calls_daily, volume by provider and outcome": (
        "select provider, outcome, sum(calls), sum(answered_calls), sum(duration_s_sum) "
        "from reporting.calls_daily group by all order by all"
    ),
    "calls_hour_of_week heatmap": "select * from reporting.calls_hour_of_week order by all",
    "agent_daily, top AHT on the last day": (
        "select * from reporting.agent_daily where day = (select max(day) from reporting.agent_daily) "
        "order by aht_s desc nulls last limit 20"
    ),
    "kpi_daily, service level by week": (
        "select provider, date_trunc('week', day) as week, sum(answered_within_threshold_calls) / "
        "sum(offered_calls) as service_level from reporting.kpi_daily group by all order by all"
    ),
}


def _cpu_ticks() -> tuple[int, int]:
    """(all, stolen) CPU ticks since boot from /proc/stat ((0, 0) where there is none): on a virtual
    machine, `steal` is the time the host gave this machine's CPUs to others."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return sum(fields[:8]), fields[7] if len(fields) > 7 else 0


def stolen_since(ticks: tuple[int, int]) -> str:
    """The share of CPU time the host took since `ticks` (from _cpu_ticks), as text."""
    total, stolen = (now - then for now, then in zip(_cpu_ticks(), ticks, strict=True))
    return f"host took {stolen / total:.0%} of the CPU" if total > 0 else "CPU steal unknown"


def dbt(args: list[str], data_dir: Path, target: Path, window: tuple[str, str] | None = None,
        extra_env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run the dbt CLI on this checkout's project (dbt_run.timed_dbt); returns its wall time, and as text the
    CPU time it used and how much CPU the host took meanwhile."""
    ticks = _cpu_ticks()
    elapsed, cpu = timed_dbt(PROJECT, args, data_dir, target, window, extra_env)
    return elapsed, f"dbt used {cpu:.1f}s of CPU; {stolen_since(ticks)}"


def _split(target: Path, phase: str) -> str:
    """Where a dbt invocation's time went, from its run_results.json (kept as `<phase>_run_results.json`
    beside it, for a look at each node)."""
    kept = target / f"{phase}_run_results.json"
    shutil.copyfile(target / "run_results.json", kept)
    results = json.loads(kept.read_text())
    by_type: dict[str, float] = {}
    for result in results["results"]:
        kind = result["unique_id"].split(".")[0]
        by_type[kind] = by_type.get(kind, 0.0) + result["execution_time"]
    nodes = ", ".join(f"{kind}s {seconds:.1f}s" for kind, seconds in sorted(by_type.items()))
    return f"dbt running nodes {results['elapsed_time']:.1f}s; node time {nodes}"


def machine_reference() -> str:
    """Two fixed workloads that say how fast this machine is, so that figures from different machines
    compare: one DuckDB core hashing 200M integers, and the dbt CLI's start (`dbt --version`)."""
    con = duckdb.connect(config={"threads": 1})
    con.execute("set enable_progress_bar = false")
    started = time.perf_counter()
    con.execute("select sum(hash(i)) from range(200000000) as t(i)").fetchall()
    duckdb_s = time.perf_counter() - started
    con.close()
    started = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "dbt"), "--version"], capture_output=True, check=True,
                   env={**os.environ, "DO_NOT_TRACK": "1"})
    return f"DuckDB 1 core, hash 200M integers: {duckdb_s:.2f}s; dbt --version: {time.perf_counter() - started:.2f}s"


def uc_call_rows(data_dir: Path) -> int:
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute("select count(*) from uc.uc_call").fetchone()[0]
    finally:
        con.close()


def kpi_times(warehouse: Path) -> dict[str, float]:
    con = duckdb.connect(str(warehouse), read_only=True)
    out = {}
    try:
        for name, sql in KPI_QUERIES.items():
            best = math.inf
            for _ in range(3):
                started = time.perf_counter()
                con.execute(sql).fetchall()
                best = min(best, time.perf_counter() - started)
            out[name] = best
    finally:
        con.close()
    return out


def daily_with_vars(window: tuple[str, str], data_dir: Path, target: Path,
                    before_daily: Path) -> tuple[float, str]:
    """The daily build of the new day once more, from `before_daily` (a copy of the warehouse before its
    first daily build, consumed), with the window in `--vars` instead of the environment: dbt then
    parses the whole project again, as it must whenever `--vars` changes. The difference to the first
    daily build is what passing the window as `--vars` would cost every partition."""
    shutil.move(before_daily, data_dir / "warehouse.duckdb")
    as_vars = json.dumps({"uc_start_date": window[0], "uc_end_date": window[1]})
    return dbt([*DAILY, "--vars", as_vars], data_dir, target)


def server_cpu_s(name: str) -> float:
    """CPU seconds used so far by this process's children whose command line contains `name` (Linux)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and name in cmdline:  # fields[1]: the parent pid
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return total


def object_store_full_build(data_dir: Path, target: Path) -> tuple[float, str, int, float, float]:
    """The full build again from a fresh warehouse, the landing zone (as it is now) uploaded to an S3
    bucket on a loopback server; returns its time, CPU text, uc_call rows, the upload's seconds and the
    CPU seconds the S3 server used during the build (on this machine, where a real store's would not be).
    The local warehouse is put back afterwards."""
    import pyarrow.fs as pafs

    sys.path.insert(0, str(REPO))
    from tests.s3_server import isolated_env, moto_server, new_landing
    from uc_pipeline.landing_store import open_store

    local = data_dir / "warehouse.duckdb"
    aside = data_dir / "warehouse.local.duckdb"
    shutil.move(local, aside)
    saved = dict(os.environ)
    try:
        with moto_server() as endpoint:
            env = isolated_env(new_landing(endpoint))
            os.environ.update(env)
            store = open_store(env["UC_LANDING_URL"])
            started = time.perf_counter()
            pafs.copy_files(str(data_dir / "landing"), store.root, destination_filesystem=store.fs)
            upload_s = time.perf_counter() - started
            dbt(["parse"], data_dir, target, extra_env=env)
            server_before = server_cpu_s("moto")
            seconds, cpu = dbt(["build"], data_dir, target, extra_env=env)
            server_s = server_cpu_s("moto") - server_before
            rows = uc_call_rows(data_dir)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        local.unlink(missing_ok=True)
        shutil.move(aside, local)
    return seconds, cpu, rows, upload_s, server_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1_000_000, help="approximate number of calls (all providers)")
    parser.add_argument("--days", type=int, default=30,
                        help="days of history the calls spread over (the full build); one more day is "
                        "generated for the daily run")
    parser.add_argument("--per-day", type=int, default=2000,
                        help="calls per provider of the sandbox template day (copies make up the rest)")
    parser.add_argument("--data-dir", type=Path, help="where to write (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the data dir")
    parser.add_argument("--object-store", action="store_true",
                        help="also time the full build with the landing zone in an S3 bucket on loopback")
    parser.add_argument("--reuse", action="store_true",
                        help="time dbt on the landing zone already in --data-dir (skip generating it)")
    parser.add_argument("--all-providers", action="store_true",
                        help="build every provider's models (default: UC_PROVIDERS = the providers landed, as a "
                        "deployment of those providers sets it)")
    args = parser.parse_args()
    if args.calls < 1 or args.days < 2 or args.per_day < 10:
        parser.error("--calls must be >= 1, --days >= 2 and --per-day >= 10")

    print(f"machine reference: {machine_reference()}")
    data_dir = (args.data_dir or Path(tempfile.mkdtemp(prefix="uc-bench-dbt-"))).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / "dbt_target"
    (data_dir / "warehouse.duckdb").unlink(missing_ok=True)
    try:
        if args.reuse:
            if args.data_dir is None:
                parser.error("--reuse needs --data-dir")
            shutil.rmtree(target, ignore_errors=True)
        else:
            started = time.perf_counter()
            counts = generate(data_dir, args.calls, args.days, args.per_day)
            print(f"generated landing in {time.perf_counter() - started:.1f}s: {counts}")
        if not args.all_providers:
            landed = {p.name for p in (data_dir / "landing").iterdir()}
            os.environ["UC_PROVIDERS"] = ",".join(p for p in PROVIDER_IDS if p in landed)
        print(f"providers built: {os.environ.get('UC_PROVIDERS') or 'all'}")
        # The daily run is timed on a day that is new to the warehouse, as the schedule runs it: the full
        # build covers every day but the last, which is then landed and built on its own.
        last_day = FIRST_DAY + timedelta(days=args.days)
        held = hold_back(data_dir, last_day)
        try:
            dbt(["parse"], data_dir, target)
            full, full_cpu = dbt(["build"], data_dir, target)
            full_split = _split(target, "full")
            remote = object_store_full_build(data_dir, target) if args.object_store else None
            if remote:
                dbt(["parse"], data_dir, target)  # back to the local landing zone's parse
        finally:
            land_held(held)
        print(f"uc_call rows after the full build: {uc_call_rows(data_dir)}")
        print(f"full dbt build (every day but {last_day}): {full:.1f}s ({full_split}; {full_cpu})")
        if remote:
            seconds, cpu, rows, upload_s, server_s = remote
            print(f"full dbt build with the landing zone in S3 (loopback moto server, uploaded in {upload_s:.1f}s): "
                  f"{seconds:.1f}s, {seconds / full:.2f}x local ({cpu}; the S3 server used {server_s:.1f}s of CPU "
                  f"on this machine meanwhile); uc_call rows: {rows}")
        window = (str(last_day), str(last_day))
        before_daily = data_dir / "warehouse.before-daily.duckdb"
        shutil.copyfile(data_dir / "warehouse.duckdb", before_daily)
        one_day, cpu = dbt(DAILY, data_dir, target, window)
        print(f"one-day partitioned build of a new day, models and their data tests ({last_day}): {one_day:.1f}s"
              f" ({_split(target, 'daily')}; {cpu})")
        again, cpu = dbt(DAILY, data_dir, target, window)
        print(f"the same day built again, nothing new landed: {again:.1f}s ({_split(target, 'again')}; {cpu})")
        after_daily = uc_call_rows(data_dir)
        # another day's window: dbt keeps its parse, as on every new partition
        other = str(last_day - timedelta(days=1))
        nothing, cpu = dbt(["build", "--select", "tag:no-such-tag"], data_dir, target, (other, other))
        print(f"floor of a daily run: dbt selecting nothing, with a new window: {nothing:.1f}s ({cpu})")
        as_vars, cpu = daily_with_vars(window, data_dir, target, before_daily)
        print(f"the new day built again from the warehouse as it was before it, with the window in --vars "
              f"(dbt parses the whole project again): {as_vars:.1f}s ({_split(target, 'vars')}; {cpu}); "
              f"uc_call rows after it: {uc_call_rows(data_dir)} (after the first daily build: {after_daily})")
        ticks = _cpu_ticks()
        read, parse = landing_floor(data_dir)
        print(f"floor of a full build: one core reads the landed JSON in {read:.1f}s, reads and parses it in "
              f"{parse:.1f}s (two cores: {parse / 2:.1f}s; {stolen_since(ticks)})")
        for name, seconds in kpi_times(data_dir / "warehouse.duckdb").items():
            print(f"KPI query {name}: {seconds * 1000:.0f} ms")
        print(f"machine reference at the end: {machine_reference()}")
    finally:
        if not args.keep and args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
