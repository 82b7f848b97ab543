"""Running the production job `daily_refresh` of the code location, one partition at a time, against the
fixture server, and reading back what it landed and built."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import yaml

from uc_pipeline.assets.snapshots import SNAPSHOT_CHECK
from uc_pipeline.landing import partition_path, read_partition

from . import payloads
from .server import CREDENTIALS, FixtureServer

PROVIDERS = ("aircall", "ringcentral", "zendesk", "eightbyeight")
HISTORY_START = date(2007, 12, 1)  # the oldest sample day is 2007-12-20 (8x8)
# The fixture server is no real account: a generous quota so that the shared limiter never waits.
QUOTAS = {"aircall": {"default"}, "ringcentral": {"default", "auth"}, "zendesk": {"default"},
          "eightbyeight": {"default", "storage", "storage_auth"}}


def connection_id(provider: str) -> str:
    return f"samples-{provider}"


def uid(provider: str, source_id: object) -> str:
    """A unified id: `<provider>:<connection_id>:<source_id>` (ARCHITECTURE, unified model)."""
    return f"{provider}:{connection_id(provider)}:{source_id}"


@dataclass
class Pipeline:
    server: FixtureServer
    defs: dg.Definitions
    instance: dg.DagsterInstance
    data_dir: Path

    def run_day(self, day: date, served: dict[payloads.Stream, list[Any]]) -> dg.ExecuteInProcessResult:
        """Serve `served` (a stream left out is empty) and run `daily_refresh` for the day's partition."""
        self.server.load(served)
        return self.defs.resolve_job_def("daily_refresh").execute_in_process(
            partition_key=day.isoformat(), instance=self.instance, raise_on_error=False)

    def landed(self, provider: str, stream: str, day: date) -> dict[str, str]:
        """`_record_id` -> `_record` (JSON text) of one landed partition."""
        path = partition_path(self.data_dir, provider, stream, connection_id(provider), day)
        if not path.exists():
            return {}
        table = read_partition(self.data_dir, provider, stream, connection_id(provider), day).to_pylist()
        return {row["_record_id"]: row["_record"] for row in table}

    def query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        con = duckdb.connect(str(self.data_dir / "warehouse.duckdb"), read_only=True)
        try:
            cur = con.execute(sql, params or [])
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            con.close()

    def row(self, table: str, id_: str) -> dict[str, Any]:
        rows = self.query(f"select * from uc.{table} where id = ?", [id_])
        assert len(rows) == 1, f"uc.{table} holds {len(rows)} rows with id {id_!r}, expected exactly one"
        return rows[0]


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def digits(text: str | None) -> str | None:
    return None if text is None else "".join(ch for ch in text if ch.isdigit())


def assert_fields(row: dict[str, Any], expected: dict[str, Any], what: str) -> None:
    actual = {k: row[k] for k in expected}
    assert actual == expected, what


def failures(result: dg.ExecuteInProcessResult) -> str:
    """What failed in a run: step failures and failed asset checks, for the assertion message."""
    lines = [f"step failure: {e.event_specific_data.error.message.strip()[:2000]}"
             for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    # The vendors published no directory payloads, so the sample server lists no directory: its snapshot
    # checks fail by construction and say nothing of the sample days.
    lines += [f"failed check: {c.asset_key.to_user_string()} {c.check_name} ({c.severity.value})"
              for c in result.get_asset_check_evaluations() if not c.passed and c.check_name != SNAPSHOT_CHECK]
    return "\n".join(lines)


def connections_yaml(base_url: str) -> tuple[str, dict[str, str]]:
    entries, env = [], {}
    for provider in PROVIDERS:
        creds = {}
        for field, value in CREDENTIALS[provider].items():
            var = f"UC_SAMPLES_{provider.upper()}_{field.upper()}"
            creds[field], env[var] = var, value
        entries.append({
            "provider": provider, "connection_id": connection_id(provider), "base_url": f"{base_url}/{provider}",
            "credentials": creds, "history_start": HISTORY_START.isoformat(),
            "quota": {group: {"requests": 1000, "per_seconds": 1} for group in sorted(QUOTAS[provider])},
        })
        if provider == "eightbyeight":
            # 8x8's Cloud Storage Service is on its own host (api.8x8.com), not the VCC's: the server's root.
            entries[-1]["options"] = {"storage_base_url": base_url}
    return yaml.safe_dump({"connections": entries}, sort_keys=False), env


@contextmanager
def pipeline(tmp: Path) -> Iterator[Pipeline]:
    """The code location built for a connections file that points every provider at the fixture server;
    the environment is restored after."""
    server = FixtureServer(payloads.ringcentral_token_response(), payloads.eightbyeight_token_response())
    saved = dict(os.environ)
    with server.serve() as base:
        text, env = connections_yaml(base)
        (tmp / "connections.yaml").write_text(text, encoding="utf-8")
        os.environ.update(env)
        os.environ.update({"UC_DATA_DIR": str(tmp / "data"), "UC_CONNECTIONS_FILE": str(tmp / "connections.yaml")})
        try:
            from uc_pipeline.definitions import build_definitions

            yield Pipeline(server, build_definitions(), dg.DagsterInstance.ephemeral(), tmp / "data")
        finally:
            os.environ.clear()
            os.environ.update(saved)


def as_json(text: str) -> Any:
    return json.loads(text)
