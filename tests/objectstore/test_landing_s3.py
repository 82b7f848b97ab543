"""The landing zone in an S3 bucket (a real S3 server on loopback): the same contract as a local folder.

One object per partition at `<landing>/<provider>/<stream>/connection=<id>/date=<day>/part.parquet`,
replaced whole or not at all: a writer that fails or is killed before its upload completes leaves the
previous object byte-identical and no other object in the bucket.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.s3_server import SECRET_ACCESS_KEY, S3Landing
from uc_pipeline.landing import landed_days, read_partition, write_partition
from uc_pipeline.landing_store import StoreConfigError, open_store

DAY = date(2026, 11, 1)
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 2, tzinfo=UTC)
KEY = "landing/aircall/calls/connection=acme/date=2026-11-01/part.parquet"


def land(data_dir: Path, records: Iterable[tuple[str, object]], extracted_at: datetime = END) -> None:
    write_partition(data_dir, "aircall", "calls", "acme", DAY, records,
                    window_start=START, window_end=END, extracted_at=extracted_at)


def test_partition_lands_as_one_object_at_the_contract_key(s3_landing: S3Landing, tmp_path: Path) -> None:
    records = [("1", {"id": 1, "v": "a"}), ("2", {"id": 2}), ("1", {"id": 1, "v": "b"})]
    land(tmp_path, records)
    assert s3_landing.object_keys() == [KEY]
    rows = read_partition(tmp_path, "aircall", "calls", "acme", DAY).to_pylist()
    # the last version of id 1 is kept, where it was fetched
    assert [(r["_record_id"], json.loads(r["_record"])) for r in rows] == [("2", {"id": 2}), ("1", {"id": 1, "v": "b"})]
    assert {r["_connection_id"] for r in rows} == {"acme"}
    assert landed_days(tmp_path) == [DAY]
    # nothing of the landing zone stays on the local disk but the (empty) scratch folder
    assert not list((tmp_path / "scratch").rglob("*.parquet"))
    assert SECRET_ACCESS_KEY.encode() not in s3_landing.get(KEY)


def test_rerun_over_the_same_records_uploads_the_same_bytes(s3_landing: S3Landing, tmp_path: Path) -> None:
    records = [(str(i), {"id": i, "pad": "x" * 50}) for i in range(3000)]
    land(tmp_path, records)
    first = s3_landing.get(KEY)
    land(tmp_path, records)
    assert s3_landing.get(KEY) == first
    assert s3_landing.object_keys() == [KEY]


def test_failing_records_leave_the_previous_object_byte_identical(s3_landing: S3Landing, tmp_path: Path) -> None:
    land(tmp_path, [("a", {"id": "a"}), ("b", {"id": "b"})])
    before = hashlib.sha256(s3_landing.get(KEY)).hexdigest()

    def failing():
        yield "c", {"id": "c"}
        raise RuntimeError("provider answered garbage")

    with pytest.raises(RuntimeError, match="garbage"):
        land(tmp_path, failing())
    assert hashlib.sha256(s3_landing.get(KEY)).hexdigest() == before
    assert s3_landing.object_keys() == [KEY]


# A writer that stops right before its upload (scratch and staged files complete) until it is killed.
KILLED_BEFORE_UPLOAD = """
import sys, time
from datetime import UTC, date, datetime
from uc_pipeline import landing_store
from uc_pipeline.landing import write_partition

def stop_before_upload(self, local, rel):
    print("staged", flush=True)
    time.sleep(600)

landing_store.ObjectStore.put_file = stop_before_upload
write_partition(sys.argv[1], "aircall", "calls", "acme", date(2026, 11, 1),
                ((str(i), {"id": i}) for i in range(5000)),
                window_start=datetime(2026, 11, 1, tzinfo=UTC), window_end=datetime(2026, 11, 2, tzinfo=UTC),
                extracted_at=datetime.now(UTC))
"""

# A writer killed mid-partition, while records still stream to its scratch file.
KILLED_MID_PARTITION = """
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


@pytest.mark.parametrize(("script", "signal_line"), [(KILLED_BEFORE_UPLOAD, "staged"),
                                                     (KILLED_MID_PARTITION, "writing")])
def test_sigkill_leaves_previous_object_intact(
    s3_landing: S3Landing, tmp_path: Path, script: str, signal_line: str
) -> None:
    land(tmp_path, [("a", {"id": "a"}), ("b", {"id": "b"})])
    before = s3_landing.get(KEY)
    proc = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, **s3_landing.env})
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == signal_line
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert s3_landing.get(KEY) == before
    assert s3_landing.object_keys() == [KEY]
    # The next run removes the dead writer's scratch folder and replaces the object whole.
    land(tmp_path, [("c", {"id": "c"})])
    assert [r["_record_id"] for r in read_partition(tmp_path, "aircall", "calls", "acme", DAY).to_pylist()] == ["c"]
    leftovers = [p for p in (tmp_path / "scratch").rglob("*") if p.is_file()]
    assert leftovers == []


def test_an_upload_that_never_completes_is_invisible(s3_landing: S3Landing, tmp_path: Path) -> None:
    """What a writer killed during a multipart upload leaves: parts that no reader sees."""
    land(tmp_path, [("a", {"id": "a"})])
    before = s3_landing.get(KEY)
    client = s3_landing.client()
    upload = client.create_multipart_upload(Bucket=s3_landing.bucket, Key=KEY)
    client.upload_part(Bucket=s3_landing.bucket, Key=KEY, UploadId=upload["UploadId"], PartNumber=1,
                       Body=b"half a parquet file")
    assert s3_landing.get(KEY) == before
    assert [r["_record_id"] for r in read_partition(tmp_path, "aircall", "calls", "acme", DAY).to_pylist()] == ["a"]


@pytest.mark.parametrize("url", [
    "s3://AKIAEXAMPLE:wJalrXUtnFEMI@bucket/landing",
    "s3://bucket/landing?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=abcdef",
])
def test_credentials_in_the_url_are_refused_redacted(url: str) -> None:
    with pytest.raises(StoreConfigError) as raised:
        open_store(url)
    message = str(raised.value)
    assert "AWS_ACCESS_KEY_ID" in message
    for secret in ("AKIAEXAMPLE", "wJalrXUtnFEMI", "abcdef"):
        assert secret not in message
