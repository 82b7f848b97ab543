"""The executor of every job and backfill: Dagster's default, or dagster-celery's when configured.

By default each step runs in a child process of the run's process (Dagster's multiprocess executor).
With `UC_CELERY_CONFIG` naming a YAML file (`deploy/celery.yaml`), every step is sent to a Celery
broker instead and runs in whichever `dagster-celery` worker takes it, on any machine: the same file
starts the workers (`dagster-celery worker start -A dagster_celery.app -y deploy/celery.yaml`), so
the executor and its workers cannot disagree on broker, backend or queue. Its `execution.celery`
block is the executor's config as documented by dagster-celery
(https://docs.dagster.io/api/libraries/dagster-celery): `broker`, `backend`, `include`,
`config_source` (Celery's lowercase settings; `task_default_queue` is the queue steps go to).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg
import yaml

CELERY_CONFIG_ENV = "UC_CELERY_CONFIG"


class ExecutorConfigError(ValueError):
    """The executor's configuration file is missing or malformed; the message says what to fix."""


def celery_config(path: str | Path) -> dict[str, Any]:
    """The `execution.celery` block of the file at `path` (the block `dagster-celery worker start -y` reads)."""
    file = Path(path)
    if not file.is_file():
        raise ExecutorConfigError(
            f"{CELERY_CONFIG_ENV}={path}: no such file. Fix: point it at the Celery config the workers were "
            "started with (see deploy/celery.yaml), or unset it to run steps in the run's own process tree."
        )
    parsed = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    block = (parsed.get("execution") or {}).get("celery") if isinstance(parsed, dict) else None
    if not isinstance(block, dict) or not block.get("broker"):
        raise ExecutorConfigError(
            f"{file}: expected an `execution: celery:` block with at least `broker` (see deploy/celery.yaml)."
        )
    return block


def build_executor() -> dg.ExecutorDefinition | None:
    """dagster-celery's executor configured from `UC_CELERY_CONFIG`, or None for Dagster's default."""
    path = os.environ.get(CELERY_CONFIG_ENV, "").strip()
    if not path:
        return None
    from dagster_celery import celery_executor  # only deployments that use Celery import it

    # `{env: VAR}` values (the broker URL holds a password) are resolved in the run's process, at run time.
    return celery_executor.configured(celery_config(path), name="celery")
