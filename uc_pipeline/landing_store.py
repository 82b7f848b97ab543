"""Where landed files and the published serving snapshot are stored: a local folder or an object store.

Every reader and writer of the landing zone goes through `ObjectStore` (landing.py, the CLI, the
serving publisher), so a local folder and `s3://bucket/prefix` behave the same: an object is replaced
whole or not at all, and a reader sees one complete version or the other.

The filesystem layer is `pyarrow.fs` (already a dependency): its S3 client is the AWS C++ SDK, with
multipart uploads in parallel, the SDK's standard retries, and Parquet reads by byte range with no
copy through Python. `pyarrow.fs.copy_files` uploads a finished local file in one call: S3 makes the
object visible only when its single PUT or its multipart upload completes, so a writer killed while
uploading leaves the previous object as it was (an incomplete multipart upload is invisible; a bucket
lifecycle rule `AbortIncompleteMultipartUpload` reclaims its parts). `gs://` and `az://` URLs go
through pyarrow's own GCS and Azure filesystems, configured from their standard environment.

S3 is configured from the standard AWS variables only: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
`AWS_SESSION_TOKEN` (or any other source of the SDK's default chain: profile, instance role),
`AWS_REGION` / `AWS_DEFAULT_REGION` and `AWS_ENDPOINT_URL` (`AWS_ENDPOINT_URL_S3`) for S3-compatible
stores. A URL carrying credentials is refused, and the message shows it redacted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from uc_pipeline.settings import is_object_store

# Query parameters that would carry a credential (presigned URLs, SAS tokens, inline keys).
_SECRET_QUERY_KEYS = ("key", "secret", "token", "signature", "credential", "password", "sig", "sas")
# Bounds on one S3 request: a store that stops answering fails the partition instead of hanging it.
S3_CONNECT_TIMEOUT_S = 10.0
S3_REQUEST_TIMEOUT_S = 120.0
S3_MAX_ATTEMPTS = 5


class StoreConfigError(ValueError):
    """A landing or serving URL that cannot be used as given (the message says how to fix it)."""


def redact_url(url: str) -> str:
    """`url` without its user info and query string, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    shown = f"{parts.scheme}://{'***@' if parts.username or parts.password else ''}{host}{parts.path}"
    return shown + ("?***" if parts.query else "")


def check_store_url(url: str) -> None:
    """Refuse an object-store URL that carries credentials: they belong in the environment."""
    parts = urlsplit(url)
    query = parts.query.lower()
    if parts.username or parts.password or any(k in query for k in _SECRET_QUERY_KEYS):
        raise StoreConfigError(
            f"{redact_url(url)}: credentials in an object-store URL are refused (they would end up in logs "
            "and run metadata). Give the URL as s3://bucket/prefix and the credentials as AWS_ACCESS_KEY_ID / "
            "AWS_SECRET_ACCESS_KEY (or an instance role); AWS_ENDPOINT_URL names an S3-compatible store."
        )
    if not parts.netloc:
        raise StoreConfigError(f"{redact_url(url)}: no bucket in the URL; write it as {parts.scheme}://bucket/prefix")


def s3_endpoint() -> str | None:
    """The S3-compatible endpoint URL from the environment (None: AWS itself)."""
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


def s3_region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None


@lru_cache(maxsize=8)
def _s3(endpoint: str | None, region: str | None, key_id: str | None) -> pafs.S3FileSystem:
    # Cached per configuration (the key id only tells configurations apart; the SDK reads the secret itself).
    kwargs: dict[str, object] = {
        "connect_timeout": S3_CONNECT_TIMEOUT_S,
        "request_timeout": S3_REQUEST_TIMEOUT_S,
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=S3_MAX_ATTEMPTS),
        # Never create or check buckets as a side effect: a missing bucket is a configuration error.
        "allow_bucket_creation": False,
        "allow_bucket_deletion": False,
        "check_directory_existence_before_creation": False,
        # A file smaller than one part then goes as a single PUT (one request instead of three).
        "allow_delayed_open": True,
    }
    if region:
        kwargs["region"] = region
    if endpoint:
        parts = urlsplit(endpoint)
        if not parts.netloc:
            raise StoreConfigError(f"AWS_ENDPOINT_URL={redact_url(endpoint)}: give it as http(s)://host:port")
        kwargs["endpoint_override"] = parts.netloc
        kwargs["scheme"] = parts.scheme or "https"
    return pafs.S3FileSystem(**kwargs)


