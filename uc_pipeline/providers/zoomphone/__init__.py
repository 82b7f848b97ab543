"""Zoom Phone: the extraction source. Modules: source (client), auth (Server-to-Server OAuth and the shared
token cache), rates (Zoom's per-second and daily rate headers)."""

from uc_pipeline.providers.zoomphone.source import SOURCE

__all__ = ["SOURCE"]
