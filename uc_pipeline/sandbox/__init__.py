"""Local emulators of the provider APIs, with seeded synthetic data and fault injection.

Usage (tests, demo, benchmarks)::

    from datetime import UTC, datetime
    from uc_pipeline.sandbox import Sandbox, FaultSpec

    sandbox = Sandbox(Sandbox.default_connections(providers=["aircall"], calls_per_day=200, seed=1),
                      profile="fast")                       # "documented" = the providers' real quotas
    with sandbox.serve(port=0) as base:                      # uvicorn in a thread on 127.0.0.1, free port
        url = sandbox.base_url("aircall")                    # f"{base}/aircall": a connection's base_url
        yaml_text, env = sandbox.connections_yaml()          # pipeline connections file + env var values
        sandbox.set_faults("demo-aircall", FaultSpec(error_5xx_rate=0.1, seed=3))
        ...                                                  # run the extraction against `url`
        truth = sandbox.records("demo-aircall", "calls", start, end)   # native records it must land
        calls = sandbox.calls("demo-aircall", start, end)              # canonical `Call`s (model.py)
        sandbox.prepare("demo-aircall", "calls", start, end)  # generate and index ahead of the first request
        assert not sandbox.request_log.violations()          # no request over a quota
        assert not sandbox.request_log.duplicate_pages()     # no page fetched twice
        sandbox.fault_counts("demo-aircall")                 # {"http_503": 2, ...}

Unknown paths answer the provider's own 404 body (the emulator's `not_found`, notfound.py) and are
logged with the connection their credentials name. The request log compares pages by normalized query
(the provider's documented defaults applied) and marks an answer held back by a slow fault "slow", with its duration.

Control endpoints (same server): GET /_sandbox/health, GET /_sandbox/requests?connection_id=&provider=&limit=,
GET /_sandbox/faults, PUT|POST /_sandbox/faults/{connection_id} (JSON FaultSpec; PUT replaces, POST merges),
GET /_sandbox/truth/{connection_id}/{stream}?start=ISO&end=ISO.

Emulators (`uc_pipeline.sandbox.<provider>.EMULATOR`, one package per id of the provider registry,
emulators.py; the protocol they implement is contract.py) are imported only for the providers a sandbox
uses; tests can pass their own with `Sandbox(connections, emulators={"x": MyEmulator()})`. Inside an
emulator, per request: `adm = await ctx.admit(request, conn, group)`; answer 429 when
`adm.quota.exceeded` or `adm.fault` starts with "storm_429", 5xx for "http_5xx", else the page; and always
`return ctx.deliver(request, conn, response)`. Time is `ctx.now()` (tests freeze it via `sandbox.clock`).
List endpoints read their pages out of per-day views of the truth (`ctx.truth.views`, views.py), so a
page costs O(log n + page) at any daily volume.
"""

from uc_pipeline.sandbox.clock import Clock
from uc_pipeline.sandbox.config import SandboxConfigError, load_sandbox_config
from uc_pipeline.sandbox.contract import Emulator, GroundTruth, SandboxContext
from uc_pipeline.sandbox.emulators import PROVIDER_IDS, load_emulator
from uc_pipeline.sandbox.model import (
    MISSED_REASONS,
    SHORT_ABANDON_S,
    Admission,
    Agent,
    Call,
    Comment,
    Contact,
    Directory,
    FaultSpec,
    ProviderProfile,
    Queue,
    QuotaSpec,
    QuotaState,
    Recording,
    SandboxConnection,
    Tag,
)
from uc_pipeline.sandbox.requestlog import LoggedRequest, RequestLog
from uc_pipeline.sandbox.server import Sandbox
from uc_pipeline.sandbox.standalone import serve_cli

__all__ = [
    "MISSED_REASONS", "PROVIDER_IDS", "SHORT_ABANDON_S", "Admission", "Agent", "Call", "Clock", "Comment", "Contact",
    "Directory", "Emulator", "FaultSpec", "GroundTruth", "LoggedRequest", "ProviderProfile", "Queue", "QuotaSpec",
    "QuotaState", "Recording", "RequestLog", "Sandbox", "SandboxConfigError", "SandboxConnection", "SandboxContext",
    "Tag", "load_emulator", "load_sandbox_config", "serve_cli",
]
