"""The Dialpad API v2 emulator (`EMULATOR`): routes and ground truth in `emulator.py`, the HTTP side in
`http.py`, the native Call object in `render.py`."""

from uc_pipeline.sandbox.dialpad.emulator import EMULATOR, DialpadEmulator

__all__ = ["EMULATOR", "DialpadEmulator"]
