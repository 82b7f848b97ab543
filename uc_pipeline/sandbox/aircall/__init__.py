"""The Aircall emulator. Modules: emulator, http (routes and auth), render."""

from uc_pipeline.sandbox.aircall.emulator import EMULATOR

__all__ = ["EMULATOR"]
