"""Running the project's dbt build against a temporary data dir, and reading the warehouse back.

Every run gets its own `UC_DATA_DIR` and `--target-path`, so tests never touch `dbt_project/target`
or a warehouse other runs use. dbt runs in a subprocess: in-process, dbt-duckdb keeps the warehouse
open and the test could not read it back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"


class DbtFailed(AssertionError):
    pass


def dbt(data_dir: Path, args: Sequence[str], vars: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Run one dbt command; return run_results' results, raise DbtFailed with the failing nodes' messages."""
    env = {**os.environ, "UC_DATA_DIR": str(data_dir), "DO_NOT_TRACK": "1"}
    target = data_dir / "target"
    cmd = [str(DBT), *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
           "--target-path", str(target), "--log-path", str(data_dir / "logs")]
    if vars:
        cmd += ["--vars", json.dumps(vars)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    results_file = target / "run_results.json"
    results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    if proc.returncode != 0:
        failed = [f"{r['unique_id']}: {r['status']}: {r['message']}" for r in results
                  if r["status"] not in ("success", "pass", "warn")]
        detail = failed or [proc.stdout[-4000:], proc.stderr[-2000:]]
        raise DbtFailed(f"dbt {' '.join(args)} failed:\n" + "\n".join(detail))
    return results


# Every provider's enum seed (seeds/<provider>/<provider>_enums.csv), by name.
ENUM_SEEDS = " ".join(sorted(p.stem for p in PROJECT_DIR.glob("seeds/*/*_enums.csv")))

# The per-provider user, contact, queue and comment models are ephemeral, and so are some providers' recording
# models: their rows are read from the uc tables and views.
MERGED_IN_UC = ("uc_user", "uc_contact", "uc_queue", "uc_comment", "uc_recording")


STAGED = "staging raw uc_user uc_contact uc_queue uc_comment uc_recording"


def build(data_dir: Path, select: str = STAGED, vars: dict[str, Any] | None = None) -> Any:
    # cautious: a test runs only when every model it reads was selected (relationships tests from
    # uc_call to uc_user are left to the unified-model tests); the enum seeds the staging models map
    # provider values with are always built
    select = f"{select} {ENUM_SEEDS}"
    return dbt(data_dir, ["build", "--indirect-selection", "cautious", "--select", *select.split()], vars)


# What a provider's one stored table keeps after the contract's columns for its other models to read.
PROVIDER_COLUMNS = {
    ("aircall", "uc_call"): ["has_voicemail", "asset", "user", "assigned_to", "transferred_by", "transferred_to",
                             "contact", "comments", "landed_date"],
    ("eightbyeight", "uc_recording"): ["_unknown_enums", "call_key", "agent_id", "phone_number", "queue_id",
                                       "queue_name", "landed_date"],
    ("zendesk", "uc_call"): ["agent_id", "customer_id", "landed_date"],
}


def provider_relation(provider: str, model: str) -> str:
    """SQL relation of one provider's rows of a unified model, in the contract's columns."""
    if model in MERGED_IN_UC:
        return f"(select * exclude (_loaded_at) from uc.{model} where provider = '{provider}')"
    # `_loaded_at` says which run wrote the row, `_previous_call_dates` which days a call left (for the
    # reporting marts), `_unknown_enums` which provider values its enum seed does not know; none is a
    # contract column
    left_out = ["_loaded_at", "_previous_call_dates", "_unknown_enums"] if model == "uc_call" else ["_loaded_at"]
    left_out += [f'"{name}"' for name in PROVIDER_COLUMNS.get((provider, model), [])]
    return f"(select * exclude ({', '.join(left_out)}) from staging.stg_{provider}__{model})"


def columns(data_dir: Path, relation: str) -> list[str]:
    """Column names of a relation of the warehouse, in order."""
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        return [d[0] for d in con.execute(f"select * from {relation} limit 0").description]
    finally:
        con.close()


def provider_columns(data_dir: Path, provider: str, model: str) -> list[str]:
    """Column names of `provider_relation(provider, model)`, in order."""
    return columns(data_dir, provider_relation(provider, model))


def query(data_dir: Path, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows of `sql` on the warehouse as dicts (the connection is closed before returning)."""
    con = duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        cur = con.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    finally:
        con.close()
