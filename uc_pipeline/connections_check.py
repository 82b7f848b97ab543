"""The checks of one entry of the connections file, and the list of problems they report.

Every problem names the entry, the key and the fix (with the closest known key when one is
misspelled). Nothing a user may have pasted by mistake is printed back: a URL's user, password
and query are masked, and a credential value that is not a variable name is described, not shown.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from uc_pipeline.http import Quota
from uc_pipeline.providers import PROVIDER_IDS, enabled_provider_ids, get_provider
from uc_pipeline.settings import PROVIDERS_ENV

ENTRY_KEYS = ("provider", "connection_id", "base_url", "credentials", "quota", "history_start", "options")
QUOTA_KEYS = ("requests", "per_seconds", "penalty_seconds")
# POSIX shells' variable names: what `export NAME=...` accepts.
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ConnectionConfigError(ValueError):
    """The connections file is wrong; the message names the file, the entry and the fix."""


class Problems:
    """The problems found in one file, reported together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._items: list[tuple[str, str, str]] = []

    def add(self, where: str, problem: str, fix: str) -> None:
        self._items.append((where, problem, fix))

    def __len__(self) -> int:
        return len(self._items)

    def raise_if_any(self) -> None:
        if not self._items:
            return
        if len(self._items) == 1:
            ((where, problem, fix),) = self._items
            raise ConnectionConfigError(f"{self.path}: {where}: {problem}. Fix: {fix}")
        lines = [f"  - {where}: {problem}. Fix: {fix}" for where, problem, fix in self._items]
        raise ConnectionConfigError(f"{self.path}: {len(self._items)} problems:\n" + "\n".join(lines))


def close_match(key: Any, known: Iterable[str]) -> str:
    """The fix for an unknown key: the known key it most likely misspells, else the list of known keys."""
    known = list(known)
    match = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    if match:
        return f"did you mean {match[0]!r}?"
    return f"use one of {', '.join(known)}"


