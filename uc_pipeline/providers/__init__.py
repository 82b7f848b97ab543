"""The provider registry: provider ids and the lookup from an id to its extraction source class.

A provider is one package `uc_pipeline.providers.<id>` whose `__init__.py` exposes `SOURCE`, a
`ProviderSource` subclass (`base.py`). `PROVIDER_IDS` is the registry every other part reads (the
sandbox's emulators, the assets, the reports); `dbt_project.yml`'s `providers` var mirrors it. Adding
a provider: README.md, "Adding a provider". `enabled_provider_ids()` is the part of it a deployment
uses (`UC_PROVIDERS`): the assets, the connection check and the dbt parse leave the others out.
"""

from __future__ import annotations

import importlib
import os
from functools import cache

from uc_pipeline.providers.base import ProviderSource
from uc_pipeline.settings import PROVIDERS_ENV

PROVIDER_IDS: tuple[str, ...] = ("aircall", "ringcentral", "eightbyeight", "zendesk", "dialpad", "zoomphone")


@cache
def get_provider(provider_id: str) -> type[ProviderSource]:
    """The `ProviderSource` class of a provider id (imports its package on first use)."""
    if provider_id not in PROVIDER_IDS:
        raise KeyError(f"unknown provider {provider_id!r}; known: {', '.join(PROVIDER_IDS)}")
    module = importlib.import_module(f"uc_pipeline.providers.{provider_id}")
    return module.SOURCE


def enabled_provider_ids() -> tuple[str, ...]:
    """The providers this deployment extracts and builds: those `UC_PROVIDERS` lists (comma-separated ids),
    in registry order; every provider when it is unset or empty."""
    listed = os.environ.get(PROVIDERS_ENV, "").replace(" ", "")
    if not listed:
        return PROVIDER_IDS
    wanted = [p for p in listed.split(",") if p]
    unknown = [p for p in wanted if p not in PROVIDER_IDS]
    if unknown or not wanted:
        problem = f"unknown provider(s) {', '.join(repr(p) for p in unknown)}" if unknown else "no provider"
        raise ValueError(f"{PROVIDERS_ENV}={listed!r} names {problem}: list ids among {', '.join(PROVIDER_IDS)}, "
                         "comma-separated, or unset it to build every provider")
    return tuple(p for p in PROVIDER_IDS if p in wanted)
