"""Extract assets: one per provider stream (`raw/<provider>/<stream>`), built by one factory.

A partition run extracts every connection of the provider for each day of the run (connections in
parallel: their quotas are independent), lands one file per (connection, day), and reports figures
as metadata. A failing connection does not stop the others; the run then fails naming it. Days
before a connection's `history_start` are skipped with a warning (backfills are clamped, not failed).
"""

import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import dagster as dg

from uc_pipeline.assets.partitions import day_key, partition_days
from uc_pipeline.assets.resources import PipelineResource
from uc_pipeline.connections import Connection
from uc_pipeline.extract import ExtractResult, extract_partition
from uc_pipeline.http import ApiError, HttpSettings
from uc_pipeline.http.redact import redact_text
from uc_pipeline.providers import enabled_provider_ids, get_provider

TOTAL_CHECK = "landed_count_matches_provider_total"
# Partitions per run in a backfill: large enough to amortise run start-up, small enough to retry cheaply.
BACKFILL_POLICY = dg.BackfillPolicy.multi_run(max_partitions_per_run=7)
OWNERS = ["team:data-engineering"]


def extract_pool(provider: str) -> str:
    """The Dagster concurrency pool of a provider's extract runs (limits set in dagster.yaml)."""
    return f"extract_{provider}"


def _redact(text: str, connection: Connection) -> str:
    # Every form (base64, URL-encoded) of the connection's secrets and of tokens obtained at run time.
    return redact_text(text, connection.secret_values)


def _extract_connection(
    connection: Connection, stream: str, days: Sequence[date], data_dir: str, settings: HttpSettings
) -> tuple[list[ExtractResult], list[str]]:
    results: list[ExtractResult] = []
    errors: list[str] = []
    for day in days:
        try:
            results.append(extract_partition(connection, stream, day, data_dir=data_dir, settings=settings))
        except ApiError as exc:
            errors.append(f"{connection.connection_id} {day_key(day)}: {exc}")
        except Exception as exc:  # noqa: BLE001 - one connection's bug must not hide the others' data
            detail = f"{connection.connection_id} {day_key(day)}: {type(exc).__name__}: {exc}"
            errors.append(_redact(detail, connection))
    return results, errors


def _summary(results: Sequence[ExtractResult]) -> dict[str, Any]:
    keys = ("records", "pages", "requests", "retries", "throttled", "bytes")
    totals = {k: 0 for k in keys}
    per_partition = []
    for r in results:
        meta = r.metadata()
        for k in keys:
            totals[k] += int(meta.get(k) or 0)
        per_partition.append({"connection": r.connection_id, "day": day_key(r.day), **meta})
    return {
        "dagster/row_count": totals["records"],
        **{f"total_{k}": v for k, v in totals.items() if k != "records"},
        "http_429s": totals["throttled"],
        "partitions": dg.MetadataValue.json(per_partition),
    }


def _total_check(asset_key: dg.AssetKey, results: Sequence[ExtractResult]) -> dg.AssetCheckResult:
    compared = [r for r in results if r.stats.reported_total is not None]
    mismatched = [
        {
            "connection": r.connection_id,
            "day": day_key(r.day),
            "landed": r.landed.rows,
            "provider_total": r.stats.reported_total,
        }
        for r in compared
        if r.landed.rows != r.stats.reported_total
    ]
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=TOTAL_CHECK,
        passed=not mismatched,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"compared_partitions": len(compared), "mismatches": dg.MetadataValue.json(mismatched)},
    )


def build_extract_asset(provider: str, stream: str, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    """The asset that lands `stream` of every connection of `provider`."""
    source_cls = get_provider(provider)
    key = dg.AssetKey(["raw", provider, stream])
    check_specs = (
        [
            dg.AssetCheckSpec(
                TOTAL_CHECK,
                asset=key,
                description=f"Landed records equal the count {source_cls.title} reports for the window.",
            )
        ]
        if source_cls.reports_total
        else []
    )

    # `backfill_policy` is a beta parameter, used knowingly: runs of up to 7 days amortise start-up.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return _extract_asset(key, provider, stream, partitions_def, check_specs)


def _extract_asset(
    key: dg.AssetKey, provider: str, stream: str, partitions_def: dg.PartitionsDefinition,
    check_specs: list[dg.AssetCheckSpec],
) -> dg.AssetsDefinition:
    source_cls = get_provider(provider)

    @dg.asset(
        key=key,
        group_name=provider,
        description=f"{source_cls.title}: {source_cls.streams[stream]} Landed verbatim, one Parquet file per "
        "connection and UTC day.",
        partitions_def=partitions_def,
        backfill_policy=BACKFILL_POLICY,
        pool=extract_pool(provider),
        kinds={"python", "parquet"},
        owners=OWNERS,
        tags={"layer": "landing"},
        check_specs=check_specs,
    )
    def _extract(context: dg.AssetExecutionContext, uc: PipelineResource) -> dg.MaterializeResult:
        days = partition_days(context)
        connections = uc.connections(provider)
        if not connections:
            context.log.warning(f"No {provider} connection in {uc.connections_file}: nothing to extract.")
        settings = uc.http_settings()
        jobs = []
        clamped: dict[str, int] = {}
        for conn in connections:
            own_days = [d for d in days if d >= conn.history_start]
            if len(own_days) < len(days):
                clamped[conn.connection_id] = len(days) - len(own_days)
                context.log.warning(
                    f"{conn.connection_id}: {len(days) - len(own_days)} day(s) before its history_start "
                    f"{conn.history_start} skipped."
                )
            if own_days:
                jobs.append((conn, own_days))
        results: list[ExtractResult] = []
        errors: list[str] = []
        with ThreadPoolExecutor(max_workers=max(len(jobs), 1), thread_name_prefix=f"extract-{provider}") as pool:
            futures = [pool.submit(_extract_connection, c, stream, d, uc.data_dir, settings) for c, d in jobs]
            for future in futures:
                ok, failed = future.result()
                results.extend(ok)
                errors.extend(failed)
        for r in results:
            context.log.info(
                f"{r.connection_id} {day_key(r.day)}: landed {r.landed.rows} records "
                f"({r.stats.pages} pages, {r.http.get('requests', 0)} requests)"
            )
        if errors:
            landed = ", ".join(f"{r.connection_id} {day_key(r.day)}" for r in results) or "none"
            raise dg.Failure(
                description=f"{provider}/{stream}: {len(errors)} partition(s) failed; data landed before stays "
                "intact. Failed:\n- " + "\n- ".join(errors) + f"\nLanded in this run: {landed}.",
                metadata=_summary(results),
            )
        # Each partition's materialization carries its own day's figures, not the run's total.
        for day in days:
            context.add_asset_metadata(_summary([r for r in results if r.day == day]), partition_key=day_key(day))
        return dg.MaterializeResult(
            metadata={"days_in_run": len(days), "days_before_history_start": dg.MetadataValue.json(clamped)},
            check_results=[_total_check(key, results)] if check_specs else [],
        )

    return _extract


def build_extract_assets(partitions_def: dg.PartitionsDefinition) -> list[dg.AssetsDefinition]:
    """One asset per stream of every provider the deployment uses (`UC_PROVIDERS`)."""
    return [
        build_extract_asset(provider, stream, partitions_def)
        for provider in enabled_provider_ids()
        for stream in get_provider(provider).streams
    ]
