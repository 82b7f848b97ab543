"""The contract between the sandbox core and the per-provider emulators: what the core gives every
emulator (`SandboxContext`, with the ground truth and its per-day views) and what every emulator
implements (`Emulator`, whose hooks are all the provider knowledge the core uses). Emulator tests
compare what the pipeline landed with `Emulator.records(...)` (native, verbatim)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from uc_pipeline.sandbox.model import (
    Admission,
    Call,
    Directory,
    ProviderProfile,
    QuotaSpec,
    SandboxConnection,
)
from uc_pipeline.sandbox.views import ViewCache


class GroundTruth(Protocol):
    """The generated history; deterministic for (seed, connection settings). `views` holds the
    emulators' per-day views of it (uc_pipeline/sandbox/views.py)."""

    views: ViewCache

    def directory(self, conn: SandboxConnection) -> Directory: ...

    def day(self, conn: SandboxConnection, day: date) -> tuple[Call, ...]:
        """Every call starting on UTC `day` as finally known (ignores `as_of` and `history_start`)."""
        ...

    def calls(
        self, conn: SandboxConnection, start: datetime, end: datetime, as_of: datetime | None = None
    ) -> list[Call]:
        """Calls with `start <= start_at < end`, sorted by (start_at, call_id), as known at `as_of`
        (default: the sandbox clock's now): calls not yet ended are left out, and comments and tags
        added after `as_of` are dropped."""
        ...


class SandboxContext(Protocol):
    """What the sandbox core gives every emulator."""

    truth: GroundTruth

    def now(self) -> datetime: ...

    def connections(self, provider: str) -> Sequence[SandboxConnection]: ...

    async def admit(self, request: Request, conn: SandboxConnection, group: str = "default") -> Admission:
        """Count the request against the connection's quota group and draw pre-response faults
        (it sleeps itself for a "slow" fault). The emulator answers 429 when `quota.exceeded` or a
        storm fault, the matching 5xx for an http_* fault, else the real page."""
        ...

    def deliver(self, request: Request, conn: SandboxConnection | None, response: Response) -> Response:
        """Every response passes here: it is logged (status, connection, quota) and may be turned
        into a reset, truncated or malformed body by the connection's faults."""
        ...

    def drift(self, conn: SandboxConnection, record: dict[str, Any], optional: Sequence[str]) -> dict[str, Any]:
        """The record with schema drift applied when enabled (deterministic per record)."""
        ...

    def fault_fires(self, conn: SandboxConnection, kind: str) -> bool:
        """For emulator-specific faults (e.g. "token_expiry"): whether it fires now; counted."""
        ...


class Emulator(Protocol):
    """One provider's API. Packages `uc_pipeline.sandbox.<provider id>` define `EMULATOR`.

    Hooks the sandbox core calls are attributes and methods here; the core holds no table by provider.
    """

    provider_id: str
    profile: ProviderProfile
    default_quotas: Mapping[str, QuotaSpec]  # the documented quotas
    fast_quotas: Mapping[str, QuotaSpec]  # for tests and benchmarks
    credential_fields: tuple[str, ...]  # the generated credentials' names (config.credentials_for)
    default_timezone: str  # the IANA zone of a connection that names none
    query_defaults: Mapping[str, str]  # parameters at their documented default (requestlog page comparison)

    def not_found(self, request: Request) -> Response:
        """The provider's own 404 for a path under its prefix that no route serves (notfound.py)."""
        ...

    def pipeline_options(self, conn: SandboxConnection) -> Mapping[str, Any]:
        """The `options:` the pipeline's connections file needs for `conn` (config.connections_yaml);
        usually empty."""
        ...

    def routes(self, ctx: SandboxContext) -> list[BaseRoute]:
        """Starlette routes, relative to the provider's prefix (e.g. "/v1/calls")."""
        ...

    def records(
        self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """Ground truth for the extract tests: the native records of `stream` that an extraction of
        `[start, end)` must land, exactly as served now."""
        ...

    def record_id(self, stream: str, record: dict[str, Any]) -> str:
        """The id the landing zone keys a record by (must equal the extract client's)."""
        ...

    def prepare(
        self, ctx: SandboxContext, conn: SandboxConnection, stream: str, start: datetime, end: datetime
    ) -> None:
        """Build ahead what serving an extraction of `stream` over `[start, end)` reads (its per-day views)."""
        ...
