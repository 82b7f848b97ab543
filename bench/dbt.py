"""Benchmark of the dbt project at volume: generate landing Parquet for N calls, then time a full
`dbt build`, the daily partitioned run of a new day (and of the same day again) and the KPI queries
analysts run on the marts. Two floors frame the figures: dbt's own start and parse when it has nothing
to build, and one core reading and parsing every landed record once. Each timing says how much CPU the
host (a virtual machine's hypervisor) took meanwhile, since that makes the same run vary.

Landing files are generated vectorised in DuckDB from native records the sandbox emulators render for
one template day (so they have exactly the providers' shapes): each day's copy gets its ids made unique
and its timestamps moved to that day; connections (`bench-<n>`, as many as the volume needs) reuse
those records, and one partitioned `COPY ... TO` per stream writes
`landing/<provider>/<stream>/connection=<id>/date=<day>/part.parquet`.

    python bench/dbt.py --calls 1000000            # about 1M calls over 30 days
    python bench/dbt.py --calls 10000000 --days 60 # 10M
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "dbt_project"
STREAMS = {
    "aircall": ["calls"], "ringcentral": ["call_log"], "eightbyeight": ["recordings"], "zendesk": ["calls", "legs"],
}
TEMPLATE_DAY = date(2026, 3, 2)
FIRST_DAY = date(2026, 1, 5)

# Per stream: (new record id, JSON patch making the copy unique and moving its UNIX-second times).
# `k` is the copy number, `shift_s` the seconds it moves by; ISO dates are moved as text (see _shift_iso).
_COPY_SQL = {
    ("aircall", "calls"): (
        "cast(cast(rec->>'$.id' as bigint) + (k + 1) * 1000000000000 as varchar)",
        "json_object('id', cast(rec->>'$.id' as bigint) + (k + 1) * 1000000000000,"
        " 'started_at', cast(rec->>'$.started_at' as bigint) + shift_s,"
        " 'answered_at', cast(rec->>'$.answered_at' as bigint) + shift_s,"
        " 'ended_at', cast(rec->>'$.ended_at' as bigint) + shift_s,"
        " 'comments', to_json(list_transform(json_extract(rec, '$.comments[*]'), lambda x: json_merge_patch(x,"
        " json_object('id', cast(x->>'$.id' as bigint) + (k + 1) * 1000000000000)))))",
    ),
    ("ringcentral", "call_log"): (
        "(rec->>'$.id') || 'k' || k",
        "json_object('id', (rec->>'$.id') || 'k' || k,"
        " 'sessionId', (rec->>'$.sessionId') || lpad(cast(k as varchar), 4, '0'),"
        " 'recording', case when (rec->'$.recording') is not null then json_merge_patch(rec->'$.recording',"
        " json_object('id', (rec->>'$.recording.id') || 'k' || k)) end)",
    ),
    ("eightbyeight", "recordings"): (
        "'B' || k || '/' || (rec->>'$.filename')",
        "json_object('filename', 'B' || k || '/' || (rec->>'$.filename'),"
        " 'transactionID', (rec->>'$.transactionID') || lpad(cast(k as varchar), 4, '0'))",
    ),
    ("zendesk", "calls"): (
        "cast(cast(rec->>'$.id' as bigint) + (k + 1) * 10000000000000 as varchar)",
        "json_object('id', cast(rec->>'$.id' as bigint) + (k + 1) * 10000000000000)",
    ),
    ("zendesk", "legs"): (
        "cast(cast(rec->>'$.id' as bigint) + (k + 1) * 10000000000000 as varchar)",
        "json_object('id', cast(rec->>'$.id' as bigint) + (k + 1) * 10000000000000,"
        " 'call_id', cast(rec->>'$.call_id' as bigint) + (k + 1) * 10000000000000)",
    ),
}

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


def _shift_iso(expr: str) -> str:
    """`expr` with every ISO date near the template day moved by `shift_d` days (via placeholders, so
    that a moved date is never moved twice)."""
    near = [TEMPLATE_DAY + timedelta(days=d) for d in range(-9, 4)]
    for i, day in enumerate(near):
        expr = f"replace({expr}, '{day.isoformat()}', '@@{i}@@')"
    for i, day in enumerate(near):
        expr = f"replace({expr}, '@@{i}@@', strftime(date '{day.isoformat()}' + shift_d, '%Y-%m-%d'))"
    return expr


def templates(per_day: int) -> pa.Table:
    """Native records of one template day from the sandbox emulators."""
    sys.path.insert(0, str(REPO))  # run as a script from a checkout
    from uc_pipeline.sandbox import Sandbox

    sandbox = Sandbox(Sandbox.default_connections(providers=list(STREAMS), calls_per_day=per_day, seed=1))
    start = datetime.combine(TEMPLATE_DAY, datetime.min.time(), UTC)
    rows: dict[str, list[str]] = {"provider": [], "stream": [], "rec": []}
    for provider, streams in STREAMS.items():
        for stream in streams:
            for record in sandbox.records(f"demo-{provider}", stream, start, start + timedelta(days=1)):
                rows["provider"].append(provider)
                rows["stream"].append(stream)
                rows["rec"].append(json.dumps(record, separators=(",", ":")))
    return pa.table(rows)


def generate(data_dir: Path, calls: int, days: int, per_day: int) -> dict[str, int]:
    """Landing files for about `calls` calls over `days` days, plus one more day of the same volume (the
    new day of the daily run); returns the record count per stream."""
    connections = max(1, math.ceil(calls / (len(STREAMS) * days * per_day)))
    tpl = templates(per_day)
    con = duckdb.connect(config={"threads": 2, "memory_limit": "3GB", "preserve_insertion_order": False})
    con.execute("set TimeZone = 'UTC'")
    con.register("tpl_arrow", tpl)
    con.execute("create table tpl as select provider, stream, rec::json as rec from tpl_arrow")
    counts = {}
    for (provider, stream), (rid_sql, patch_sql) in _COPY_SQL.items():
        target = data_dir / "landing" / provider / stream
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        # The JSON work is done once per (template record, day); connections reuse those records
        # verbatim, since the connection id is part of every unified id.
        con.execute(f"""
            create or replace temp table shifted as
            select
                d.d as day_index,
                {rid_sql} as _record_id,
                json_merge_patch({_shift_iso('rec::varchar')}, {patch_sql}) as _record
            from (
                select t.rec, d.d, d.d as k,
                    cast(d.d + {(FIRST_DAY - TEMPLATE_DAY).days} as integer) as shift_d,
                    cast(d.d + {(FIRST_DAY - TEMPLATE_DAY).days} as bigint) * 86400 as shift_s
                from tpl as t, range({days + 1}) as d(d)
                where t.provider = '{provider}' and t.stream = '{stream}'
            ) as d
        """)
        con.execute(f"""
            copy (
                select
                    'bench-' || c.c as connection,
                    strftime(date '{FIRST_DAY}' + s.day_index::integer, '%Y-%m-%d') as date,
                    'bench-' || c.c as _connection_id,
                    timezone('UTC', cast(date '{FIRST_DAY}' + s.day_index::integer as timestamp)) as _window_start,
                    timezone('UTC', cast(date '{FIRST_DAY}' + s.day_index::integer + 1 as timestamp)) as _window_end,
                    timezone('UTC', cast(date '{FIRST_DAY}' + s.day_index::integer + 1 as timestamp))
                        + interval 1 hour as _extracted_at,
                    s._record_id,
                    s._record
                from shifted as s, range({connections}) as c(c)
            ) to '{target}' (format parquet, compression zstd, partition_by (connection, date),
                             filename_pattern 'part', overwrite_or_ignore true)
        """)
        for folder in target.glob("connection=*/date=*"):
            _one_part_file(con, folder)
        counts[f"{provider}/{stream}"] = con.execute(
            f"select count(*) from read_parquet('{target}/*/*/part.parquet')").fetchone()[0]
    con.close()
    return counts


def _one_part_file(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """The landing contract has one `part.parquet` per partition; a partitioned COPY may write several."""
    written = sorted(folder.glob("part*.parquet"))
    if len(written) == 1:
        written[0].rename(folder / "part.parquet")
        return
    files = ", ".join(f"'{w}'" for w in written)
    con.execute(f"copy (select * from read_parquet([{files}])) to '{folder / '.merged.parquet'}' "
                "(format parquet, compression zstd)")
    for w in written:
        w.unlink()
    (folder / ".merged.parquet").rename(folder / "part.parquet")


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


def dbt(args: list[str], data_dir: Path, target: Path) -> tuple[float, str]:
    """Run the dbt CLI; returns its wall time, and as text the CPU time it used (steadier than the wall
    time where the host takes CPU away) and how much CPU the host took meanwhile."""
    env = {**os.environ, "DO_NOT_TRACK": "1", "UC_DATA_DIR": str(data_dir)}
    cmd = [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(PROJECT), "--profiles-dir",
           str(PROJECT), "--target-path", str(target), "--log-path", str(target / "logs")]
    ticks = _cpu_ticks()
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-6000:])
        raise SystemExit(f"dbt {' '.join(args)} failed (exit {done.returncode})")
    now = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = now.ru_utime + now.ru_stime - used.ru_utime - used.ru_stime
    return elapsed, f"dbt used {cpu:.1f}s of CPU; {stolen_since(ticks)}"


def _hold_back(data_dir: Path, day: date) -> list[tuple[Path, Path]]:
    """Move the landing partitions of `day` out of the landing zone; returns (held, landed) paths."""
    moves = []
    for folder in sorted((data_dir / "landing").glob(f"*/*/connection=*/date={day}")):
        held = data_dir / "held_back" / folder.relative_to(data_dir / "landing")
        held.parent.mkdir(parents=True, exist_ok=True)
        folder.rename(held)
        moves.append((held, folder))
    return moves


def _land_held(moves: list[tuple[Path, Path]]) -> None:
    for held, landed in moves:
        held.rename(landed)


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


def landing_floor(data_dir: Path) -> tuple[float, float]:
    """Seconds one DuckDB core takes to read every landed record's JSON text, and to read and parse it (one
    field extracted): what any build over this landing zone pays before it stages anything."""
    con = duckdb.connect(config={"threads": 1})
    con.execute("set enable_progress_bar = false")
    read = parse = 0.0
    try:
        for provider, streams in STREAMS.items():
            for stream in streams:
                landed = f"read_parquet('{data_dir}/landing/{provider}/{stream}/*/*/part.parquet')"
                started = time.perf_counter()
                con.execute(f"select sum(length(_record)) from {landed}").fetchall()
                read += time.perf_counter() - started
                started = time.perf_counter()
                con.execute(f"select count(json_extract_string(_record, '$.id')) from {landed}").fetchall()
                parse += time.perf_counter() - started
    finally:
        con.close()
    return read, parse


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
    parser.add_argument("--reuse", action="store_true",
                        help="time dbt on the landing zone already in --data-dir (skip generating it)")
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
        # The daily run is timed on a day that is new to the warehouse, as the schedule runs it: the full
        # build covers every day but the last, which is then landed and built on its own.
        last_day = FIRST_DAY + timedelta(days=args.days)
        held = _hold_back(data_dir, last_day)
        try:
            dbt(["parse"], data_dir, target)
            full, full_cpu = dbt(["build"], data_dir, target)
        finally:
            _land_held(held)
        con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
        uc_calls = con.execute("select count(*) from uc.uc_call").fetchone()[0]
        con.close()
        print(f"uc_call rows after the full build: {uc_calls}")
        print(f"full dbt build (every day but {last_day}): {full:.1f}s ({_split(target, 'full')}; {full_cpu})")
        window = json.dumps({"uc_start_date": str(last_day), "uc_end_date": str(last_day)})
        # as Dagster's daily partition runs it (unit tests are left to CI)
        daily = ["build", "--select", "tag:partitioned", "--exclude-resource-type", "unit_test", "--vars", window]
        one_day, cpu = dbt(daily, data_dir, target)
        print(f"one-day partitioned build of a new day, models and their data tests ({last_day}): {one_day:.1f}s"
              f" ({_split(target, 'daily')}; {cpu})")
        again, cpu = dbt(daily, data_dir, target)
        print(f"the same day built again, nothing new landed: {again:.1f}s ({_split(target, 'again')}; {cpu})")
        # another day's window, so that dbt parses the project again as every new partition makes it do
        other = json.dumps({"uc_start_date": str(last_day - timedelta(days=1)),
                            "uc_end_date": str(last_day - timedelta(days=1))})
        nothing, cpu = dbt(["build", "--select", "tag:no-such-tag", "--vars", other], data_dir, target)
        print(f"floor of a daily run: dbt selecting nothing, with a new window: {nothing:.1f}s ({cpu})")
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
