"""Sandbox connections: the demo defaults, the optional sandbox YAML config, and the pipeline
connections file (plus environment) that points the pipeline at a running sandbox. What differs by
provider (credential fields, default time zone, pipeline options) comes from its emulator."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from uc_pipeline.sandbox.contract import Emulator
from uc_pipeline.sandbox.emulators import PROVIDER_IDS, load_emulator
from uc_pipeline.sandbox.faults import fault_spec_from
from uc_pipeline.sandbox.model import QuotaSpec, SandboxConnection

QUOTA_PROFILES = ("fast", "documented")
SETTINGS_KEYS = ("profile", "seed", "now", "connections")


class SandboxConfigError(ValueError):
    """The sandbox config file is wrong; the message names the file, the entry and the fix."""


def parse_now(value: object) -> datetime:
    """A moment to freeze the sandbox clock at: ISO-8601 (`2026-03-01`, `2026-03-01T12:00:00Z`); naive
    means UTC. ValueError names the expected form."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO-8601 moment (e.g. 2026-03-01 or 2026-03-01T12:00:00Z)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def credentials_for(
    provider: str, connection_id: str, seed: int, fields: Sequence[str] | None = None
) -> dict[str, str]:
    """Deterministic fake credentials in each field's usual shape."""
    if not fields and provider in PROVIDER_IDS:
        fields = load_emulator(provider).credential_fields
    if not fields:
        raise ValueError(f"unknown provider {provider!r}: give the credential field names")
    out = {}
    for name in fields:
        token = hashlib.sha256(f"{seed}:{connection_id}:{name}".encode()).hexdigest()
        if name == "tenant":
            out[name] = re.sub(r"[^a-z0-9]", "", connection_id.lower()) or "tenant"
        elif name == "email":
            out[name] = f"api+{connection_id.lower()}@example.com"
        elif name == "jwt":
            out[name] = f"eyJhbGciOiJSUzI1NiJ9.{token[:40]}.{token[40:]}"
        else:
            out[name] = f"{name.replace('_', '')}-{token[:32]}"
    return out


def default_connections(
    providers: Iterable[str], *, calls_per_day: int = 200, seed: int = 1, history_start: date = date(2026, 1, 1)
) -> list[SandboxConnection]:
    """One `demo-<provider>` connection per provider, each in its own time zone."""
    out = []
    for provider in providers:
        connection_id = f"demo-{provider}"
        out.append(SandboxConnection(
            provider=provider, connection_id=connection_id, credentials=credentials_for(provider, connection_id, seed),
            seed=seed, calls_per_day=calls_per_day, history_start=history_start,
            timezone=_default_timezone(provider),
        ))
    return out


def _default_timezone(provider: str) -> str:
    return getattr(load_emulator(provider), "default_timezone", "UTC") if provider in PROVIDER_IDS else "UTC"


def _pipeline_options(conn: SandboxConnection, emulators: Mapping[str, Emulator]) -> dict[str, Any]:
    """The `options:` of the pipeline connection, from the emulator's `pipeline_options` hook (if any)."""
    emulator = emulators.get(conn.provider)
    if emulator is None and conn.provider in PROVIDER_IDS:
        emulator = load_emulator(conn.provider)
    hook = getattr(emulator, "pipeline_options", None)
    return dict(hook(conn)) if callable(hook) else {}


def env_name(prefix: str, connection_id: str, field: str) -> str:
    return f"{prefix}{re.sub(r'[^A-Za-z0-9]', '_', connection_id).upper()}_{field.upper()}"


def connections_yaml(
    connections: Sequence[SandboxConnection], base_url: str, quotas: Mapping[str, Mapping[str, QuotaSpec]],
    env_prefix: str = "UC_", emulators: Mapping[str, Emulator] | None = None,
) -> tuple[str, dict[str, str]]:
    """(YAML text of a pipeline connections file, environment variable values) for `connections`, served
    at `base_url`, with the sandbox's effective `quotas` (connection_id -> group -> spec)."""
    entries: list[dict[str, Any]] = []
    env: dict[str, str] = {}
    for conn in connections:
        cred_env = {}
        for field, value in conn.credentials.items():
            var = env_name(env_prefix, conn.connection_id, field)
            cred_env[field] = var
            env[var] = value
        entries.append({
            "provider": conn.provider,
            "connection_id": conn.connection_id,
            "base_url": f"{base_url.rstrip('/')}/{conn.provider}",
            "credentials": cred_env,
            "quota": {group: {"requests": spec.requests, "per_seconds": spec.window_s,
                              "penalty_seconds": spec.penalty_s}
                      for group, spec in sorted(quotas.get(conn.connection_id, {}).items())},
            "history_start": conn.history_start.isoformat(),
        })
        if options := _pipeline_options(conn, emulators or {}):
            entries[-1]["options"] = options
    text = "# Generated for the uc-pipeline sandbox; secrets live in the environment variables named here.\n"
    text += yaml.safe_dump({"connections": entries}, sort_keys=False, allow_unicode=True)
    return text, env


