"""Aircall: the extraction source. Modules: source (client)."""

from uc_pipeline.providers.aircall.source import SOURCE

__all__ = ["SOURCE"]
