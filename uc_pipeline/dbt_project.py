"""The dbt project as dagster-dbt sees it (kept alone in this module so that
`dagster-dbt project prepare-and-package --file uc_pipeline/dbt_project.py` can import it).
"""

from __future__ import annotations

import os

from dagster_dbt import DbtProject

from uc_pipeline.settings import DBT_PROJECT_DIR

os.environ.setdefault("DO_NOT_TRACK", "1")

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def ensure_manifest() -> None:
    """Parse the project when no manifest exists yet (fresh clone, CI), and under `dagster dev`."""
    dbt_project.prepare_if_dev()
    if not dbt_project.manifest_path.exists():
        dbt_project.preparer.prepare(dbt_project)
