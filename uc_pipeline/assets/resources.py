"""The Dagster resource that gives assets their connections, data directory and HTTP settings."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from uc_pipeline.assets.run_guard import guard_run_processes
from uc_pipeline.connections import Connection, load_connections
from uc_pipeline.http import HttpSettings
from uc_pipeline.settings import default_limiter_url


class PipelineResource(dg.ConfigurableResource):
    """Connections, landing zone and HTTP behaviour of the pipeline."""

    data_dir: str = Field(description="Directory of the landing zone, warehouse and state (absolute).")
    connections_file: str = Field(description="The connections YAML file.")
    limiter_url: str | None = Field(
        default=None,
        description="Where rate-limit state is shared: sqlite:///... (one machine) or postgresql+psycopg2://...; "
        "default: a SQLite file under <data_dir>/state.",
    )
    http_timeout_s: float = Field(default=30.0, description="Per-request timeout in seconds.")
    http_max_attempts: int = Field(default=6, description="Attempts per request before a partition fails.")
    http_max_response_mb: float = Field(
        default=32.0, description="Largest response body read, in MB (decoded); a bigger one fails the partition."
    )

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        guard_run_processes(context)  # a step process ends with its run's process (run_guard.py)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    def connections(self, provider: str | None = None) -> list[Connection]:
        """The configured connections (of one provider), credentials resolved from the environment."""
        found = load_connections(self.connections_file)
        return [c for c in found if provider is None or c.provider == provider]

    def http_settings(self) -> HttpSettings:
        state = self.data_path / "state"
        state.mkdir(parents=True, exist_ok=True)
        return HttpSettings(
            limiter_url=self.limiter_url or default_limiter_url(self.data_path),
            timeout_s=self.http_timeout_s,
            max_attempts=self.http_max_attempts,
            max_response_bytes=int(self.http_max_response_mb * 1024 * 1024),
            state_dir=str(state),
        )
