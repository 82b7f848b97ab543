"""Directory snapshot assets: one per provider directory stream (`raw/<provider>/<stream>`: agents, queues,
lines, contacts), unpartitioned, built by one factory.

A run lands a new snapshot of every connection of the provider (connections in parallel, each under its own
quota) and keeps the earlier ones: the warehouse derives first seen / last seen and the name at any time
from them. The daily job runs these before the warehouse models (they are the dbt sources' upstream
assets), and `directory_snapshot` runs them alone. A connection whose directory cannot be listed (an API
down, a permission the token lacks) does not stop the others and does not fail the step, so it never holds
back the day's calls: the warehouse keeps naming them from the earlier snapshots, and the asset check
`directory_snapshot_landed` fails (warning) naming the connection, the error and what to do.
"""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from uc_pipeline.assets.extract import OWNERS, extract_pool
from uc_pipeline.assets.resources import PipelineResource
from uc_pipeline.connections import Connection
from uc_pipeline.http import ApiError, HttpSettings
from uc_pipeline.http.redact import redact_text
from uc_pipeline.providers import enabled_provider_ids, get_provider
from uc_pipeline.snapshot import SnapshotResult, extract_snapshot

SNAPSHOT_JOB = "directory_snapshot"
SNAPSHOT_CHECK = "directory_snapshot_landed"


def _snapshot_connection(
    connection: Connection, stream: str, data_dir: str, settings: HttpSettings, taken_at: datetime
) -> tuple[SnapshotResult | None, str | None]:
    try:
        return extract_snapshot(connection, stream, data_dir=data_dir, settings=settings, taken_at=taken_at), None
    except ApiError as exc:
        return None, f"{connection.connection_id}: {exc}"
    except Exception as exc:  # noqa: BLE001 - one connection's bug must not hide the others' snapshots
        return None, redact_text(f"{connection.connection_id}: {type(exc).__name__}: {exc}", connection.secret_values)


def _summary(results: Sequence[SnapshotResult]) -> dict[str, Any]:
    keys = ("records", "pages", "requests", "retries", "throttled", "bytes")
    totals = {k: 0 for k in keys}
    per_connection = []
    for r in results:
        meta = r.metadata()
        for k in keys:
            totals[k] += int(meta.get(k) or 0)
        per_connection.append({"connection": r.connection_id, **meta})
    return {
        "dagster/row_count": totals["records"],
        **{f"total_{k}": v for k, v in totals.items() if k != "records"},
        "http_429s": totals["throttled"],
        "snapshots": dg.MetadataValue.json(per_connection),
    }


def build_snapshot_asset(provider: str, stream: str) -> dg.AssetsDefinition:
    """The asset that lands a new snapshot of `stream` for every connection of `provider`."""
    source_cls = get_provider(provider)
    key = dg.AssetKey(["raw", provider, stream])

    @dg.asset(
        key=key,
        group_name=provider,
        description=f"{source_cls.title}: {source_cls.directory_streams[stream]} Landed verbatim as one snapshot "
        "per connection and run (`snapshot=<UTC time>`); earlier snapshots are kept.",
        pool=extract_pool(provider),
        kinds={"python", "parquet"},
        owners=OWNERS,
        tags={"layer": "landing", "uc/directory": "true"},
        check_specs=[dg.AssetCheckSpec(SNAPSHOT_CHECK, asset=key,
                                       description="Every connection's directory was listed and landed in this run.")],
    )
    def _snapshot(context: dg.AssetExecutionContext, uc: PipelineResource) -> dg.MaterializeResult:
        connections = uc.connections(provider)
        if not connections:
            context.log.warning(f"No {provider} connection in {uc.connections_file}: nothing to snapshot.")
        settings = uc.http_settings()
        taken_at = datetime.now(UTC)
        results: list[SnapshotResult] = []
        errors: list[str] = []
        with ThreadPoolExecutor(max_workers=max(len(connections), 1), thread_name_prefix=f"snap-{provider}") as pool:
            futures = [
                pool.submit(_snapshot_connection, c, stream, uc.data_dir, settings, taken_at) for c in connections
            ]
            for future in futures:
                result, error = future.result()
                if result is not None:
                    results.append(result)
                    context.log.info(f"{result.connection_id}: landed {result.landed.rows} {stream} entries")
                if error is not None:
                    errors.append(error)
        landed = ", ".join(r.connection_id for r in results) or "none"
        problem = ""
        if errors:
            problem = (f"{provider}/{stream}: {len(errors)} snapshot(s) failed; the earlier snapshots stay and keep "
                       "naming the calls. Fix the connection (credentials, the API permission to list it) and run "
                       f"the `{SNAPSHOT_JOB}` job. Failed:\n- " + "\n- ".join(errors)
                       + f"\nLanded in this run: {landed}.")
            context.log.error(problem)
        check = dg.AssetCheckResult(
            asset_key=key, check_name=SNAPSHOT_CHECK, passed=not errors, severity=dg.AssetCheckSeverity.WARN,
            metadata={"failed": dg.MetadataValue.json(errors), "landed": landed,
                      **({"problem": problem} if errors else {})},
        )
        return dg.MaterializeResult(metadata=_summary(results), check_results=[check])

    return _snapshot


def build_snapshot_assets() -> list[dg.AssetsDefinition]:
    """One asset per directory stream of every provider the deployment uses (`UC_PROVIDERS`)."""
    return [
        build_snapshot_asset(provider, stream)
        for provider in enabled_provider_ids()
        for stream in get_provider(provider).directory_streams
    ]
