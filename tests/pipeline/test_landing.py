"""The landing zone: contract columns, dedupe in hash buckets, idempotent rewrites, and atomicity under SIGKILL."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from uc_pipeline import landing, landing_writers
from uc_pipeline.landing import BUCKET_IDS, LandedPartition, partition_path, read_partition, write_partition

DAY = date(2026, 11, 1)
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 2, tzinfo=UTC)


def land(
    data_dir: Path, records: list[tuple[str, object]], extracted_at: datetime = END, bucket_ids: int = BUCKET_IDS
) -> LandedPartition:
    return write_partition(
        data_dir,
        "aircall",
        "calls",
        "acme",
        DAY,
        records,
        window_start=START,
        window_end=END,
        extracted_at=extracted_at,
        bucket_ids=bucket_ids,
    )


def last_versions_in_fetch_order(records: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """What the partition must hold: the last version of each id, where that version was fetched."""
    last = {record_id: position for position, (record_id, _) in enumerate(records)}
    return [(rid, record) for position, (rid, record) in enumerate(records) if last[rid] == position]


def landed(data_dir: Path) -> list[tuple[str, object]]:
    rows = read_partition(data_dir, "aircall", "calls", "acme", DAY).to_pylist()
    return [(row["_record_id"], json.loads(row["_record"])) for row in rows]


def partition_files(data_dir: Path) -> list[str]:
    return sorted(os.listdir(partition_path(data_dir, "aircall", "calls", "acme", DAY).parent))


def file_digest(data_dir: Path) -> str:
    return hashlib.sha256(partition_path(data_dir, "aircall", "calls", "acme", DAY).read_bytes()).hexdigest()


def stream_with_duplicates(count: int, seed: int) -> list[tuple[str, object]]:
    """`count` records of which ~1 in 5 repeats an id, some right after the first, some far apart."""
    rng = random.Random(seed)
    records: list[tuple[str, object]] = []
    fresh = 0
    for position in range(count):
        if fresh and rng.random() < 0.2:
            rid = str(rng.randrange(fresh)) if rng.random() < 0.5 else str(max(0, fresh - 1 - rng.randrange(3)))
        else:
            rid = str(fresh)
            fresh += 1
        records.append((rid, {"id": rid, "version": position}))
    return records


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


@pytest.fixture
def routed_buckets(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many hash buckets each write routed its ids to."""
    routed: list[int] = []
    route = landing._route_ids

    def counting_route(con, scratch, folder, buckets):  # type: ignore[no-untyped-def]
        routed.append(buckets)
        return route(con, scratch, folder, buckets)

    monkeypatch.setattr(landing, "_route_ids", counting_route)
    return routed


