"""Dagster asset checks that read a unified table of the warehouse as a whole.

`uc_call_unknown_enum_values` names every provider value that a provider's enum seed
(`dbt_project/seeds/<provider>/<provider>_enums.csv`) does not know, with the number of calls that carry it.
Such a call is mapped to UNKNOWN rather than to a bucket it may not belong to; the check makes the
drift visible in the catalog (a warning: the build itself stays green) until the value is added to
the seed with its meaning and source. The dbt test `uc_call_no_unknown_enum_values` says the same
in dbt's output.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import dagster as dg
import duckdb

from uc_pipeline.assets.resources import PipelineResource
from uc_pipeline.settings import warehouse_path

UC_CALL = dg.AssetKey(["uc", "uc_call"])
# reads the warehouse: one run at a time with the dbt builds that write it
WAREHOUSE_POOL = "warehouse"

UNKNOWN_ENUM_VALUES_SQL = """
select provider, e.field, e.value, count(*) as calls
from (select provider, unnest(_unknown_enums) as e from uc.uc_call where _unknown_enums is not null)
group by all
order by calls desc, provider, e.field, e.value
"""


class UnknownEnumValue(NamedTuple):
    provider: str
    field: str
    value: str
    calls: int


def unknown_enum_values(warehouse: Path) -> list[UnknownEnumValue] | None:
    """Every (provider, field, value) of uc_call that its enum seed does not know, most calls first.

    None when the warehouse has no uc_call with `_unknown_enums` yet (nothing built, or built by an
    earlier version of the project: the next dbt build adds the column).
    """
    if not warehouse.exists():
        return None
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(UNKNOWN_ENUM_VALUES_SQL).fetchall()
    except (duckdb.CatalogException, duckdb.BinderException):
        return None
    finally:
        con.close()
    return [UnknownEnumValue(*row) for row in rows]


def describe(found: list[UnknownEnumValue]) -> str:
    """One line per unknown value, e.g. `aircall missed_call_reason 'abandoned_in_flow': 3 calls`."""
    lines = [f"{v.provider} {v.field} '{v.value}': {v.calls} call{'s' if v.calls != 1 else ''}" for v in found]
    return "\n".join(lines)


@dg.asset_check(
    asset=UC_CALL,
    name="unknown_enum_values",
    description="Provider values (status, direction, reasons, leg types, ...) that the provider's enum seed "
    "dbt_project/seeds/<provider>/<provider>_enums.csv does not know; those calls are mapped to UNKNOWN.",
    blocking=False,
    pool=WAREHOUSE_POOL,
)
def uc_call_unknown_enum_values(uc: PipelineResource) -> dg.AssetCheckResult:
    found = unknown_enum_values(warehouse_path(uc.data_path))
    if found is None:
        return dg.AssetCheckResult(
            passed=True,
            description="uc_call has not been built with `_unknown_enums` yet: run the daily build first.",
        )
    if not found:
        return dg.AssetCheckResult(passed=True, metadata={"unknown_values": 0, "calls": 0})
    table = "| provider | field | value | calls |\n|---|---|---|---|\n" + "\n".join(
        f"| {v.provider} | {v.field} | `{v.value}` | {v.calls} |" for v in found
    )
    return dg.AssetCheckResult(
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        description="Values the enum seeds do not know (their calls are UNKNOWN); add each to "
        f"dbt_project/seeds/<provider>/<provider>_enums.csv with its meaning and source:\n{describe(found)}",
        metadata={
            "unknown_values": len(found),
            "calls": sum(v.calls for v in found),
            "values": dg.MetadataValue.md(table),
        },
    )


ASSET_CHECKS = [uc_call_unknown_enum_values]
