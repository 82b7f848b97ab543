"""The 8x8 VCC emulator. Modules: emulator, http (error bodies), query (query language),
render."""

from uc_pipeline.sandbox.eightbyeight.emulator import EMULATOR

__all__ = ["EMULATOR"]
