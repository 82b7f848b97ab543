"""Zendesk Talk: the extraction source. Modules: source (client)."""

from uc_pipeline.providers.zendesk.source import SOURCE

__all__ = ["SOURCE"]
