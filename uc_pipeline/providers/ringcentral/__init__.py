"""RingCentral: the extraction source. Modules: source (client), auth (OAuth token grant and cache)."""

from uc_pipeline.providers.ringcentral.source import SOURCE

__all__ = ["SOURCE"]
