"""Test support: a sandbox on a loopback port with a pipeline connections file pointing at it."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from uc_pipeline.assets.partitions import daily_partitions
from uc_pipeline.assets.resources import PipelineResource
from uc_pipeline.assets.schedules import range_tags
from uc_pipeline.sandbox import Sandbox, SandboxConnection

YESTERDAY = datetime.now(UTC).date() - timedelta(days=1)
PARTITIONS = daily_partitions(date(2026, 1, 1))


@dataclass
class Env:
    sandbox: Sandbox
    data_dir: Path
    connections_file: Path

    def resource(self, **overrides: object) -> PipelineResource:
        return PipelineResource(data_dir=str(self.data_dir), connections_file=str(self.connections_file), **overrides)


@contextmanager
def sandbox_env(tmp: Path, connections: Iterable[SandboxConnection]) -> Iterator[Env]:
    """Serve `connections` and write a connections file for them; restores the environment after."""
    sandbox = Sandbox(list(connections), profile="fast")
    saved = dict(os.environ)
    with sandbox.serve(port=0) as base:
        yaml_text, env = sandbox.connections_yaml(base)
        path = tmp / "connections.yaml"
        path.write_text(yaml_text, encoding="utf-8")
        os.environ.update(env)
        try:
            yield Env(sandbox=sandbox, data_dir=tmp / "data", connections_file=path)
        finally:
            os.environ.clear()
            os.environ.update(saved)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
    return start, start + timedelta(days=1)


def materialize_days(
    assets: list[dg.AssetsDefinition], env: Env, first: date, last: date, **resource_overrides: object
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        assets,
        resources={"uc": env.resource(**resource_overrides)},
        instance=dg.DagsterInstance.ephemeral(),
        tags=range_tags(first, last),
        raise_on_error=False,
    )


def failed_error_checks(result: dg.ExecuteInProcessResult) -> list[tuple[str, str]]:
    """(asset, check) of each error-level asset check that failed in `result`. A warn-level check may fail
    on one sandbox day (a column no call of that day filled, no answered call on a day this small)."""
    return [(c.asset_key.to_user_string(), c.check_name) for c in result.get_asset_check_evaluations()
            if not c.passed and c.severity == dg.AssetCheckSeverity.ERROR]


def run_job(defs: dg.Definitions, job: str, tags: dict[str, str]) -> dg.ExecuteInProcessResult:
    """Run `job` of `defs` in process on an ephemeral instance; fails with the steps' errors unless it succeeds."""
    result = defs.resolve_job_def(job).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), tags=tags, raise_on_error=False
    )
    failures = [e.event_specific_data.error.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert result.success, "\n".join(failures)
    return result