def load_sandbox_config(
    path: str | Path, seed: int | None = None
) -> tuple[list[SandboxConnection], dict[str, Any]]:
    """(connections, settings) from a sandbox YAML config; `settings` holds the top-level keys given, parsed
    (`now` as an aware datetime). A connection without its own `seed` takes `seed` when given (a command
    line's), else the file's top-level `seed`, else 1.

    ```yaml
    profile: fast            # optional: fast | documented
    seed: 7                  # optional: the seed of every connection without its own
    now: 2026-03-01T00:00:00Z   # optional: freeze the clock (the ground truth does not move)
    connections:
      - provider: aircall
        connection_id: acme-aircall
        seed: 7
        calls_per_day: 500
        timezone: Europe/Paris
        history_start: 2026-01-01
        credentials: {api_id: ..., api_token: ...}   # optional: generated when absent
        quotas: {default: {requests: 60, window_s: 60, penalty_s: null}}
        faults: {error_5xx_rate: 0.02}
        options: {}
    ```
    """
    path = Path(path)
    if not path.is_file():
        raise SandboxConfigError(f"{path}: sandbox config not found. Fix: give an existing YAML file or omit it.")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SandboxConfigError(f"{path}: not valid YAML ({exc}). Fix: correct the syntax.") from None
    if not isinstance(doc, dict):
        raise SandboxConfigError(f"{path}: the file must be a mapping. Fix: see the docstring of load_sandbox_config.")
    for key in doc:
        if key not in SETTINGS_KEYS:
            match = difflib.get_close_matches(str(key), SETTINGS_KEYS, n=1, cutoff=0.6)
            fix = f"did you mean {match[0]!r}?" if match else f"use {', '.join(SETTINGS_KEYS)}"
            raise SandboxConfigError(f"{path}: unknown top-level key {key!r}. Fix: {fix}")
    raw_list = doc.get("connections")
    if not isinstance(raw_list, list) or not raw_list:
        raise SandboxConfigError(f"{path}: no `connections:` list. Fix: see the docstring of load_sandbox_config.")
    settings = {k: v for k, v in doc.items() if k != "connections"}
    if "profile" in settings and settings["profile"] not in QUOTA_PROFILES:
        raise SandboxConfigError(
            f"{path}: unknown profile {settings['profile']!r}. Fix: use one of {', '.join(QUOTA_PROFILES)}.")
    if "seed" in settings and (not isinstance(settings["seed"], int) or isinstance(settings["seed"], bool)):
        raise SandboxConfigError(f"{path}: seed {settings['seed']!r} is not an integer. Fix: e.g. `seed: 7`.")
    if "now" in settings:
        try:
            settings["now"] = parse_now(settings["now"])
        except ValueError as exc:
            raise SandboxConfigError(f"{path}: now: {exc}. Fix: e.g. `now: 2026-03-01T00:00:00Z`.") from None
    default_seed = seed if seed is not None else settings.get("seed", 1)
    connections = [_parse(path, i, raw, default_seed) for i, raw in enumerate(raw_list)]
    return connections, settings


def _parse(path: Path, index: int, raw: Any, default_seed: int = 1) -> SandboxConnection:
    where = f"{path}: connections[{index}]"
    if not isinstance(raw, dict):
        raise SandboxConfigError(f"{where}: an entry must be a mapping. Fix: see load_sandbox_config.")
    allowed = {"provider", "connection_id", "seed", "calls_per_day", "timezone", "history_start", "credentials",
               "quotas", "faults", "options"}
    unknown = set(raw) - allowed
    if unknown:
        raise SandboxConfigError(f"{where}: unknown key(s) {sorted(unknown)}. Fix: use {', '.join(sorted(allowed))}.")
    provider = raw.get("provider")
    if provider not in PROVIDER_IDS:
        raise SandboxConfigError(
            f"{where}: unknown provider {provider!r}. Fix: use one of {', '.join(PROVIDER_IDS)}.")
    connection_id = str(raw.get("connection_id") or f"demo-{provider}")
    seed = int(raw.get("seed", default_seed))
    try:
        quotas = {g: QuotaSpec(int(q["requests"]), float(q["window_s"]),
                               float(q["penalty_s"]) if q.get("penalty_s") is not None else None)
                  for g, q in (raw.get("quotas") or {}).items()}
        faults = fault_spec_from(raw.get("faults") or {})
        history_start = raw.get("history_start", date(2026, 1, 1))
        if not isinstance(history_start, date):
            history_start = date.fromisoformat(str(history_start))
        calls_per_day = int(raw.get("calls_per_day", 200))
    except (KeyError, TypeError, ValueError) as exc:
        raise SandboxConfigError(f"{where} ({connection_id}): {exc}. Fix: quotas need requests and window_s; "
                                 "history_start is YYYY-MM-DD; faults take FaultSpec fields.") from None
    return SandboxConnection(
        provider=provider, connection_id=connection_id,
        credentials={**credentials_for(provider, connection_id, seed), **(raw.get("credentials") or {})},
        seed=seed, calls_per_day=calls_per_day, history_start=history_start,
        timezone=str(raw.get("timezone") or _default_timezone(provider)), quotas=quotas, faults=faults,
        options=dict(raw.get("options") or {}),
    )
