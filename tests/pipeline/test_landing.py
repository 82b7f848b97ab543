"""The landing zone: contract columns, dedupe, idempotent rewrites, and atomicity under SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from uc_pipeline.landing import partition_path, read_partition, write_partition

DAY = date(2026, 11, 1)
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 2, tzinfo=UTC)


def land(data_dir: Path, records: list[tuple[str, object]], extracted_at: datetime = END) -> None:
    write_partition(
        data_dir,
        "aircall",
        "calls",
        "acme",
        DAY,
        records,
        window_start=START,
        window_end=END,
        extracted_at=extracted_at,
    )


def test_contract_columns_and_last_duplicate_wins(tmp_path: Path) -> None:
    land(tmp_path, [("2", {"id": 2, "v": "old"}), ("1", {"id": 1, "name": "Zoë"}), ("2", {"id": 2, "v": "new"})])
    table = read_partition(tmp_path, "aircall", "calls", "acme", DAY)
    assert table.column_names == [
        "_connection_id",
        "_window_start",
        "_window_end",
        "_extracted_at",
        "_record_id",
        "_record",
    ]
    rows = sorted(table.to_pylist(), key=lambda r: r["_record_id"])
    assert [r["_record_id"] for r in rows] == ["1", "2"]
    assert json.loads(rows[1]["_record"]) == {"id": 2, "v": "new"}
    assert json.loads(rows[0]["_record"]) == {"id": 1, "name": "Zoë"}
    assert {r["_connection_id"] for r in rows} == {"acme"}
    assert rows[0]["_window_start"] == START and rows[0]["_window_end"] == END


def test_rewrite_is_idempotent(tmp_path: Path) -> None:
    records = [(str(i), {"id": i}) for i in range(1000, 0, -1)]
    land(tmp_path, records)
    first = read_partition(tmp_path, "aircall", "calls", "acme", DAY).drop(["_extracted_at"])
    land(tmp_path, records)
    assert first.equals(read_partition(tmp_path, "aircall", "calls", "acme", DAY).drop(["_extracted_at"]))
    # Records keep the order they were fetched in; the same pages in another order give the same rows.
    assert [r["_record_id"] for r in first.to_pylist()[:3]] == ["1000", "999", "998"]
    land(tmp_path, list(reversed(records)))
    again = read_partition(tmp_path, "aircall", "calls", "acme", DAY).drop(["_extracted_at"])
    assert first.sort_by("_record_id").equals(again.sort_by("_record_id"))
    assert sorted(os.listdir(partition_path(tmp_path, "aircall", "calls", "acme", DAY).parent)) == ["part.parquet"]


def test_failing_source_keeps_previous_file(tmp_path: Path) -> None:
    land(tmp_path, [("1", {"id": 1})])

    def broken():
        yield "2", {"id": 2}
        raise RuntimeError("provider went away")

    with pytest.raises(RuntimeError):
        land(tmp_path, broken())  # type: ignore[arg-type]
    rows = read_partition(tmp_path, "aircall", "calls", "acme", DAY).to_pylist()
    assert [r["_record_id"] for r in rows] == ["1"]
    assert sorted(os.listdir(partition_path(tmp_path, "aircall", "calls", "acme", DAY).parent)) == ["part.parquet"]


KILLED_WRITER = """
import sys, time
from datetime import UTC, date, datetime
from uc_pipeline.landing import write_partition
def slow():
    for i in range(10**9):
        yield str(i), {"id": i, "pad": "x" * 200}
        if i == 20000:
            print("writing", flush=True)
        if i > 20000:
            time.sleep(0.001)
write_partition(sys.argv[1], "aircall", "calls", "acme", date(2026, 11, 1), slow(),
                window_start=datetime(2026, 11, 1, tzinfo=UTC), window_end=datetime(2026, 11, 2, tzinfo=UTC),
                extracted_at=datetime.now(UTC))
"""


def test_sigkill_mid_partition_leaves_previous_version_intact(tmp_path: Path) -> None:
    land(tmp_path, [("a", {"id": "a"}), ("b", {"id": "b"})])
    before = read_partition(tmp_path, "aircall", "calls", "acme", DAY).to_pylist()
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "writing"
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    path = partition_path(tmp_path, "aircall", "calls", "acme", DAY)
    assert read_partition(tmp_path, "aircall", "calls", "acme", DAY).to_pylist() == before
    assert pq.ParquetFile(path).metadata.num_rows == 2
    # The next run cleans up after itself and replaces the partition whole.
    land(tmp_path, [("c", {"id": "c"})])
    assert [r["_record_id"] for r in read_partition(tmp_path, "aircall", "calls", "acme", DAY).to_pylist()] == ["c"]
