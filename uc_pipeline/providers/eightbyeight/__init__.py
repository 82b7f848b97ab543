"""8x8 VCC: the extraction source. Modules: source (client), parse (XML/CSV pages)."""

from uc_pipeline.providers.eightbyeight.source import SOURCE

__all__ = ["SOURCE"]
