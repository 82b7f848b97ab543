"""Connections: the YAML file that declares which provider accounts to extract, and its loader.

A connection is one account at one provider. The file names the environment variables that hold
its credentials, never the secrets themselves; `load_connections` resolves them and fails at load
time, naming the file, the entry and the fix, on any mistake.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from uc_pipeline.http import Quota
from uc_pipeline.providers import PROVIDER_IDS, get_provider

DEFAULT_HISTORY_START = date(2026, 1, 1)
CONNECTION_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ConnectionConfigError(ValueError):
    """The connections file is wrong; the message names the file, the entry and the fix."""


class Secret(str):
    """A credential value that never shows itself in repr, logs or exception messages."""

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True)
class Connection:
    """One account at one provider, with its credentials resolved from the environment."""

    provider: str
    connection_id: str
    base_url: str
    credentials: Mapping[str, Secret] = field(repr=False)
    credential_env: Mapping[str, str] = field(default_factory=dict)
    quotas: Mapping[str, Quota] = field(default_factory=dict)
    history_start: date = DEFAULT_HISTORY_START
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def secret_values(self) -> list[str]:
        """Every secret of this connection, for redaction."""
        return [str(v) for v in self.credentials.values() if v]

    def quota(self, group: str = "default") -> Quota:
        """The quota of `group`: the override from the file, else the provider's documented default."""
        if group in self.quotas:
            return self.quotas[group]
        return get_provider(self.provider).default_quotas[group]


def _fail(path: Path, where: str, problem: str, fix: str) -> ConnectionConfigError:
    return ConnectionConfigError(f"{path}: {where}: {problem}. Fix: {fix}")


def _parse_quotas(path: Path, where: str, raw: Any, groups: Mapping[str, Quota]) -> dict[str, Quota]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _fail(path, where, "`quota` must be a mapping", "write `quota: {requests: 60, per_seconds: 60}`")
    # A bare {requests, per_seconds} means the provider's main group.
    by_group = {"default": raw} if "requests" in raw else raw
    quotas: dict[str, Quota] = {}
    for group, spec in by_group.items():
        if group not in groups:
            raise _fail(path, where, f"unknown quota group {group!r}", f"use one of {sorted(groups)}")
        try:
            quotas[group] = Quota(
                requests=int(spec["requests"]),
                per_seconds=float(spec["per_seconds"]),
                penalty_seconds=(float(spec["penalty_seconds"]) if spec.get("penalty_seconds") is not None else None),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _fail(
                path,
                where,
                f"quota {group!r} is malformed ({exc})",
                "give integer `requests` and number `per_seconds` (optional `penalty_seconds`)",
            ) from None
        if quotas[group].requests < 1 or quotas[group].per_seconds <= 0:
            raise _fail(path, where, f"quota {group!r} must be positive", "use requests >= 1, per_seconds > 0")
    return quotas


def _parse_entry(path: Path, index: int, raw: Any, env: Mapping[str, str]) -> Connection:
    where = f"connections[{index}]"
    if not isinstance(raw, dict):
        raise _fail(path, where, "an entry must be a mapping", "see examples/connections.yaml")
    if raw.get("connection_id"):
        where += f" ({raw['connection_id']})"
    provider = raw.get("provider")
    if provider not in PROVIDER_IDS:
        raise _fail(path, where, f"unknown provider {provider!r}", f"use one of {', '.join(PROVIDER_IDS)}")
    spec = get_provider(provider)
    connection_id = str(raw.get("connection_id") or "")
    if not CONNECTION_ID_PATTERN.match(connection_id):
        raise _fail(
            path,
            where,
            f"connection_id {connection_id!r} is missing or invalid",
            "use 1-64 letters, digits, '.', '_' or '-' (it names a landing folder)",
        )
    base_url = str(raw.get("base_url") or spec.default_base_url or "").rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise _fail(path, where, f"base_url {base_url!r} is not an http(s) URL", "give the API's base URL")
    cred_env = raw.get("credentials") or {}
    if not isinstance(cred_env, dict):
        raise _fail(path, where, "`credentials` must map fields to variable names", "see the example file")
    credentials: dict[str, Secret] = {}
    for name in spec.credential_fields:
        var = cred_env.get(name)
        if not var:
            raise _fail(
                path,
                where,
                f"credential {name!r} has no environment variable",
                f"add `credentials: {{{name}: SOME_ENV_VAR}}` (fields: {', '.join(spec.credential_fields)})",
            )
        if var not in env or env[var] == "":
            raise _fail(path, where, f"environment variable {var} (for {name}) is not set", f"export {var}=...")
        credentials[name] = Secret(env[var])
    unknown = set(cred_env) - set(spec.credential_fields)
    if unknown:
        raise _fail(
            path,
            where,
            f"unknown credential field(s) {sorted(unknown)}",
            f"{provider} takes {', '.join(spec.credential_fields)}",
        )
    try:
        history_start = raw.get("history_start", DEFAULT_HISTORY_START)
        if not isinstance(history_start, date):
            history_start = date.fromisoformat(str(history_start))
    except ValueError:
        bad = raw.get("history_start")
        raise _fail(path, where, f"history_start {bad!r} is not a date", "use YYYY-MM-DD") from None
    return Connection(
        provider=provider,
        connection_id=connection_id,
        base_url=base_url,
        credentials=credentials,
        credential_env={k: str(v) for k, v in cred_env.items()},
        quotas=_parse_quotas(path, where, raw.get("quota"), spec.default_quotas),
        history_start=history_start,
        options=dict(raw.get("options") or {}),
    )


def load_connections(path: str | Path, env: Mapping[str, str] | None = None) -> list[Connection]:
    """Read and validate the connections file; every error names the file, the entry and the fix."""
    path = Path(path)
    env = os.environ if env is None else env
    if not path.is_file():
        raise ConnectionConfigError(
            f"{path}: connections file not found. Fix: set UC_CONNECTIONS_FILE to a connections YAML "
            "(see examples/connections.yaml) or run `uc-pipeline demo`."
        )
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConnectionConfigError(f"{path}: not valid YAML ({exc}). Fix: correct the syntax.") from None
    entries = doc.get("connections") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ConnectionConfigError(f"{path}: no `connections:` list. Fix: see examples/connections.yaml.")
    connections: list[Connection] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(entries):
        conn = _parse_entry(path, index, raw, env)
        if conn.connection_id in seen:
            raise _fail(
                path,
                f"connections[{index}] ({conn.connection_id})",
                f"duplicate connection_id (also connections[{seen[conn.connection_id]}])",
                "give every connection a unique connection_id",
            )
        seen[conn.connection_id] = index
        connections.append(conn)
    return connections