def redact_url(url: str) -> str:
    """`url` with its user, password, query and fragment masked: what may be printed of it."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<an unparsable URL>"
    netloc = ("***@" if "@" in parts.netloc else "") + host + port
    return urlunsplit((parts.scheme, netloc, parts.path, "***" if parts.query else "", "***" if parts.fragment else ""))


def check_entry(
    problems: Problems, index: int, raw: Any, id_pattern: re.Pattern[str], default_start: date
) -> dict[str, Any] | None:
    """The fields of a `ConnectionEntry` from entry `index`, or None after adding its problems."""
    where = f"connections[{index}]"
    if not isinstance(raw, dict):
        problems.add(where, "an entry must be a mapping", "see examples/connections.yaml")
        return None
    before = len(problems)
    misspelled: dict[str, str] = {}
    for key in raw:
        if key not in ENTRY_KEYS:
            match = difflib.get_close_matches(str(key), ENTRY_KEYS, n=1, cutoff=0.6)
            if match and match[0] not in raw:
                misspelled[match[0]] = key
    label_id = raw.get("connection_id") or raw.get(misspelled.get("connection_id", ""))
    if label_id and id_pattern.match(str(label_id)):
        where += f" ({label_id})"
    for key in raw:
        if key not in ENTRY_KEYS:
            problems.add(where, f"unknown key {key!r}", close_match(key, ENTRY_KEYS))
    provider = raw.get("provider")
    if provider not in PROVIDER_IDS:
        if "provider" not in misspelled:
            shown = repr(provider) if provider is None or ENV_NAME.match(str(provider)) else "(not shown)"
            match = difflib.get_close_matches(str(provider).lower(), PROVIDER_IDS, n=1, cutoff=0.6)
            hint = f"did you mean {match[0]!r}? " if match else ""
            problems.add(where, f"unknown provider {shown}", f"{hint}use one of {', '.join(PROVIDER_IDS)}")
        return None
    enabled = enabled_provider_ids()
    if provider not in enabled:
        problems.add(where,
                     f"provider {provider} is not among the providers this deployment uses "
                     f"({PROVIDERS_ENV}={','.join(enabled)})",
                     f"add {provider} to {PROVIDERS_ENV}, or remove this entry")
        return None
    spec = get_provider(provider)
    connection_id = str(raw.get("connection_id") or "")
    if not id_pattern.match(connection_id) and "connection_id" not in misspelled:
        problems.add(
            where,
            "connection_id is missing" if not connection_id else f"connection_id {connection_id[:70]!r} is invalid",
            "use 1-64 letters, digits, '.', '_' or '-' (it names a landing folder)",
        )
    base_url = str(raw.get("base_url") or spec.default_base_url or "").rstrip("/")
    _check_base_url(problems, where, base_url, "base_url" in misspelled)
    credential_env = _check_credentials(
        problems,
        where,
        raw.get("credentials"),
        spec.credential_fields,
        str(label_id or provider),
        getattr(spec, "optional_credential_fields", ()),
    )
    quotas = _check_quotas(problems, where, raw.get("quota"), spec.default_quotas)
    history_start = raw.get("history_start", default_start)
    if isinstance(history_start, datetime):
        history_start = history_start.date()  # YAML reads `2026-01-01 00:00` as a timestamp
    elif not isinstance(history_start, date):
        try:
            history_start = date.fromisoformat(str(history_start))
        except ValueError:
            problems.add(where, f"history_start {str(history_start)[:40]!r} is not a date", "use YYYY-MM-DD")
    options = raw.get("options") or {}
    if not isinstance(options, dict):
        problems.add(where, "`options` must be a mapping", "write `options: {name: value}`")
    else:
        # A provider that declares its options gets them checked; the others take any.
        known_options = getattr(spec, "option_names", None)
        for key in options if known_options is not None else ():
            if key not in known_options:
                problems.add(where, f"unknown option {key!r}", close_match(key, known_options))
    if len(problems) > before:
        return None
    return {
        "provider": provider,
        "connection_id": connection_id,
        "base_url": base_url,
        "credential_env": credential_env,
        "quotas": quotas,
        "history_start": history_start,
        "options": dict(options),
    }


def _check_base_url(problems: Problems, where: str, base_url: str, misspelled: bool) -> None:
    if misspelled and not base_url:
        return  # the misspelled key is the problem
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        problems.add(where, f"base_url {redact_url(base_url)!r} is not a valid URL", "give the API's base URL")
        return
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.add(where, f"base_url {redact_url(base_url)!r} is not an http(s) URL", "give the API's base URL")
    if parts.username is not None or parts.password is not None:
        problems.add(
            where,
            f"base_url {redact_url(base_url)!r} carries credentials (user:password@)",
            "remove them from the URL and put them in environment variables named under `credentials:`; "
            "rotate that password if the file was shared",
        )
    if parts.query or parts.fragment:
        problems.add(
            where,
            f"base_url {redact_url(base_url)!r} carries a query string or fragment",
            "give the bare base URL; tokens go in environment variables named under `credentials:`",
        )


def _check_credentials(
    problems: Problems,
    where: str,
    raw: Any,
    fields: tuple[str, ...],
    connection_id: str,
    optional: tuple[str, ...] = (),
) -> dict[str, str]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problems.add(where, "`credentials` must map fields to variable names", "see examples/connections.yaml")
        return {}
    misspelled = set()
    known = (*fields, *optional)
    for name in raw:
        if name not in known:
            match = difflib.get_close_matches(str(name), known, n=1, cutoff=0.6)
            misspelled.update(m for m in match if m not in raw)
            problems.add(where, f"unknown credential field {name!r}", close_match(name, known))
    out: dict[str, str] = {}
    # An optional field is checked like the others when it is named, and may be left out.
    for name in (*fields, *(f for f in optional if f in raw)):
        var = raw.get(name)
        suggested = re.sub(r"[^A-Za-z0-9]", "_", f"{connection_id or 'MY'}_{name}").upper()
        if var is None or var == "":
            if name not in misspelled:
                problems.add(
                    where,
                    f"credential {name!r} has no environment variable",
                    f"add `credentials: {{{name}: {suggested}}}` (fields: {', '.join(fields)})",
                )
        elif not isinstance(var, str) or not ENV_NAME.match(var) or _looks_like_secret(var):
            # Most likely the secret itself: described, never shown.
            problems.add(
                where,
                f"credential {name!r} holds a value that is not an environment variable name "
                f"({len(str(var))} characters, not shown: it looks like the secret itself)",
                f"`export {suggested}=<the secret>` and write `{name}: {suggested}`; "
                "rotate the secret if this file was shared",
            )
        else:
            out[name] = var
    return out


def _looks_like_secret(name: str) -> bool:
    """A valid variable name that reads like a token: long, mixed case and digits, no word separator."""
    return len(name) >= 16 and "_" not in name and any(c.isdigit() for c in name) and any(c.islower() for c in name)


def _check_quotas(problems: Problems, where: str, raw: Any, groups: Mapping[str, Quota]) -> dict[str, Quota]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add(where, "`quota` must be a mapping", "write `quota: {requests: 60, per_seconds: 60}`")
        return {}
    # A bare {requests, per_seconds} means the provider's main group; a misspelled field still means bare.
    bare = not any(key in groups for key in raw) and any(
        difflib.get_close_matches(str(key), QUOTA_KEYS, n=1, cutoff=0.6) for key in raw
    )
    by_group = {"default": raw} if bare else raw
    quotas: dict[str, Quota] = {}
    for group, spec in by_group.items():
        if group not in groups:
            problems.add(where, f"unknown quota group {group!r}", close_match(group, groups))
            continue
        label = f"quota {group!r}"
        if not isinstance(spec, dict):
            problems.add(where, f"{label} must be a mapping", "write `{requests: 60, per_seconds: 60}`")
            continue
        unknown = [key for key in spec if key not in QUOTA_KEYS]
        for key in unknown:
            problems.add(where, f"unknown key {key!r} in {label}", close_match(key, QUOTA_KEYS))
        if unknown:
            continue
        try:
            quota = Quota(
                requests=int(spec["requests"]),
                per_seconds=float(spec["per_seconds"]),
                penalty_seconds=(float(spec["penalty_seconds"]) if spec.get("penalty_seconds") is not None else None),
            )
        except (KeyError, TypeError, ValueError) as exc:
            problems.add(
                where,
                f"{label} is malformed ({type(exc).__name__}: {exc})",
                "give integer `requests` and number `per_seconds` (optional `penalty_seconds`)",
            )
            continue
        if quota.requests < 1 or quota.per_seconds <= 0:
            problems.add(where, f"{label} must be positive", "use requests >= 1, per_seconds > 0")
            continue
        quotas[group] = quota
    return quotas
