"""The landing zone: one Parquet file per (provider, stream, connection, day), written atomically.

Layout and columns are the contract in ARCHITECTURE.md:
`<landing>/<provider>/<stream>/connection=<id>/date=<YYYY-MM-DD>/part.parquet` with
`_connection_id, _window_start, _window_end, _extracted_at, _record_id, _record`. `<landing>` is
`UC_LANDING_URL`: a local folder (default `<data_dir>/landing`) or an object store (`s3://bucket/prefix`),
reached through landing_store.py. Directory streams (agents, queues, lines, contacts) are snapshots:
`snapshot=<YYYYMMDDTHHMMSSZ>` in place of `date=`.

Writing a partition takes three streaming passes over local scratch files, so that memory stays flat
whatever the size of a day:

1. records stream to a scratch file in batches, numbered in fetch order (`_seq`);
2. duplicates are looked for in hash buckets of ids: one pass routes every (`_record_id`, `_seq`) to
   the file of its bucket, then each bucket (~`BUCKET_IDS` ids) is grouped on its own, and the `_seq`
   of every version that is not the last of its id goes to a small table (duplicates are rare);
3. the scratch file is copied in fetch order to the final file, minus those rows.

Nothing ever groups, sorts or joins the whole partition, so memory follows the bucket size and the
number of duplicates, not the number of records. Keeping the fetch order means that re-running a
partition over the same pages gives the same file. Only the finished file replaces the partition: a
rename in a local folder, one upload (a single PUT or a completed multipart upload) in an object store.
A process killed at any point leaves the previous file intact.

Several writers of one partition (a backfill beside the schedule's lookback) never break each other:
each works in its own locked scratch folder (landing_writers.py: beside the partition file in a local
landing zone, under `<data_dir>/scratch/landing/` for an object store), removes only the leftovers of
writers that died, and its complete file replaces the partition whole: the last writer to finish wins,
and a reader sees one whole version or the other.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from uc_pipeline.landing_store import ObjectStore, open_store
from uc_pipeline.landing_writers import WriterFolder, remove_leftovers
from uc_pipeline.settings import landing_url

# A batch of the scratch file (one row group) ends at whichever comes first: the file's footer grows with
# the number of row groups, the memory of a batch with its size.
BATCH_ROWS = 16_384
BATCH_CHARS = 4 << 20
# Ids grouped at once when looking for duplicates: bounds the memory of the dedupe (~10 MB per 100k ids).
BUCKET_IDS = 100_000
# Bucket files open at once while routing; past 25.6M records per partition the buckets grow instead.
MAX_BUCKETS = 256
# Rows per batch of the routing pass (only ids and sequence numbers, ~30 bytes a row).
ROUTE_ROWS = 65_536
PART_FILE = "part.parquet"
# A snapshot folder's time: sortable as text, and free of `:` (not portable in paths and object keys).
SNAPSHOT_FORMAT = "%Y%m%dT%H%M%SZ"

_SCRATCH_SCHEMA = pa.schema([("_seq", pa.int64()), ("_record_id", pa.string()), ("_record", pa.string())])
_IDS_SCHEMA = pa.schema([("_record_id", pa.string()), ("_seq", pa.int64())])


@dataclass(frozen=True)
class LandedPartition:
    path: str  # the file's local path or object URL
    rows: int
    duplicates_removed: int
    bytes: int


def partition_folder(day: date | datetime) -> str:
    """The partition's folder name: `date=<YYYY-MM-DD>` for a day, `snapshot=<YYYYMMDDTHHMMSSZ>` for the UTC
    time a directory snapshot was taken (a datetime; directory streams are snapshots, not days)."""
    if isinstance(day, datetime):  # before `date`: a datetime is a date too
        if day.tzinfo is None:
            raise ValueError(f"snapshot time {day.isoformat()} must be timezone-aware (UTC)")
        return f"snapshot={day.astimezone(UTC).strftime(SNAPSHOT_FORMAT)}"
    return f"date={day.isoformat()}"


def partition_key(provider: str, stream: str, connection_id: str, day: date | datetime) -> str:
    """The partition file's path below the landing root: the one place the layout is spelled out."""
    return f"{provider}/{stream}/connection={connection_id}/{partition_folder(day)}/{PART_FILE}"


def landing_store(data_dir: str | Path) -> ObjectStore:
    """The landing zone of `data_dir`: `UC_LANDING_URL`, or `<data_dir>/landing`."""
    return open_store(landing_url(Path(data_dir)))


