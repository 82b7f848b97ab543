"""Sandbox connections: the demo defaults, the optional sandbox YAML config, and the pipeline
connections file (plus environment) that points the pipeline at a running sandbox."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from uc_pipeline.sandbox.faults import fault_spec_from
from uc_pipeline.sandbox.model import QuotaSpec, SandboxConnection

CREDENTIAL_FIELDS: dict[str, tuple[str, ...]] = {
    "aircall": ("api_id", "api_token"),
    "ringcentral": ("client_id", "client_secret", "jwt"),
    "eightbyeight": ("tenant", "token"),
    "zendesk": ("email", "api_token"),
}
# Distinct zones, so that local-time handling (8x8 offsets, daily curves) is exercised.
DEFAULT_TIMEZONES: dict[str, str] = {
    "aircall": "Europe/Paris", "ringcentral": "America/New_York",
    "eightbyeight": "America/Los_Angeles", "zendesk": "Europe/London",
}


class SandboxConfigError(ValueError):
    """The sandbox config file is wrong; the message names the file, the entry and the fix."""


def credentials_for(
    provider: str, connection_id: str, seed: int, fields: Sequence[str] | None = None
) -> dict[str, str]:
    """Deterministic fake credentials in each field's usual shape."""
    fields = fields or CREDENTIAL_FIELDS.get(provider, ())
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
            timezone=DEFAULT_TIMEZONES.get(provider, "UTC"),
        ))
    return out


def env_name(prefix: str, connection_id: str, field: str) -> str:
    return f"{prefix}{re.sub(r'[^A-Za-z0-9]', '_', connection_id).upper()}_{field.upper()}"


def connections_yaml(
    connections: Sequence[SandboxConnection], base_url: str, quotas: Mapping[str, Mapping[str, QuotaSpec]],
    env_prefix: str = "UC_",
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
    text = "# Generated for the uc-pipeline sandbox; secrets live in the environment variables named here.\n"
    text += yaml.safe_dump({"connections": entries}, sort_keys=False, allow_unicode=True)
    return text, env


def load_sandbox_config(path: str | Path) -> tuple[list[SandboxConnection], dict[str, Any]]:
    """(connections, settings) from a sandbox YAML config:

    ```yaml
    profile: fast            # optional: fast | documented
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
    raw_list = doc.get("connections") if isinstance(doc, dict) else None
    if not isinstance(raw_list, list) or not raw_list:
        raise SandboxConfigError(f"{path}: no `connections:` list. Fix: see the docstring of load_sandbox_config.")
    connections = [_parse(path, i, raw) for i, raw in enumerate(raw_list)]
    settings = {k: v for k, v in doc.items() if k != "connections"}
    return connections, settings


def _parse(path: Path, index: int, raw: Any) -> SandboxConnection:
    where = f"{path}: connections[{index}]"
    if not isinstance(raw, dict):
        raise SandboxConfigError(f"{where}: an entry must be a mapping. Fix: see load_sandbox_config.")
    allowed = {"provider", "connection_id", "seed", "calls_per_day", "timezone", "history_start", "credentials",
               "quotas", "faults", "options"}
    unknown = set(raw) - allowed
    if unknown:
        raise SandboxConfigError(f"{where}: unknown key(s) {sorted(unknown)}. Fix: use {', '.join(sorted(allowed))}.")
    provider = raw.get("provider")
    if provider not in CREDENTIAL_FIELDS:
        raise SandboxConfigError(
            f"{where}: unknown provider {provider!r}. Fix: use one of {', '.join(CREDENTIAL_FIELDS)}.")
    connection_id = str(raw.get("connection_id") or f"demo-{provider}")
    seed = int(raw.get("seed", 1))
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
        timezone=str(raw.get("timezone", DEFAULT_TIMEZONES[provider])), quotas=quotas, faults=faults,
        options=dict(raw.get("options") or {}),
    )
