"""The Zendesk Talk emulator. Modules: emulator, export (incremental export), http (auth, errors),
partner (Partner Edition calls), render."""

from uc_pipeline.sandbox.zendesk.emulator import EMULATOR

__all__ = ["EMULATOR"]
