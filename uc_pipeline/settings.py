"""Where things are: the data directory, the connections file, the landing zone and the dbt project,
from the environment.

One place reads `UC_DATA_DIR`, `UC_CONNECTIONS_FILE`, `UC_LANDING_URL` and `UC_SERVING_URL`, so the CLI,
the Dagster definitions and the tests agree on the layout of ARCHITECTURE.md (`<data_dir>/landing`,
`warehouse.duckdb`, `serving.duckdb`, `state/`). The landing zone and a published copy of the serving
snapshot may live in an object store instead (README, "Beyond one machine").
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
DBT_PROJECT_DIR = REPO_DIR / "dbt_project"

DATA_DIR_ENV = "UC_DATA_DIR"
CONNECTIONS_FILE_ENV = "UC_CONNECTIONS_FILE"
LIMITER_URL_ENV = "UC_LIMITER_URL"
LANDING_URL_ENV = "UC_LANDING_URL"
SERVING_URL_ENV = "UC_SERVING_URL"
# The providers a deployment uses (comma-separated ids; unset = all): providers.enabled_provider_ids().
PROVIDERS_ENV = "UC_PROVIDERS"
# URL schemes of object stores (everything else is a local folder).
OBJECT_STORE_SCHEMES = ("s3", "gs", "gcs", "az", "abfs", "abfss")
# The partition window of a dbt run (first, last day): the defaults of the dbt vars
# uc_start_date/uc_end_date (dbt_project/dbt_project.yml).
WINDOW_ENV = ("UC_START_DATE", "UC_END_DATE")


def data_dir() -> Path:
    """The data directory (absolute): `UC_DATA_DIR`, default `./data`."""
    return Path(os.environ.get(DATA_DIR_ENV) or "data").resolve()


def connections_file() -> Path:
    """The connections YAML: `UC_CONNECTIONS_FILE`, default `<data_dir>/connections.yaml`."""
    explicit = os.environ.get(CONNECTIONS_FILE_ENV)
    return Path(explicit).resolve() if explicit else data_dir() / "connections.yaml"


def warehouse_path(base: Path | None = None) -> Path:
    return (base or data_dir()) / "warehouse.duckdb"


def serving_path(base: Path | None = None) -> Path:
    return (base or data_dir()) / "serving.duckdb"


def is_object_store(url: str) -> bool:
    """Whether `url` names an object store (`s3://bucket/prefix`, ...) rather than a local folder."""
    scheme, sep, _ = url.partition("://")
    return bool(sep) and scheme.lower() in OBJECT_STORE_SCHEMES


def landing_url(base: Path | None = None) -> str:
    """The landing zone: `UC_LANDING_URL` (a local folder or an object-store URL, no trailing slash),
    default `<data_dir>/landing`. A relative folder is made absolute."""
    explicit = (os.environ.get(LANDING_URL_ENV) or "").strip()
    if not explicit:
        return str((base or data_dir()) / "landing")
    if explicit.startswith("file://"):
        explicit = explicit[len("file://"):]
    if is_object_store(explicit):
        return explicit.rstrip("/")
    return str(Path(explicit).resolve())


def serving_url(base: Path | None = None) -> str | None:
    """Where the serving snapshot is also published for remote readers, or None (local file only).

    `UC_SERVING_URL` (the object's URL, e.g. `s3://bucket/uc/serving.duckdb`) if set; else, when the
    landing zone is an object store, `serving.duckdb` beside it, as locally: `s3://bucket/uc/landing`
    gives `s3://bucket/uc/serving.duckdb` (`s3://bucket` gives `s3://bucket/serving.duckdb`).
    """
    explicit = (os.environ.get(SERVING_URL_ENV) or "").strip()
    if explicit:
        if not is_object_store(explicit) or not explicit.endswith(".duckdb"):
            raise ValueError(
                f"{SERVING_URL_ENV} must name the snapshot's object in an object store, e.g. "
                "s3://bucket/uc/serving.duckdb (the local snapshot is always <data_dir>/serving.duckdb)"
            )
        return explicit
    landing = landing_url(base)
    if not is_object_store(landing):
        return None
    scheme, _, path = landing.partition("://")
    bucket, _, prefix = path.partition("/")
    parent = prefix.rpartition("/")[0] if prefix else ""
    return f"{scheme}://{bucket}/" + (f"{parent}/" if parent else "") + "serving.duckdb"


def state_dir(base: Path | None = None) -> Path:
    """Small shared state of the HTTP layer (rate-limiter database, token cache)."""
    return (base or data_dir()) / "state"


def default_limiter_url(base: Path | None = None) -> str:
    """`UC_LIMITER_URL` if set, else a SQLite limiter shared by the processes of this machine."""
    return os.environ.get(LIMITER_URL_ENV) or f"sqlite:///{state_dir(base) / 'ratelimit.sqlite'}"

# The demo's sandbox volume per connection and day; `uc-pipeline dev` serves the same again.
DEMO_CALLS_PER_DAY = 150