def partition_path(
    data_dir: str | Path, provider: str, stream: str, connection_id: str, day: date | datetime
) -> Path:
    """The partition file in a local landing zone (an object store has no path: use `read_partition`)."""
    return landing_store(data_dir).local_path(partition_key(provider, stream, connection_id, day))


def partition_dir(
    data_dir: str | Path, provider: str, stream: str, connection_id: str, day: date | datetime
) -> Path:
    return partition_path(data_dir, provider, stream, connection_id, day).parent


def landed_days(data_dir: str | Path) -> list[date]:
    """Every day with at least one landed partition file, oldest first."""
    days = set()
    for rel in landing_store(data_dir).list_files():
        folder, _, name = rel.rpartition("/")
        day = folder.rpartition("/")[2]
        if name == PART_FILE and day.startswith("date="):
            try:
                days.add(date.fromisoformat(day[len("date="):]))
            except ValueError:
                continue  # not a partition folder
    return sorted(days)


def record_json(record: Any) -> str:
    """The verbatim JSON text stored in `_record` (UTF-8, no ASCII escaping, stable separators)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def write_partition(
    data_dir: str | Path,
    provider: str,
    stream: str,
    connection_id: str,
    day: date | datetime,
    records: Iterable[tuple[str, Any]],
    *,
    window_start: datetime,
    window_end: datetime,
    extracted_at: datetime,
    bucket_ids: int = BUCKET_IDS,
) -> LandedPartition:
    """Land `(record_id, record)` pairs as one partition, replacing any previous version atomically.

    `day` is the UTC day of a daily partition, or the UTC time of a directory snapshot (`partition_folder`).

    Of several records with the same id, the last one fetched is kept. `bucket_ids` is how many ids
    the dedupe groups at once. If `records` raises, nothing is replaced and the scratch files are removed.
    Writers of the same partition may run at once: each complete file replaces the partition whole, and
    the last to finish wins.
    """
    store = landing_store(data_dir)
    key = partition_key(provider, stream, connection_id, day)
    # Scratch beside the partition file in a local landing zone (the rename must not cross filesystems).
    scratch_parent = (
        Path(data_dir).resolve() / "scratch" / "landing" / key if store.remote else store.local_path(key)
    ).parent
    scratch_parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(scratch_parent)
    with WriterFolder(scratch_parent) as work:
        scratch = work / "scratch.parquet"
        staged = work / "staged.parquet"  # not part.parquet: no reader glob can mistake it for the partition
        seen = _write_scratch(scratch, records)
        con = duckdb.connect(
            # One thread, insertion order kept: the final copy streams the scratch file in fetch order.
            # No cache of the files read: each is read at most twice, and the cache would grow up to the
            # memory limit with the size of the scratch file.
            config={
                "memory_limit": "256MB",
                "threads": 1,
                "preserve_insertion_order": True,
                "enable_external_file_cache": False,
                "temp_directory": str(work / "spill"),
            }
        )
        try:
            con.execute("SET TimeZone = 'UTC'")
            dropped = _find_dropped(con, scratch, seen, work / "buckets", max(1, bucket_ids))
            params = [connection_id, window_start, window_end, extracted_at]
            _copy_kept(con, scratch, staged, seen, dropped, params)
        finally:
            con.close()
        rows = pq.ParquetFile(staged).metadata.num_rows
        size = staged.stat().st_size
        with open(staged, "rb") as fh:
            os.fsync(fh.fileno())
        # Atomic: a concurrent writer's file lands before or after this one, never in the middle.
        store.put_file(staged, key)
        return LandedPartition(path=store.url_for(key), rows=rows, duplicates_removed=seen - rows, bytes=size)


def read_partition(data_dir: str | Path, provider: str, stream: str, connection_id: str, day: date) -> pa.Table:
    """The landed rows of one partition (raises FileNotFoundError if it was never landed)."""
    return landing_store(data_dir).read_parquet(partition_key(provider, stream, connection_id, day))


def _write_scratch(scratch: Path, records: Iterable[tuple[str, Any]]) -> int:
    """Stream the records to `scratch` in batches, numbered in fetch order; returns how many there were."""
    seen = 0
    # Unique JSON documents: dictionary pages and min/max statistics would only cost time and footer size.
    with pq.ParquetWriter(scratch, _SCRATCH_SCHEMA, use_dictionary=False, write_statistics=False) as writer:
        ids: list[str] = []
        docs: list[str] = []
        chars = 0
        for record_id, record in records:
            ids.append(str(record_id))
            docs.append(record_json(record))
            chars += len(docs[-1])
            if len(ids) >= BATCH_ROWS or chars >= BATCH_CHARS:
                _flush(writer, seen, ids, docs)
                seen += len(ids)
                ids.clear()
                docs.clear()
                chars = 0
        if ids or seen == 0:
            _flush(writer, seen, ids, docs)
            seen += len(ids)
    return seen


def _flush(writer: pq.ParquetWriter, first_seq: int, ids: list[str], docs: list[str]) -> None:
    seqs = pa.array(range(first_seq, first_seq + len(ids)), pa.int64())
    columns = [seqs, pa.array(ids, pa.string()), pa.array(docs, pa.string())]
    writer.write_table(pa.table(columns, schema=_SCRATCH_SCHEMA))


def _find_dropped(con: duckdb.DuckDBPyConnection, scratch: Path, seen: int, folder: Path, bucket_ids: int) -> int:
    """Fill the table `dropped` with the `_seq` of every record that a later one with the same id replaces."""
    con.execute("CREATE TEMP TABLE dropped (_seq BIGINT)")
    if seen < 2:
        return 0
    folder.mkdir()
    for path in _route_ids(con, scratch, folder, min(-(-seen // bucket_ids), MAX_BUCKETS)):
        with pa.ipc.open_stream(path) as reader:
            bucket = reader.read_all()
        path.unlink()
        con.register("bucket_rows", bucket)
        try:
            con.execute(
                """
                INSERT INTO dropped
                SELECT b._seq
                FROM bucket_rows AS b
                JOIN (
                    SELECT _record_id, max(_seq) AS last_seq FROM bucket_rows GROUP BY _record_id HAVING count(*) > 1
                ) AS repeated USING (_record_id)
                WHERE b._seq < repeated.last_seq
                """
            )
        finally:
            con.unregister("bucket_rows")
    return con.execute("SELECT count(*) FROM dropped").fetchone()[0]


def _route_ids(con: duckdb.DuckDBPyConnection, scratch: Path, folder: Path, buckets: int) -> list[Path]:
    """One pass over the scratch file's ids, appending each (`_record_id`, `_seq`) to its hash bucket's file.

    DuckDB's `hash` only decides which ids are grouped together, never which record is kept, so the
    landed file does not depend on it.
    """
    paths = [folder / f"{bucket}.arrows" for bucket in range(buckets)]
    relation = con.sql(
        f"SELECT hash(_record_id) % {buckets} AS bucket, _record_id, _seq FROM read_parquet('{_sql_path(scratch)}')"
    )
    with ExitStack() as stack:
        writers = [stack.enter_context(pa.ipc.new_stream(str(path), _IDS_SCHEMA)) for path in paths]
        for batch in relation.to_arrow_reader(ROUTE_ROWS):
            routed = batch.take(pc.sort_indices(batch.column("bucket")))
            counts = pc.value_counts(routed.column("bucket"))
            start = 0
            for bucket, rows in zip(
                counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True
            ):
                part = routed.slice(start, rows)
                writers[bucket].write_batch(
                    pa.record_batch([part.column("_record_id"), part.column("_seq")], schema=_IDS_SCHEMA)
                )
                start += rows
    return paths


def _copy_kept(
    con: duckdb.DuckDBPyConnection, scratch: Path, staged: Path, seen: int, dropped: int, params: list[Any]
) -> None:
    """Write the final file: the `seen` scratch rows minus the `dropped` ones, in fetch order, as the contract says."""
    keep = ""
    if dropped:
        # One bit per record (`_seq` is the row's position): memory does not depend on how many records are
        # dropped, and unlike a join the filter cannot reorder rows.
        keep = f"""
            CROSS JOIN (SELECT bitstring_agg(_seq, 0, {seen - 1}) AS bits FROM dropped) AS d
            WHERE get_bit(d.bits, s._seq::INTEGER) = 0
        """
    con.execute(
        f"""
        COPY (
            SELECT ?::VARCHAR AS _connection_id,
                   ?::TIMESTAMPTZ AS _window_start,
                   ?::TIMESTAMPTZ AS _window_end,
                   ?::TIMESTAMPTZ AS _extracted_at,
                   s._record_id,
                   s._record::JSON AS _record
            FROM read_parquet('{_sql_path(scratch)}') AS s
            {keep}
        ) TO '{_sql_path(staged)}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)
        """,
        params,
    )


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
