"""`serve_cli`: the sandbox as a foreground server (`uc-pipeline sandbox --port P`), printing the
pipeline connection entries and the `export` lines that point the pipeline at it."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

import uvicorn

from uc_pipeline.sandbox.config import load_sandbox_config
from uc_pipeline.sandbox.server import PROVIDER_IDS, Sandbox, bind_socket, load_emulator


def build_sandbox(
    profile: str | None = None,
    calls_per_day: int = 200,
    config: str | Path | None = None,
    seed: int = 1,
    providers: Sequence[str] | None = None,
    out: TextIO = sys.stderr,
) -> Sandbox:
    """A sandbox from a config file, or one demo connection per provider whose emulator is available."""
    if config is not None:
        connections, settings = load_sandbox_config(config)
        return Sandbox(connections, profile=profile or str(settings.get("profile", "fast")))
    chosen = []
    for provider in providers or PROVIDER_IDS:
        try:
            load_emulator(provider)
        except LookupError as exc:
            if providers:
                raise
            print(f"warning: skipping {provider}: {exc}", file=out)
            continue
        chosen.append(provider)
    if not chosen:
        raise LookupError("no provider emulator is available; nothing to serve")
    return Sandbox(Sandbox.default_connections(chosen, calls_per_day=calls_per_day, seed=seed),
                   profile=profile or "fast")


def serve_cli(
    port: int,
    host: str = "127.0.0.1",
    profile: str = "fast",
    calls_per_day: int = 200,
    config: str | Path | None = None,
    seed: int = 1,
    providers: Sequence[str] | None = None,
) -> int:
    """Serve until interrupted (Ctrl-C). Prints a connections file and the environment to use it."""
    sandbox = build_sandbox(profile, calls_per_day, config, seed, providers)
    sock = bind_socket(host, port)
    base = f"http://{host}:{sock.getsockname()[1]}"
    yaml_text, env = sandbox.connections_yaml(base)
    print(f"uc-pipeline sandbox serving at {base} (quota profile: {sandbox.ctx.profile})")
    for conn in sandbox.connections:
        print(f"  {conn.provider:<13} {base}/{conn.provider}   connection_id={conn.connection_id}")
    print(f"  control       {base}/_sandbox/health, /_sandbox/requests, /_sandbox/faults\n")
    print("# --- connections.yaml (save it and set UC_CONNECTIONS_FILE to its path) ---")
    print(yaml_text)
    print("# --- environment ---")
    for name, value in env.items():
        print(f"export {name}={shlex.quote(value)}")
    print("\nPress Ctrl-C to stop.", flush=True)
    server = uvicorn.Server(uvicorn.Config(sandbox.app, log_level="warning", lifespan="off", access_log=False,
                                           timeout_graceful_shutdown=2))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0
