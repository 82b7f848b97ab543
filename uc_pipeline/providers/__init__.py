"""The provider registry: provider ids and the lookup from an id to its extraction source class.

A provider is one module `uc_pipeline.providers.<id>` that defines `SOURCE`, a `ProviderSource`
subclass. Adding a provider means adding its id here and writing that module.
"""

from __future__ import annotations

import importlib
from functools import cache

from uc_pipeline.providers.base import ProviderSource

PROVIDER_IDS: tuple[str, ...] = ("aircall", "ringcentral", "eightbyeight", "zendesk", "zoomphone")


@cache
def get_provider(provider_id: str) -> type[ProviderSource]:
    """The `ProviderSource` class of a provider id (imports its module on first use)."""
    if provider_id not in PROVIDER_IDS:
        raise KeyError(f"unknown provider {provider_id!r}; known: {', '.join(PROVIDER_IDS)}")
    module = importlib.import_module(f"uc_pipeline.providers.{provider_id}")
    return module.SOURCE
