"""The RingCentral emulator. Modules: emulator, auth (OAuth), http (error bodies, quota headers), ids, render."""

from uc_pipeline.sandbox.ringcentral.emulator import EMULATOR

__all__ = ["EMULATOR"]
