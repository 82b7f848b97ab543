"""Choosing the executor: Dagster's default unless `UC_CELERY_CONFIG` names a Celery config, which the
shipped deploy/celery.yaml is for both the executor and `dagster-celery worker start -y`."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster_celery.cli import get_validated_config

from uc_pipeline.assets.executor import CELERY_CONFIG_ENV, ExecutorConfigError, build_executor, celery_config

from .cluster import REPO

SHIPPED = REPO / "deploy" / "celery.yaml"


def test_without_the_variable_jobs_keep_dagsters_default_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CELERY_CONFIG_ENV, raising=False)
    assert build_executor() is None


def test_the_shipped_config_is_valid_for_the_workers_and_names_the_executors_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broker = "pyamqp://uc:not-a-real-password@broker.internal:5672/uc"
    monkeypatch.setenv("UC_CELERY_BROKER", broker)
    monkeypatch.setenv(CELERY_CONFIG_ENV, str(SHIPPED))
    executor = build_executor()
    assert executor is not None and executor.name == "celery"
    # what `dagster-celery worker start -y deploy/celery.yaml` validates and writes for the worker
    worker = get_validated_config(str(SHIPPED))
    assert worker["broker"] == broker  # resolved from the environment, never written in the file
    assert worker["config_source"]["task_default_queue"] == "uc_pipeline"
    assert "not-a-real-password" not in SHIPPED.read_text(encoding="utf-8")


def test_a_missing_file_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CELERY_CONFIG_ENV, str(tmp_path / "nowhere.yaml"))
    with pytest.raises(ExecutorConfigError, match=r"UC_CELERY_CONFIG=.*nowhere\.yaml: no such file\. Fix:"):
        build_executor()


def test_a_file_without_the_celery_block_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "celery.yaml"
    path.write_text("execution:\n  config:\n    in_process: {}\n", encoding="utf-8")
    with pytest.raises(ExecutorConfigError, match=r"expected an `execution: celery:` block with at least `broker`"):
        celery_config(path)
