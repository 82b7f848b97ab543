"""Fixtures of the dbt staging tests: a fresh data dir per test, dbt run in a subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path
