"""The sandbox as a foreground server (`uc-pipeline sandbox ...`): its command-line arguments (`main`),
the sandbox they describe (`build_sandbox`) and the server printing the pipeline connection entries
and the `export` lines that point the pipeline at it (`serve_cli`).

Settings come from the flags, else from the `--config` file's top level (`profile:`, `seed:`, `now:`),
else the defaults. `--seed` and `--now` (a frozen clock) make the ground truth of a comparison run
stand still: the same seed and moment serve the same records, whenever and however often it runs.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

import uvicorn

from uc_pipeline.sandbox.clock import Clock
from uc_pipeline.sandbox.config import QUOTA_PROFILES, SandboxConfigError, load_sandbox_config, parse_now
from uc_pipeline.sandbox.emulators import PROVIDER_IDS, load_emulator
from uc_pipeline.sandbox.server import Sandbox, bind_socket

DEFAULT_PORT = 8765
DEFAULT_CALLS_PER_DAY = 200
DEFAULT_SEED = 1


def build_sandbox(
    profile: str | None = None,
    calls_per_day: int = DEFAULT_CALLS_PER_DAY,
    config: str | Path | None = None,
    seed: int | None = None,
    providers: Sequence[str] | None = None,
    out: TextIO = sys.stderr,
    *,
    now: datetime | None = None,
    default_profile: str = "fast",
) -> Sandbox:
    """A sandbox from a config file, or one demo connection per provider whose emulator is available.

    Explicit arguments win over the config file's `profile`, `seed` and `now`; `default_profile` applies
    when neither gives a profile. `now` freezes the clock (otherwise it runs on wall time)."""
    if config is not None:
        connections, settings = load_sandbox_config(config, seed=seed)
        frozen = now or settings.get("now")
        return Sandbox(
            connections,
            profile=profile or str(settings.get("profile", default_profile)),
            clock=Clock(frozen=frozen) if frozen else None,
        )
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
    connections = Sandbox.default_connections(
        chosen, calls_per_day=calls_per_day, seed=DEFAULT_SEED if seed is None else seed
    )
    return Sandbox(connections, profile=profile or default_profile, clock=Clock(frozen=now) if now else None)


def serve_cli(
    port: int,
    host: str = "127.0.0.1",
    profile: str | None = "fast",
    calls_per_day: int = DEFAULT_CALLS_PER_DAY,
    config: str | Path | None = None,
    seed: int | None = None,
    providers: Sequence[str] | None = None,
    *,
    now: datetime | None = None,
    default_profile: str = "fast",
) -> int:
    """Serve until interrupted (Ctrl-C). Prints a connections file and the environment to use it."""
    sandbox = build_sandbox(profile, calls_per_day, config, seed, providers, now=now, default_profile=default_profile)
    sock = bind_socket(host, port)
    base = f"http://{host}:{sock.getsockname()[1]}"
    yaml_text, env = sandbox.connections_yaml(base)
    seeds = sorted({c.seed for c in sandbox.connections})
    clock = sandbox.clock.now().isoformat()
    frozen = sandbox.clock.frozen
    print(
        f"uc-pipeline sandbox serving at {base} (quota profile: {sandbox.ctx.profile}, "
        f"seed: {', '.join(map(str, seeds))}, clock: {'frozen at ' + clock if frozen else 'wall time'})"
    )
    for conn in sandbox.connections:
        print(f"  {conn.provider:<13} {base}/{conn.provider}   connection_id={conn.connection_id}")
    print(f"  control       {base}/_sandbox/health, /_sandbox/requests, /_sandbox/faults\n")
    print("# --- connections.yaml (save it and set UC_CONNECTIONS_FILE to its path) ---")
    print(yaml_text)
    print("# --- environment ---")
    for name, value in env.items():
        print(f"export {name}={shlex.quote(value)}")
    print("\nPress Ctrl-C to stop.", flush=True)
    server = uvicorn.Server(
        uvicorn.Config(sandbox.app, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=2)
    )
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    return 0


def build_parser(prog: str = "uc-pipeline sandbox") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Serve the provider emulators and print the connection entries that use them."
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"0 picks a free port (default {DEFAULT_PORT})")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--profile",
        choices=QUOTA_PROFILES,
        default=None,
        help="quota profile: the providers' documented quotas, or fast ones for tests "
        "(default: the config's `profile:`, else documented)",
    )
    parser.add_argument(
        "--calls-per-day",
        type=int,
        default=DEFAULT_CALLS_PER_DAY,
        help="volume per connection and day of the demo connections (a config sets its own)",
    )
    parser.add_argument(
        "--config", default=None, help="optional sandbox YAML (connections, volumes, faults, profile, seed, now)"
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"seed of the generated data (default: the config's `seed:`, else {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--now",
        type=_moment,
        default=None,
        metavar="ISO",
        help="freeze the clock at this moment, e.g. 2026-03-01T00:00:00Z, so the ground truth "
        "does not move (default: the config's `now:`, else wall time)",
    )
    parser.add_argument(
        "--providers",
        type=lambda v: [p.strip() for p in v.split(",") if p.strip()],
        default=None,
        help=f"comma-separated subset of {','.join(PROVIDER_IDS)} (without --config)",
    )
    return parser


def _moment(value: str) -> datetime:
    try:
        return parse_now(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: Sequence[str] | None = None, prog: str = "uc-pipeline sandbox") -> int:
    """`uc-pipeline sandbox [flags]`: parse the flags and serve until Ctrl-C."""
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        return serve_cli(
            port=args.port,
            host=args.host,
            profile=args.profile,
            calls_per_day=args.calls_per_day,
            config=args.config,
            seed=args.seed,
            providers=args.providers,
            now=args.now,
            default_profile="documented",
        )
    except (SandboxConfigError, LookupError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
