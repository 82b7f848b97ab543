"""An S3-compatible server on a loopback port for the tests: moto's standalone server in its own process.

The pipeline's own clients (pyarrow's AWS SDK, DuckDB's httpfs) speak the S3 protocol to it over HTTP;
nothing in the client is mocked. Each test gets a bucket of its own (`S3Landing`), so tests sharing
the server cannot see each other's objects. Used by the `s3_landing` fixture (tests/conftest.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

START_BOUND_S = 60.0  # moto imports every AWS service it emulates: slow on a loaded 2-core machine
ACCESS_KEY_ID = "uc-test-key-id"
SECRET_ACCESS_KEY = "uc-test-secret-value-4f1c"  # a fake secret: tests look for it in what is written
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def moto_server() -> Iterator[str]:
    """Start `moto_server` on a free loopback port; yields its endpoint URL, stops it on exit."""
    port = free_port()
    exe = Path(sys.executable).parent / "moto_server"
    cmd = [str(exe), "-H", "127.0.0.1", "-p", str(port)] if exe.exists() else [
        sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_BOUND_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with {proc.returncode} before answering on {endpoint}")
            try:
                httpx.get(f"{endpoint}/moto-api/", timeout=2.0)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    message = f"moto_server did not answer on {endpoint} within {START_BOUND_S:.0f} s"
                    raise RuntimeError(message) from None
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@dataclass(frozen=True)
class S3Landing:
    """A fresh bucket on the loopback S3 server, and the environment that points the pipeline at it."""

    endpoint: str
    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        """The landing zone's URL (`UC_LANDING_URL`)."""
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def serving_url(self) -> str:
        """Where the serving snapshot is published by default for this landing URL."""
        return f"s3://{self.bucket}/serving.duckdb"

    @property
    def env(self) -> dict[str, str]:
        """Every variable the pipeline (and a worker process) needs to land there."""
        return {
            "UC_LANDING_URL": self.url,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_REGION": REGION,
            "AWS_ENDPOINT_URL": self.endpoint,
        }

    def client(self):  # noqa: ANN201 - a boto3 S3 client, for assertions only
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
        )

    def object_keys(self) -> list[str]:
        """Every object key in the bucket, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def get(self, key: str) -> bytes:
        return self.client().get_object(Bucket=self.bucket, Key=key)["Body"].read()


def new_landing(endpoint: str) -> S3Landing:
    """A new, empty bucket on the server at `endpoint`."""
    landing = S3Landing(endpoint=endpoint, bucket=f"uc-{uuid.uuid4().hex[:12]}", prefix="landing")
    landing.client().create_bucket(Bucket=landing.bucket)
    return landing


# Variables that would point the clients elsewhere (a developer's AWS profile or config file).
AWS_OVERRIDES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE",
                 "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION", "UC_SERVING_URL")


def isolated_env(landing: S3Landing) -> dict[str, str]:
    """`os.environ` with the landing's variables set and a developer's AWS configuration left out."""
    env = {k: v for k, v in os.environ.items() if k not in AWS_OVERRIDES}
    env.update(landing.env)
    # No real AWS configuration is read, and no instance-metadata lookup leaves the machine.
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return env
