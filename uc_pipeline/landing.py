"""The landing zone: one Parquet file per (provider, stream, connection, day), written atomically.

Layout and columns are the contract in ARCHITECTURE.md:
`<data_dir>/landing/<provider>/<stream>/connection=<id>/date=<YYYY-MM-DD>/part.parquet` with
`_connection_id, _window_start, _window_end, _extracted_at, _record_id, _record`.

Records stream to a scratch file in batches, so memory does not grow with the size of a day;
DuckDB then removes duplicate ids (the last one seen wins), keeping the order in which records
were fetched (so re-running a partition over the same pages gives the same file), and writes the
final file next to the old one before a rename replaces it. A process killed at any point
leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

BATCH_ROWS = 1_000
PART_FILE = "part.parquet"

_SCRATCH_SCHEMA = pa.schema([("_seq", pa.int64()), ("_record_id", pa.string()), ("_record", pa.string())])


@dataclass(frozen=True)
class LandedPartition:
    path: Path
    rows: int
    duplicates_removed: int
    bytes: int


def partition_dir(data_dir: str | Path, provider: str, stream: str, connection_id: str, day: date) -> Path:
    return Path(data_dir) / "landing" / provider / stream / f"connection={connection_id}" / f"date={day.isoformat()}"


def partition_path(data_dir: str | Path, provider: str, stream: str, connection_id: str, day: date) -> Path:
    return partition_dir(data_dir, provider, stream, connection_id, day) / PART_FILE


def record_json(record: Any) -> str:
    """The verbatim JSON text stored in `_record` (UTF-8, no ASCII escaping, stable separators)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def _flush(writer: pq.ParquetWriter, seqs: list[int], ids: list[str], docs: list[str]) -> None:
    writer.write_table(
        pa.table(
            [pa.array(seqs, pa.int64()), pa.array(ids, pa.string()), pa.array(docs, pa.string())],
            schema=_SCRATCH_SCHEMA,
        )
    )
    seqs.clear()
    ids.clear()
    docs.clear()


def write_partition(
    data_dir: str | Path,
    provider: str,
    stream: str,
    connection_id: str,
    day: date,
    records: Iterable[tuple[str, Any]],
    *,
    window_start: datetime,
    window_end: datetime,
    extracted_at: datetime,
) -> LandedPartition:
    """Land `(record_id, record)` pairs as one partition, replacing any previous version atomically.

    If `records` raises, nothing is replaced and the scratch files are removed.
    """
    final = partition_path(data_dir, provider, stream, connection_id, day)
    final.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(final.parent)
    token = uuid.uuid4().hex
    scratch = final.parent / f".scratch-{token}.parquet"
    staged = final.parent / f".staged-{token}.parquet"
    try:
        seen = 0
        with pq.ParquetWriter(scratch, _SCRATCH_SCHEMA) as writer:
            seqs: list[int] = []
            ids: list[str] = []
            docs: list[str] = []
            for record_id, record in records:
                seqs.append(seen)
                ids.append(str(record_id))
                docs.append(record_json(record))
                seen += 1
                if len(ids) >= BATCH_ROWS:
                    _flush(writer, seqs, ids, docs)
            if ids or seen == 0:
                _flush(writer, seqs, ids, docs)
        con = duckdb.connect(
            # One thread, insertion order kept: rows come out in the order they were fetched, with no
            # sort of the payloads, so memory stays flat and a re-run of the same pages gives the same file.
            config={
                "memory_limit": "256MB",
                "threads": 1,
                "preserve_insertion_order": True,
                "temp_directory": str(final.parent / f".tmp-{token}"),
            }
        )
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute(
                f"""
                COPY (
                    SELECT ?::VARCHAR AS _connection_id,
                           ?::TIMESTAMPTZ AS _window_start,
                           ?::TIMESTAMPTZ AS _window_end,
                           ?::TIMESTAMPTZ AS _extracted_at,
                           _record_id,
                           _record::JSON AS _record
                    FROM read_parquet('{_sql_path(scratch)}')
                    -- the last version of each id; only ids and sequence numbers are grouped, so
                    -- memory stays bounded whatever the size of the records
                    SEMI JOIN (
                        SELECT max(_seq) AS _seq FROM read_parquet('{_sql_path(scratch)}') GROUP BY _record_id
                    ) AS latest USING (_seq)
                ) TO '{_sql_path(staged)}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)
                """,
                [connection_id, window_start, window_end, extracted_at],
            )
            rows = con.execute(f"SELECT count(*) FROM read_parquet('{_sql_path(staged)}')").fetchone()[0]
        finally:
            con.close()
        with open(staged, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(staged, final)
        _fsync_dir(final.parent)
        return LandedPartition(path=final, rows=rows, duplicates_removed=seen - rows, bytes=final.stat().st_size)
    finally:
        for leftover in (scratch, staged):
            leftover.unlink(missing_ok=True)
        _rmtree_quiet(final.parent / f".tmp-{token}")


def read_partition(data_dir: str | Path, provider: str, stream: str, connection_id: str, day: date) -> pa.Table:
    """The landed rows of one partition (raises FileNotFoundError if it was never landed)."""
    return pq.read_table(partition_path(data_dir, provider, stream, connection_id, day))


def _remove_leftovers(folder: Path) -> None:
    """Scratch files of a run that was killed; one writer per partition at a time, so none is live."""
    for pattern in (".scratch-*", ".staged-*"):
        for leftover in folder.glob(pattern):
            leftover.unlink(missing_ok=True)
    for tmp in folder.glob(".tmp-*"):
        _rmtree_quiet(tmp)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _rmtree_quiet(path: Path) -> None:
    if path.is_dir():
        for child in path.iterdir():
            child.unlink(missing_ok=True)
        path.rmdir()
