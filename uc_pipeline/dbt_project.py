"""The dbt project as dagster-dbt sees it (kept alone in this module so that
`dagster-dbt project prepare-and-package --file uc_pipeline/dbt_project.py` can import it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from uc_pipeline.settings import DBT_PROJECT_DIR, data_dir

os.environ.setdefault("DO_NOT_TRACK", "1")
# dagster-dbt runs `dbt` from PATH; make it the dbt installed beside this Python, so that a virtualenv
# works without being activated (e.g. `.venv/bin/python -m pytest`, `.venv/bin/uc-pipeline demo`).
_BIN = str(Path(sys.executable).parent)
if (Path(_BIN) / "dbt").exists() and _BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _newest_source_mtime() -> float:
    sources = [p for folder in ("models", "macros", "seeds", "tests") for p in (DBT_PROJECT_DIR / folder).rglob("*")]
    sources += [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    return max((p.stat().st_mtime for p in sources if p.is_file()), default=0.0)


def ensure_manifest() -> None:
    """Parse the project when its manifest is missing (fresh clone, CI), older than the project's files
    or parsed for another data directory.

    Each dbt run starts from this parse (dagster-dbt copies it), and dbt keeps it only when the
    profile's environment, i.e. `UC_DATA_DIR`, is what it was: else every run parses the whole
    project again (about 2 s).
    """
    manifest = dbt_project.manifest_path
    parsed_for = manifest.parent / "uc_data_dir.txt"
    current = str(data_dir())
    if (
        dbt_project.preparer.using_dagster_dev()
        or not manifest.exists()
        or (manifest.stat().st_mtime < _newest_source_mtime())
        or not parsed_for.exists()
        or parsed_for.read_text() != current
    ):
        dbt_project.preparer.prepare(dbt_project)
        parsed_for.write_text(current)
