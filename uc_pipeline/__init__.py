"""uc-pipeline: batch ELT of call-center data from several telephony providers into one DuckDB warehouse."""

__version__ = "0.1.0"
