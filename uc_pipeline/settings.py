"""Where things are: the data directory, the connections file and the dbt project, from the environment.

One place reads `UC_DATA_DIR` and `UC_CONNECTIONS_FILE`, so the CLI, the Dagster definitions and the
tests agree on the layout of ARCHITECTURE.md (`<data_dir>/landing`, `warehouse.duckdb`,
`serving.duckdb`, `state/`).
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


def state_dir(base: Path | None = None) -> Path:
    """Small shared state of the HTTP layer (rate-limiter database, token cache)."""
    return (base or data_dir()) / "state"


def default_limiter_url(base: Path | None = None) -> str:
    """`UC_LIMITER_URL` if set, else a SQLite limiter shared by the processes of this machine."""
    return os.environ.get(LIMITER_URL_ENV) or f"sqlite:///{state_dir(base) / 'ratelimit.sqlite'}"

# The demo's sandbox volume per connection and day; `uc-pipeline dev` serves the same again.
DEMO_CALLS_PER_DAY = 150