@pytest.mark.parametrize("bucket_ids", [7, 64, BUCKET_IDS])
def test_last_version_wins_in_fetch_order_whatever_the_bucket_size(
    tmp_path: Path, bucket_ids: int, routed_buckets: list[int]
) -> None:
    records = stream_with_duplicates(600, seed=bucket_ids)
    expected = last_versions_in_fetch_order(records)
    result = land(tmp_path, records, bucket_ids=bucket_ids)
    assert routed_buckets == [-(-600 // bucket_ids)]
    assert landed(tmp_path) == expected
    assert (result.rows, result.duplicates_removed) == (len(expected), 600 - len(expected))
    assert 100 < result.duplicates_removed < 200
    assert result.bytes == partition_path(tmp_path, "aircall", "calls", "acme", DAY).stat().st_size
    assert partition_files(tmp_path) == ["part.parquet"]


def test_bucket_count_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, routed_buckets: list[int]) -> None:
    monkeypatch.setattr(landing, "MAX_BUCKETS", 3)
    records = stream_with_duplicates(300, seed=3)
    land(tmp_path, records, bucket_ids=1)
    assert routed_buckets == [3]
    assert landed(tmp_path) == last_versions_in_fetch_order(records)


def test_same_pages_give_the_same_file_whatever_the_bucket_size(tmp_path: Path) -> None:
    records = stream_with_duplicates(2_500, seed=11)
    land(tmp_path, records)
    first = file_digest(tmp_path)
    land(tmp_path, records)
    assert file_digest(tmp_path) == first
    land(tmp_path, records, bucket_ids=100)
    assert file_digest(tmp_path) == first
    # A different fetch order is a different file (the order is kept, not normalised by id).
    land(tmp_path, list(reversed(records)), bucket_ids=100)
    assert file_digest(tmp_path) != first


def test_zero_records_land_an_empty_partition(tmp_path: Path) -> None:
    land(tmp_path, [("1", {"id": 1})])
    result = land(tmp_path, [])
    assert (result.rows, result.duplicates_removed) == (0, 0)
    table = read_partition(tmp_path, "aircall", "calls", "acme", DAY)
    assert table.num_rows == 0
    assert table.column_names == [
        "_connection_id",
        "_window_start",
        "_window_end",
        "_extracted_at",
        "_record_id",
        "_record",
    ]
    assert partition_files(tmp_path) == ["part.parquet"]


def test_single_record(tmp_path: Path) -> None:
    result = land(tmp_path, [("7", {"id": 7})], bucket_ids=1)
    assert (result.rows, result.duplicates_removed) == (1, 0)
    assert landed(tmp_path) == [("7", {"id": 7})]


def test_all_duplicates_partition(tmp_path: Path) -> None:
    one_id = [("x", {"v": v}) for v in range(500)]
    result = land(tmp_path, one_id, bucket_ids=50)
    assert (result.rows, result.duplicates_removed) == (1, 499)
    assert landed(tmp_path) == [("x", {"v": 499})]
    # A few ids, each seen many times, interleaved: each keeps its last version, where it was fetched.
    interleaved = [(str(v % 4), {"v": v}) for v in range(1000)] + [("1", {"v": "late"})]
    result = land(tmp_path, interleaved, bucket_ids=100)
    assert (result.rows, result.duplicates_removed) == (4, 997)
    assert landed(tmp_path) == [("0", {"v": 996}), ("2", {"v": 998}), ("3", {"v": 999}), ("1", {"v": "late"})]


PAUSED_WRITER = """
import sys, time
from datetime import UTC, date, datetime
from pathlib import Path
from uc_pipeline.landing import write_partition
data_dir, tag, release, count = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
def records():
    for i in range(count):
        yield str(i), {"id": i, "writer": tag}
        if i == 0:
            print("writing", flush=True)
            deadline = time.monotonic() + 120
            while not release.exists():
                if time.monotonic() > deadline:
                    raise SystemExit("never released")
                time.sleep(0.02)
result = write_partition(data_dir, "aircall", "calls", "acme", date(2026, 11, 1), records(),
                         window_start=datetime(2026, 11, 1, tzinfo=UTC), window_end=datetime(2026, 11, 2, tzinfo=UTC),
                         extracted_at=datetime.now(UTC), bucket_ids=500)
print("landed", result.rows, flush=True)
"""


def start_paused_writer(data_dir: Path, tag: str, release: Path, count: int) -> subprocess.Popen[str]:
    """A writer that has its writer folder and scratch file, holding until `release` exists."""
    proc = subprocess.Popen(
        [sys.executable, "-c", PAUSED_WRITER, str(data_dir), tag, str(release), str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "writing", proc.stderr.read() if proc.stderr else line
    return proc


def test_three_concurrent_writers_all_succeed_and_one_complete_version_wins(tmp_path: Path) -> None:
    land(tmp_path, [("old", {"id": "old"})])
    release = tmp_path / "release"
    counts = {"w1": 3001, "w2": 3002, "w3": 3003}
    # Each writer starts (and cleans the folder) while the others already have scratch files.
    procs = {tag: start_paused_writer(tmp_path, tag, release, count) for tag, count in counts.items()}
    assert len([n for n in partition_files(tmp_path) if n.startswith(".writer-") and n.endswith(".lock")]) == 3
    release.touch()
    for tag, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert out.split() == ["landed", str(counts[tag])]
    rows = read_partition(tmp_path, "aircall", "calls", "acme", DAY).to_pylist()
    writers = {json.loads(r["_record"])["writer"] for r in rows}
    assert len(writers) == 1, "the partition mixes the rows of several writers"
    (winner,) = writers
    assert sorted(int(r["_record_id"]) for r in rows) == list(range(counts[winner]))
    assert partition_files(tmp_path) == ["part.parquet"]


def test_leftovers_of_dead_writers_are_removed_and_a_live_writers_kept(tmp_path: Path) -> None:
    folder = partition_path(tmp_path, "aircall", "calls", "acme", DAY).parent
    # A writer killed mid-write leaves its locked folder behind; the kernel released its lock.
    dead = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert dead.stdout is not None and dead.stdout.readline().strip() == "writing"
    finally:
        dead.send_signal(signal.SIGKILL)
        dead.wait()
    dead_files = [n for n in partition_files(tmp_path) if n.startswith(".writer-")]
    assert len(dead_files) == 2 and any(n.startswith(f".writer-{dead.pid}-") for n in dead_files)
    # Earlier versions named scratch files without an owner: removed once old, kept while recent.
    old_scratch, recent_scratch = folder / ".scratch-old.parquet", folder / ".tmp-recent"
    old_scratch.write_bytes(b"x")
    os.utime(old_scratch, (time.time() - 2 * landing_writers.LEGACY_STALE_S,) * 2)
    recent_scratch.mkdir()
    release = tmp_path / "release"
    live = start_paused_writer(tmp_path, "live", release, 10)
    try:
        live_files = [n for n in partition_files(tmp_path) if n.startswith(f".writer-{live.pid}-")]
        assert len(live_files) == 2 and not any(n in live_files for n in dead_files)
        land(tmp_path, stream_with_duplicates(50, seed=5), bucket_ids=4)
        # The dead writer's folder and the old scratch file are gone; the live writer's files are intact.
        assert partition_files(tmp_path) == sorted([".tmp-recent", "part.parquet", *live_files])
    finally:
        release.touch()
        out, err = live.communicate(timeout=120)
    assert live.returncode == 0, err
    assert out.split() == ["landed", "10"]
    assert partition_files(tmp_path) == [".tmp-recent", "part.parquet"]


def test_failing_source_in_a_bucketed_partition_keeps_previous_file(tmp_path: Path) -> None:
    records = stream_with_duplicates(200, seed=2)
    land(tmp_path, records, bucket_ids=8)
    before = file_digest(tmp_path)

    def broken():
        yield from records[:150]
        raise RuntimeError("provider went away")

    with pytest.raises(RuntimeError):
        land(tmp_path, broken(), bucket_ids=8)  # type: ignore[arg-type]
    assert file_digest(tmp_path) == before
    assert partition_files(tmp_path) == ["part.parquet"]