@dataclass(frozen=True)
class ObjectStore:
    """A root location (`url`) and the filesystem that reaches it; paths below it are relative, `/`-separated."""

    url: str
    fs: pafs.FileSystem
    root: str  # the root as the filesystem names it (`bucket/prefix` or an absolute local path)
    remote: bool

    def full(self, rel: str) -> str:
        return f"{self.root}/{rel}" if rel else self.root

    def url_for(self, rel: str) -> str:
        """The URL (or local path) of `rel`, as DuckDB and the logs name it."""
        return f"{self.url}/{rel}" if rel else self.url

    def local_path(self, rel: str) -> Path:
        if self.remote:
            raise StoreConfigError(f"{self.url_for(rel)} is in an object store, not a local folder")
        return Path(self.full(rel))

    def put_file(self, local: Path, rel: str) -> None:
        """Replace the object `rel` with the finished file `local`, whole: readers see the old or the new one.

        A local store renames (`local` must be on the same filesystem); an object store uploads in one
        call, which the store commits only once every byte has arrived. The upload runs in pyarrow's C++
        from a finished file: no Python exception (a SIGTERM's) can stop it half-way and close the stream.
        """
        if not self.remote:
            target = self.local_path(rel)
            os.replace(local, target)
            _fsync_dir(target.parent)
            return
        pafs.copy_files(str(local), self.full(rel), destination_filesystem=self.fs)

    def exists(self, rel: str) -> bool:
        return self.fs.get_file_info(self.full(rel)).type == pafs.FileType.File

    def size(self, rel: str) -> int | None:
        info = self.fs.get_file_info(self.full(rel))
        return info.size if info.type == pafs.FileType.File else None

    def read_bytes(self, rel: str) -> bytes:
        with self.fs.open_input_stream(self.full(rel)) as stream:
            return stream.read()

    def read_parquet(self, rel: str) -> pa.Table:
        """The Parquet file `rel` (FileNotFoundError when there is none)."""
        if not self.exists(rel):
            raise FileNotFoundError(f"{self.url_for(rel)}: not landed")
        return pq.read_table(self.full(rel), filesystem=self.fs)

    def list_files(self, rel: str = "") -> list[str]:
        """Every file below `rel`, relative to the root, sorted (none when `rel` does not exist)."""
        selector = pafs.FileSelector(self.full(rel), recursive=True, allow_not_found=True)
        prefix = self.root + "/"
        return sorted(
            info.path[len(prefix):] for info in self.fs.get_file_info(selector) if info.type == pafs.FileType.File
        )


def open_store(url: str) -> ObjectStore:
    """The store at `url`: a local folder or `s3://`, `gs://`, `az://` bucket and prefix."""
    if not is_object_store(url):
        root = Path(url).resolve()
        return ObjectStore(url=str(root), fs=pafs.LocalFileSystem(), root=str(root), remote=False)
    check_store_url(url)
    url = url.rstrip("/")
    scheme, _, path = url.partition("://")
    if scheme.lower() == "s3":
        fs: pafs.FileSystem = _s3(s3_endpoint(), s3_region(), os.environ.get("AWS_ACCESS_KEY_ID"))
        return ObjectStore(url=url, fs=fs, root=path, remote=True)
    fs, root = pafs.FileSystem.from_uri(url)
    return ObjectStore(url=url, fs=fs, root=root.rstrip("/"), remote=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
