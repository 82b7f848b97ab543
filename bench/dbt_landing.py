"""The landing zone of the dbt benchmark: generated at volume, held back by day, and its read floor.

Landing files are generated vectorised in DuckDB from native records the sandbox emulators render for
one template day (so they have exactly the providers' shapes): each day's copy gets its ids made unique
and its timestamps moved to that day; connections (`bench-<n>`, as many as the volume needs) reuse
those records, and one partitioned `COPY ... TO` per stream writes
`landing/<provider>/<stream>/connection=<id>/date=<day>/part.parquet`.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

REPO = Path(__file__).resolve().parents[1]
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


def hold_back(data_dir: Path, day: date) -> list[tuple[Path, Path]]:
    """Move the landing partitions of `day` out of the landing zone; returns (held, landed) paths."""
    moves = []
    for folder in sorted((data_dir / "landing").glob(f"*/*/connection=*/date={day}")):
        held = data_dir / "held_back" / folder.relative_to(data_dir / "landing")
        held.parent.mkdir(parents=True, exist_ok=True)
        folder.rename(held)
        moves.append((held, folder))
    return moves


def land_held(moves: list[tuple[Path, Path]]) -> None:
    for held, landed in moves:
        held.rename(landed)


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
