"""Connections: the YAML file that declares which provider accounts to extract, and its loader.

A connection is one account at one provider. The file names the environment variables that hold
its credentials, never the secrets themselves. The file is strict: `read_connections_file` checks
its structure (unknown or misspelled keys, ids equal but for case, credentials inside a URL, values
pasted where a variable name belongs) without reading the environment, so the code location can
check it where secrets are absent; `load_connections` also resolves the credentials. Either reports
every problem at once, each naming the file, the entry, the key and the fix, and never a secret.
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

from uc_pipeline.connections_check import ConnectionConfigError, Problems, check_entry, close_match
from uc_pipeline.http import Quota
from uc_pipeline.providers import get_provider

__all__ = [
    "CONNECTION_ID_PATTERN",
    "DEFAULT_HISTORY_START",
    "Connection",
    "ConnectionConfigError",
    "ConnectionEntry",
    "Secret",
    "load_connections",
    "read_connections_file",
]

DEFAULT_HISTORY_START = date(2026, 1, 1)
CONNECTION_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
TOP_KEYS = ("connections",)


class Secret(str):
    """A credential value that never shows itself in repr, logs or exception messages."""

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True)
class ConnectionEntry:
    """One checked entry of the file, credentials not resolved (only the names of their variables)."""

    provider: str
    connection_id: str
    base_url: str
    credential_env: Mapping[str, str]
    quotas: Mapping[str, Quota] = field(default_factory=dict)
    history_start: date = DEFAULT_HISTORY_START
    options: Mapping[str, Any] = field(default_factory=dict)


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


def read_connections_file(path: str | Path) -> list[ConnectionEntry]:
    """Read and check the connections file without touching the environment; raises
    ConnectionConfigError listing every problem (file, entry, key and fix)."""
    path = Path(path)
    problems = Problems(path)
    entries = _checked_entries(path, problems)
    problems.raise_if_any()
    return [entry for _, entry in entries]


def load_connections(path: str | Path, env: Mapping[str, str] | None = None) -> list[Connection]:
    """Read and check the file, then resolve every credential from `env` (default: the process
    environment); raises ConnectionConfigError listing every problem, all missing variables included."""
    path = Path(path)
    env = os.environ if env is None else env
    problems = Problems(path)
    entries = _checked_entries(path, problems)
    connections: list[Connection] = []
    for index, entry in entries:
        where = f"connections[{index}] ({entry.connection_id})"
        credentials: dict[str, Secret] = {}
        for name, var in entry.credential_env.items():
            if env.get(var):
                credentials[name] = Secret(env[var])
            else:
                problems.add(where, f"environment variable {var} (for {name}) is not set", f"export {var}=...")
        connections.append(
            Connection(
                provider=entry.provider,
                connection_id=entry.connection_id,
                base_url=entry.base_url,
                credentials=credentials,
                credential_env=dict(entry.credential_env),
                quotas=dict(entry.quotas),
                history_start=entry.history_start,
                options=dict(entry.options),
            )
        )
    problems.raise_if_any()
    return connections


def _checked_entries(path: Path, problems: Problems) -> list[tuple[int, ConnectionEntry]]:
    """(index, entry) of the entries that passed every check; the others' problems go to `problems`."""
    if not path.is_file():
        raise ConnectionConfigError(
            f"{path}: connections file not found. Fix: set UC_CONNECTIONS_FILE to a connections YAML "
            "(see examples/connections.yaml) or run `uc-pipeline demo`."
        )
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConnectionConfigError(f"{path}: not valid YAML ({exc}). Fix: correct the syntax.") from None
    if not isinstance(doc, dict):
        raise ConnectionConfigError(f"{path}: no `connections:` list. Fix: see examples/connections.yaml.")
    for key in doc:
        if key not in TOP_KEYS:
            problems.add("top level", f"unknown key {key!r}", close_match(key, TOP_KEYS))
    entries_raw = doc.get("connections")
    if not isinstance(entries_raw, list):
        if "connections" in doc or not problems:
            problems.add("top level", "no `connections:` list", "see examples/connections.yaml")
        problems.raise_if_any()
    entries: list[tuple[int, ConnectionEntry]] = []
    seen: dict[str, tuple[int, str]] = {}
    for index, raw in enumerate(entries_raw):
        checked = check_entry(problems, index, raw, CONNECTION_ID_PATTERN, DEFAULT_HISTORY_START)
        if checked is None:
            continue
        entry = ConnectionEntry(**checked)
        where = f"connections[{index}] ({entry.connection_id})"
        # Case-folded: the ids name landing folders, which collide on case-insensitive file systems.
        key = entry.connection_id.casefold()
        if key in seen:
            other, other_id = seen[key]
            same = other_id == entry.connection_id
            problems.add(
                where,
                f"duplicate connection_id (also connections[{other}])"
                if same
                else f"connection_id differs only in case from connections[{other}] ({other_id})",
                "give every connection a unique connection_id"
                + ("" if same else " (their landing folders would be the same on macOS or Windows)"),
            )
            continue
        seen[key] = (index, entry.connection_id)
        entries.append((index, entry))
    return entries
