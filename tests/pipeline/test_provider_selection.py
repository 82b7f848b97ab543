"""`UC_PROVIDERS`: a deployment that uses some providers extracts, parses and builds only those.

The code location built with `UC_PROVIDERS=zendesk, aircall` against a sandbox of those two has no asset of
another provider, its dbt parse holds no other provider's staging model or seed, and its daily job turns every landed
call of both into one `uc_call` row; a connection of a provider left out, or an unknown id, is an error that
says what to do."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from uc_pipeline.assets.schedules import range_tags
from uc_pipeline.connections import load_connections
from uc_pipeline.connections_check import ConnectionConfigError
from uc_pipeline.landing import read_partition
from uc_pipeline.providers import PROVIDER_IDS, enabled_provider_ids
from uc_pipeline.sandbox import Sandbox

from .support import YESTERDAY, failed_error_checks, sandbox_env

USED = ("aircall", "zendesk")
LEFT_OUT = tuple(p for p in PROVIDER_IDS if p not in USED)


@pytest.fixture(scope="module")
def location(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    tmp = tmp_path_factory.mktemp("providers")
    with sandbox_env(tmp, Sandbox.default_connections(USED, calls_per_day=20, seed=5)) as env:
        os.environ.update(UC_DATA_DIR=str(env.data_dir), UC_CONNECTIONS_FILE=str(env.connections_file),
                          UC_PROVIDERS="zendesk, aircall")
        from uc_pipeline.definitions import build_definitions

        yield build_definitions(), env


def test_unset_means_every_provider_and_a_list_keeps_registry_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UC_PROVIDERS", raising=False)
    assert enabled_provider_ids() == PROVIDER_IDS
    monkeypatch.setenv("UC_PROVIDERS", " zoomphone,aircall ")
    assert enabled_provider_ids() == ("aircall", "zoomphone")


@pytest.mark.parametrize("value", ["aircall,avaya", ","])
def test_an_unknown_or_empty_list_is_an_error_naming_the_known_ids(
        value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UC_PROVIDERS", value)
    with pytest.raises(ValueError, match="UC_PROVIDERS") as raised:
        enabled_provider_ids()
    assert ", ".join(PROVIDER_IDS) in str(raised.value)
    assert ("'avaya'" in str(raised.value)) == ("avaya" in value)


def test_a_connection_of_a_provider_left_out_is_an_error_with_the_fix(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with sandbox_env(tmp_path, Sandbox.default_connections(["aircall", "dialpad"], calls_per_day=1)) as env:
        monkeypatch.setenv("UC_PROVIDERS", "aircall")
        with pytest.raises(ConnectionConfigError) as raised:
            load_connections(env.connections_file)
    message = str(raised.value)
    assert "provider dialpad is not among the providers this deployment uses (UC_PROVIDERS=aircall)" in message
    assert "add dialpad to UC_PROVIDERS, or remove this entry" in message


def test_only_the_providers_used_have_assets(location: tuple) -> None:
    defs, _ = location
    keys = [key.path for key in defs.resolve_asset_graph().get_all_asset_keys()]
    raw = {path[1] for path in keys if path[0] == "raw"}
    assert raw == set(USED)
    named = {part for path in keys for part in path for provider in LEFT_OUT if provider in part}
    assert not named, f"assets of providers left out: {sorted(named)}"


def test_the_daily_job_unifies_every_landed_call_of_the_providers_used(location: tuple) -> None:
    defs, env = location
    result = defs.resolve_job_def("daily_refresh").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), tags=range_tags(YESTERDAY, YESTERDAY), raise_on_error=False)
    failures = [e.event_specific_data.error.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert result.success, "\n".join(failures)
    assert not failed_error_checks(result), failed_error_checks(result)

    con = duckdb.connect(str(env.data_dir / "warehouse.duckdb"), read_only=True)
    try:
        for provider in USED:
            landed = {r["_record_id"] for r in read_partition(
                env.data_dir, provider, "calls", f"demo-{provider}", YESTERDAY).to_pylist()}
            assert landed, f"the sandbox served no {provider} call on {YESTERDAY}"
            unified = {row[0] for row in con.execute(
                "select source_id from uc.uc_call where provider = ?", [provider]).fetchall()}
            assert unified == landed, provider
        assert {row[0] for row in con.execute("select distinct provider from uc.uc_call").fetchall()} == set(USED)
        tables = {row[0] for row in con.execute("select table_name from information_schema.tables").fetchall()}
    finally:
        con.close()
    built = {t for t in tables for provider in LEFT_OUT if f"stg_{provider}__" in t}
    assert not built, f"staging models of providers left out were built: {sorted(built)}"
    assert {"stg_aircall__uc_call", "stg_zendesk__uc_call"} <= tables
    built_seeds = {t for t in tables if t.endswith(("_enums", "_field_coverage")) and not t.startswith("uc_")}
    assert built_seeds == {f"{p}_{seed}" for p in USED for seed in ("enums", "field_coverage")}
