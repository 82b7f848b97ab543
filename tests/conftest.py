"""Shared test setup: an isolated environment per session and the PostgreSQL availability rule.

Every session gets its own Dagster home and data directory (so dbt's target and logs, which follow the
data directory) in a fresh temporary folder, whatever the shell exported: a user's `DAGSTER_HOME`,
`UC_DATA_DIR` or connections file is never read or written by the tests.

`s3_landing` points the landing zone at a fresh bucket of an S3-compatible server (moto's standalone
server, tests/s3_server.py) on a loopback port, started once per session.

Tests of the Postgres-backed Dagster instance run against the server on 127.0.0.1:5432. Where no
server is reachable they are skipped with the reason; in CI (`UC_REQUIRE_POSTGRES=1`) they fail.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from tests.s3_server import S3Landing, isolated_env, moto_server, new_landing

_SESSION_DIR = tempfile.mkdtemp(prefix="uc-tests-")
os.environ["DO_NOT_TRACK"] = "1"
_INHERITED = ("UC_CONNECTIONS_FILE", "UC_LIMITER_URL", "DBT_TARGET_PATH", "DBT_LOG_PATH",
              "UC_AUTOMATION_DEFAULT_STATUS", "UC_CELERY_CONFIG", "UC_CELERY_BROKER", "UC_LANDING_URL",
              "UC_SERVING_URL", "UC_PROVIDERS")
for _name in _INHERITED:
    os.environ.pop(_name, None)
os.environ["UC_DATA_DIR"] = os.path.join(_SESSION_DIR, "data")
os.environ["DAGSTER_HOME"] = os.path.join(_SESSION_DIR, "dagster_home")
os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
with open(os.path.join(os.environ["DAGSTER_HOME"], "dagster.yaml"), "w", encoding="utf-8") as fh:
    fh.write("telemetry:\n  enabled: false\n")

POSTGRES_DSN = os.environ.get("UC_TEST_POSTGRES_DSN", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def _postgres_reachable() -> str | None:
    """None when the server answers, else why not."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(POSTGRES_DSN, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3})
        with engine.connect() as con:
            con.execute(sa.text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable" for the skip reason
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    problem = _postgres_reachable()
    if problem:
        message = f"PostgreSQL at {POSTGRES_DSN} is not reachable ({problem})"
        if os.environ.get("UC_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + "; UC_REQUIRE_POSTGRES=1 requires it (start it, see .ci/run)")
        pytest.skip(message + "; start PostgreSQL to run the Postgres-backed instance tests")
    yield POSTGRES_DSN


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The endpoint URL of an S3-compatible server on a loopback port, for the whole session."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_landing(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Landing]:
    """A fresh bucket, with this process's environment pointing the landing zone at it (restored after).

    `.env` holds the same variables for processes a test starts (workers, CLIs)."""
    landing = new_landing(s3_endpoint)
    env = isolated_env(landing)
    for name in set(os.environ) - set(env):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield landing
