"""The Zoom Phone emulator. Modules: emulator (routes, queries), auth (Server-to-Server OAuth), http (error
bodies, rate headers, the per-second and daily quotas' answers), paging (page tokens, the daily book), render
(canonical calls -> call history items, their call elements and recordings)."""

from uc_pipeline.sandbox.zoomphone.emulator import EMULATOR

__all__ = ["EMULATOR"]
