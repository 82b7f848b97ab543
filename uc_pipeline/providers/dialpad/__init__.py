"""Dialpad (API v2): the `calls` stream from `GET /api/v2/call`; the client is in `source.py`."""

from uc_pipeline.providers.dialpad.source import SOURCE, DialpadSource

__all__ = ["SOURCE", "DialpadSource"]
