"""The code location's executor: Dagster's default (multiprocess, or in-process by run config), except
that a run of a single step executes it in the run's own process.

A step in a process of its own loads the whole code location again (dagster, dbt and dagster-dbt,
the dbt manifest: about 6 s on an idle 2-core machine, several times that under load) before it
does any work. A run of several steps (the daily job: four extracts at once, then dbt) gains from
that; a run of one step (one extract asset for one day or one range, from the UI or
`dagster asset materialize`) only waits for it: there the step runs in the run worker, as
`-c deploy/in_process.yaml` asks for every run. `bench/overhead.py` measures both.

The run config is the default executor's (`execution: config: multiprocess | in_process`), so
existing run configs keep working. Dagster's executors are internal classes
(`dagster._core.executor`): pinned with dagster in pyproject.toml.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import dagster as dg
from dagster._core.definitions.executor_definition import (
    _core_in_process_executor_creation,
    _core_multiprocess_executor_creation,
    multi_or_in_process_executor,
    multiple_process_executor_requirements,
)
from dagster._core.execution.retries import RetryMode
from dagster._core.execution.step_dependency_config import StepDependencyConfig
from dagster._core.executor.base import Executor


class OneStepInProcessExecutor(Executor):
    """Multiprocess for a plan of several steps, in-process for a plan of one."""

    def __init__(self, multiprocess: Executor, in_process: Executor) -> None:
        self._multiprocess = multiprocess
        self._in_process = in_process

    @property
    def retries(self) -> RetryMode:
        return self._multiprocess.retries

    @property
    def step_dependency_config(self) -> StepDependencyConfig:
        return self._multiprocess.step_dependency_config

    def execute(self, plan_context: Any, execution_plan: Any) -> Iterator[Any]:
        one_step = len(execution_plan.step_keys_to_execute) == 1
        return (self._in_process if one_step else self._multiprocess).execute(plan_context, execution_plan)


def _requirements(config: Mapping[str, Any]) -> Sequence[Any]:
    return multiple_process_executor_requirements() if "multiprocess" in config else []


@dg.executor(
    name="one_step_in_process_executor",
    config_schema=multi_or_in_process_executor.config_schema.as_field(),
    requirements=_requirements,
)
def one_step_in_process_executor(init_context: dg.InitExecutorContext) -> Executor:
    config = init_context.executor_config
    if "in_process" in config:
        return _core_in_process_executor_creation(config["in_process"])
    multiprocess = config["multiprocess"]
    in_process = {key: multiprocess.get(key) for key in ("retries", "step_dependency_config")}
    return OneStepInProcessExecutor(
        _core_multiprocess_executor_creation(multiprocess), _core_in_process_executor_creation(in_process)
    )
