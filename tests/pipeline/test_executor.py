"""The code location's executor: a run of one step executes it in the run's own process (no second
load of the code location), a run of several steps one process per step, as Dagster's default does,
and `-c deploy/in_process.yaml` still runs everything in-process."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import yaml

from uc_pipeline.assets.one_step_executor import one_step_in_process_executor

REPO = Path(__file__).resolve().parents[2]


@dg.asset
def first() -> int:
    return os.getpid()


@dg.asset
def second(first: int) -> int:
    return os.getpid()


def both_job() -> dg.JobDefinition:
    defs = dg.Definitions(assets=[first, second], jobs=[dg.define_asset_job("both")],
                          executor=one_step_in_process_executor)
    return defs.resolve_job_def("both")


def step_pids(result: dg.ExecutionResult) -> set[int]:
    return {e.pid for e in result.all_events if e.event_type_value == "STEP_START"}


def run(instance: dg.DagsterInstance, run_config: dict | None = None, steps: list[str] | None = None):
    job = dg.reconstructable(both_job)
    if steps:
        job = job.get_subset(asset_selection={dg.AssetKey(s) for s in steps})
    with dg.execute_job(job, instance=instance, run_config=run_config or {}) as result:
        assert result.success
        return step_pids(result)


def test_one_step_runs_in_process_and_several_steps_in_their_own_processes(tmp_path: Path) -> None:
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        several = run(instance)
        assert len(several) == 2 and os.getpid() not in several  # a process per step
        assert run(instance, steps=["first"]) == {os.getpid()}
        in_process = yaml.safe_load((REPO / "deploy" / "in_process.yaml").read_text(encoding="utf-8"))
        assert run(instance, run_config=in_process) == {os.getpid()}
