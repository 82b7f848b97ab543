"""The dbt project as dagster-dbt sees it (kept alone in this module so that
`dagster-dbt project prepare-and-package --file uc_pipeline/dbt_project.py` can import it).

dbt's target and log folders follow the data directory (`<data_dir>/dbt/target`): the parse, its
partial-parse state and every run's artifacts belong to one data directory, so builds on two data
directories at once (two tests, a test and the demo) never share a file.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from uc_pipeline.providers import enabled_provider_ids
from uc_pipeline.settings import DBT_PROJECT_DIR, data_dir, landing_url

os.environ.setdefault("DO_NOT_TRACK", "1")
# The dbt installed beside this Python, so that a virtualenv works without being activated (e.g.
# `.venv/bin/python -m pytest`, `.venv/bin/uc-pipeline demo`); `dbt` from PATH otherwise.
_BIN = str(Path(sys.executable).parent)
_DBT = str(Path(_BIN) / "dbt") if (Path(_BIN) / "dbt").exists() else "dbt"
# What the runs start: `uc-dbt` (dbt_exec.py), which makes that dbt die with the process starting it,
# installed with this package; the plain dbt only when the package's scripts are not installed.
_GUARDED = Path(_BIN) / "uc-dbt"
DBT_EXECUTABLE = str(_GUARDED) if _GUARDED.exists() else _DBT


def _put_dbt_on_path() -> None:
    """dagster-dbt's project preparer runs `dbt` from PATH: put this Python's first. Done again before each
    parse, since a caller may have restored an older PATH since this module was imported."""
    if _DBT != "dbt" and _BIN not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = _BIN + os.pathsep + os.environ.get("PATH", "")


_put_dbt_on_path()

DBT_TARGET_ENV = "DBT_TARGET_PATH"  # dagster-dbt puts each run's folder under it; dbt's logs go there too


def dbt_target_dir(base: Path | None = None) -> Path:
    """Where dbt writes its parse, run artifacts and logs for the data directory `base`."""
    return (base or data_dir()) / "dbt" / "target"


def project_for(base: Path | None = None) -> DbtProject:
    """The dbt project with its target folder under the data directory, which the dbt runs started in
    this process use from now on (through `DBT_TARGET_PATH`, which dagster-dbt reads)."""
    target = dbt_target_dir(base)
    os.environ[DBT_TARGET_ENV] = str(target)
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=target)


dbt_project = project_for()


def _newest_source_mtime() -> float:
    sources = [p for folder in ("models", "macros", "seeds", "tests") for p in (DBT_PROJECT_DIR / folder).rglob("*")]
    sources += [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    return max((p.stat().st_mtime for p in sources if p.is_file()), default=0.0)


def ensure_manifest(project: DbtProject = dbt_project) -> None:
    """Parse the project when its manifest is missing (fresh clone, CI), older than the project's files
    or parsed for another data directory.

    Each dbt run starts from this parse (dagster-dbt copies it), and dbt keeps it only when the
    profile's environment, i.e. `UC_DATA_DIR` and the landing zone's URL, is what it was: else every run
    parses the whole project again (about 2 s). `UC_PROVIDERS` decides which providers' models the parse holds.
    """
    manifest = project.manifest_path
    parsed_for = manifest.parent / "uc_data_dir.txt"
    current = f"{data_dir()}\n{landing_url()}\n{','.join(enabled_provider_ids())}"
    if (
        project.preparer.using_dagster_dev()
        or not manifest.exists()
        or (manifest.stat().st_mtime < _newest_source_mtime())
        or not parsed_for.exists()
        or parsed_for.read_text() != current
    ):
        manifest.parent.mkdir(parents=True, exist_ok=True)
        _put_dbt_on_path()
        project.preparer.prepare(project)
        parsed_for.write_text(current)
