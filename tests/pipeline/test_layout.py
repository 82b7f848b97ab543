"""The project's layout rules: no import circle inside `uc_pipeline` (TYPE_CHECKING and function-level
imports included), the dbt `providers` var mirrors the provider registry, and every registered provider
is one folder in each place it lives (README.md, "Adding a provider")."""

from __future__ import annotations

import importlib
from pathlib import Path

import grimp
import pytest
import yaml

from uc_pipeline.providers import PROVIDER_IDS
from uc_pipeline.providers.base import ProviderSource

REPO = Path(__file__).resolve().parents[2]


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every strongly connected set of two or more modules (Tarjan, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                members = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    members.append(member)
                    if member == node:
                        break
                if len(members) > 1:
                    found.append(sorted(members))
    return sorted(found)


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a package whose a -> b -> c -> a circle goes through a TYPE_CHECKING import, next to a clean d -> a
    package = tmp_path / "circular_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from circular_pkg import b\n")
    (package / "b.py").write_text("from circular_pkg.c import X\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from circular_pkg import a\nX = 1\n")
    (package / "d.py").write_text("import circular_pkg.a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("circular_pkg", cache_dir=None)
    assert import_cycles(graph) == [["circular_pkg.a", "circular_pkg.b", "circular_pkg.c"]]


def test_uc_pipeline_has_no_import_cycle() -> None:
    graph = grimp.build_graph("uc_pipeline", cache_dir=None)
    cycles = import_cycles(graph)
    assert not cycles, "import circles (break each, e.g. with a Protocol in the imported module): " + "; ".join(
        " <-> ".join(c) for c in cycles)


def test_dbt_providers_var_is_the_provider_registry() -> None:
    project = yaml.safe_load((REPO / "dbt_project" / "dbt_project.yml").read_text())
    assert tuple(project["vars"]["providers"]) == PROVIDER_IDS
    # UC_PROVIDERS leaves a provider's staging models, sources, data tests and seeds out with one expression each
    for resource in ("models", "sources", "data_tests", "seeds"):
        project_config = project[resource]["uc_pipeline"]
        folders = project_config if resource == "seeds" else project_config["staging"]
        for provider in PROVIDER_IDS:
            expected = (f"{{{{ '{provider}' in (env_var('UC_PROVIDERS', '') | replace(' ', '') or "
                        f"'{provider}').split(',') }}}}")
            assert folders[provider]["+enabled"] == expected, (resource, provider)


@pytest.mark.parametrize("provider", PROVIDER_IDS)
def test_a_provider_is_one_folder_in_each_place(provider: str) -> None:
    source = importlib.import_module(f"uc_pipeline.providers.{provider}").SOURCE
    assert issubclass(source, ProviderSource) and source.provider_id == provider
    emulator = importlib.import_module(f"uc_pipeline.sandbox.{provider}").EMULATOR
    assert emulator.provider_id == provider
    assert (REPO / "dbt_project" / "models" / "staging" / provider / "raw").is_dir()
    seeds = REPO / "dbt_project" / "seeds" / provider
    assert {p.name for p in seeds.glob("*.csv")} == {f"{provider}_field_coverage.csv", f"{provider}_enums.csv"}
