"""The provider registry: provider ids and the lookup from an id to its extraction source class.

A provider is one package `uc_pipeline.providers.<id>` whose `__init__.py` exposes `SOURCE`, a
`ProviderSource` subclass (`base.py`). `PROVIDER_IDS` is the registry every other part reads (the
sandbox's emulators, the assets, the reports); `dbt_project.yml`'s `providers` var mirrors it. Adding
a provider: README.md, "Adding a provider".
"""

from __future__ import annotations

import importlib
from functools import cache

from uc_pipeline.providers.base import ProviderSource

PROVIDER_IDS: tuple[str, ...] = ("aircall", "ringcentral", "eightbyeight", "zendesk", "dialpad")


@cache
def get_provider(provider_id: str) -> type[ProviderSource]:
    """The `ProviderSource` class of a provider id (imports its package on first use)."""
    if provider_id not in PROVIDER_IDS:
        raise KeyError(f"unknown provider {provider_id!r}; known: {', '.join(PROVIDER_IDS)}")
    module = importlib.import_module(f"uc_pipeline.providers.{provider_id}")
    return module.SOURCE
