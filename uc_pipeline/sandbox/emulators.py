"""Which emulators the sandbox has: one package `uc_pipeline.sandbox.<provider id>` per id of the provider
registry (`uc_pipeline.providers.PROVIDER_IDS`), each defining `EMULATOR`, imported on first use."""

from __future__ import annotations

import importlib

from uc_pipeline.providers import PROVIDER_IDS
from uc_pipeline.sandbox.contract import Emulator

__all__ = ["PROVIDER_IDS", "load_emulator"]


def load_emulator(provider: str) -> Emulator:
    """`EMULATOR` of `uc_pipeline.sandbox.<provider>`, imported on first use."""
    try:
        module = importlib.import_module(f"uc_pipeline.sandbox.{provider}")
    except ModuleNotFoundError as exc:
        if exc.name != f"uc_pipeline.sandbox.{provider}":
            raise
        raise LookupError(f"no sandbox emulator for provider {provider!r} (package uc_pipeline.sandbox.{provider} "
                          f"is missing); known providers: {', '.join(PROVIDER_IDS)}") from None
    emulator = getattr(module, "EMULATOR", None)
    if emulator is None:
        raise LookupError(f"uc_pipeline.sandbox.{provider} defines no EMULATOR")
    return emulator
