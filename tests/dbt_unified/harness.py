"""Running the dbt project from tests: a private copy of the project (so stand-in staging models never
touch the repository), dbt invocations with an isolated target path and data dir, and warehouse reads.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

REPO = Path(__file__).resolve().parents[2]
PROJECT = REPO / "dbt_project"
PROFILES_DIR = PROJECT

# Everything the staging engineer owns is left out of the copy; the stand-ins replace it.
# (models/staging/<provider>/ holds the raw views too; the coverage seeds are seeds/<provider>/*_field_coverage.csv)
_STAGING_PARTS = ("models/staging", "tests")
_COVERAGE_SEED = "_field_coverage.csv"


@dataclass
class DbtProject:
    """One isolated copy of the dbt project plus its data dir."""

    project_dir: Path
    data_dir: Path
    target_dir: Path

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse.duckdb"

    def run(self, *args: str, vars: dict[str, Any] | None = None, check: bool = True) -> Any:
        """Run one dbt command (e.g. "build", "--select", "tag:partitioned"); returns the dbtRunnerResult."""
        from dbt.cli.main import dbtRunner

        os.environ["DO_NOT_TRACK"] = "1"
        os.environ["UC_DATA_DIR"] = str(self.data_dir)
        cli = [
            *args,
            "--project-dir",
            str(self.project_dir),
            "--profiles-dir",
            str(PROFILES_DIR),
            "--target-path",
            str(self.target_dir),
            "--log-path",
            str(self.target_dir / "logs"),
        ]
        if vars:
            cli += ["--vars", json.dumps(vars)]
        try:
            result = dbtRunner().invoke(cli)
        finally:
            _release_warehouse()
        if check and not result.success:
            failures = []
            for node in getattr(result.result, "results", None) or []:
                if str(node.status) not in ("success", "pass"):
                    failures.append(f"{node.node.unique_id}: {node.status}: {node.message}")
            raise AssertionError(f"dbt {' '.join(args)} failed: {result.exception}\n" + "\n".join(failures))
        return result

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            con.execute("set TimeZone = 'UTC'")
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def query_dicts(self, sql: str) -> list[dict[str, Any]]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            con.execute("set TimeZone = 'UTC'")
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            con.close()

    def compiled(self, model: str, folder: str = "uc") -> str:
        path = self.target_dir / "compiled" / "uc_pipeline" / "models" / folder / f"{model}.sql"
        return path.read_text()


def _release_warehouse() -> None:
    """dbt-duckdb keeps its DuckDB instance open in-process after an invocation; close it so that the
    test can open the warehouse (read-only) and the next invocation starts clean."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
    if env is not None:
        env.close()


def copy_project(tmp: Path, *, keep_staging: bool = False) -> DbtProject:
    """A copy of dbt_project/ under `tmp` (without target/logs, and without the staging parts unless
    `keep_staging`), with a fresh data dir."""
    dest = tmp / "dbt_project"

    def ignore(directory: str, names: list[str]) -> set[str]:
        rel = Path(directory).relative_to(PROJECT)
        skipped = {"target", "logs", "dbt_packages"} if rel == Path(".") else set()
        if not keep_staging:
            skipped |= {n for n in names if (rel / n).as_posix() in _STAGING_PARTS
                        or (rel.parts[:1] == ("seeds",) and n.endswith(_COVERAGE_SEED))}
        return skipped & set(names)

    shutil.copytree(PROJECT, dest, ignore=ignore)
    data = tmp / "data"
    data.mkdir()
    return DbtProject(project_dir=dest, data_dir=data, target_dir=tmp / "target")
