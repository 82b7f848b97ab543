"""Keeping secrets out of every message: the process-wide registry of secret values and the redaction
of text (exceptions, log records, failure descriptions).

A secret may come back from a provider in another form than the one we hold: the Basic credential
`user:password` as base64 (with or without `Basic `, standard or URL-safe alphabet, padded or not),
percent-encoded in an echoed URL, with `/` escaped in JSON, or a token obtained at run time (an OAuth
access or refresh token). So the registry stores every form of every value it is given, and anything
that holds or obtains a secret adds it: `ApiClient` adds its connection's credentials and every
`Authorization` value it sends (so bearer tokens of any auth flow are covered as soon as they are
used), an auth flow adds the tokens it is granted (`register_secret`). JWTs and credential-looking
URL parts, query parameters and header values are redacted by pattern as well, registered or not.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MIN_SECRET_LENGTH = 6  # shorter values would shred ordinary words; no provider issues credentials that short

_AUTH_HEADER = re.compile(r"(?i)\b(authorization|proxy-authorization|x-api-key|api[-_]?key)(\s*[:=]\s*)[^\s,;'\"}]+"
                          r"(\s+[^\s,;'\"}]+)?")
# A Basic/Bearer credential: long and holding a digit or base64 padding/symbols, so prose such as
# "basic authentication" stays readable.
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+(?=[A-Za-z0-9._~+/=-]*[0-9+/=])[A-Za-z0-9._~+/=-]{12,}")
_QUERY_SECRET = re.compile(
    r"(?i)([?&;](?:access_token|refresh_token|token|api_token|api_key|apikey|key|secret|client_secret|password|"
    r"passwd|assertion|jwt|code|signature|x-amz-signature|x-amz-credential|sig)=)[^&#\s'\"]*"
)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@")
# header.payload[.signature] of a JWT: both first parts are base64url JSON objects, so they start with eyJ.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?")
# Token fields of a JSON body or a form (an echoed grant request or response).
_TOKEN_FIELD = re.compile(r"(?i)([\"']?(?:access_token|refresh_token|id_token|client_secret|assertion)[\"']?\s*[:=]\s*"
                          r"[\"']?)[^\"'&\s,}]+")


def _b64_forms(raw: bytes) -> set[str]:
    """`raw` in base64, and the part of the base64 of any longer text holding `raw` that depends on
    `raw` alone, at each of the three byte alignments (e.g. `user:token` encoded holds the token's core)."""
    forms = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        forms |= {whole, whole.rstrip("=")}
        for shift in (0, 1, 2):
            # The first group mixes in what precedes the value, the last one what follows it.
            core = encode(b"\0" * shift + raw).decode("ascii")[4 if shift else 0:-4]
            if len(core) >= 16:
                forms.add(core)
    return forms


def secret_forms(value: str) -> set[str]:
    """`value` as it may be echoed: raw, percent-encoded, JSON-escaped, and base64 in its variants."""
    if len(value) < MIN_SECRET_LENGTH:
        return set()
    forms = {value, quote(value, safe=""), quote_plus(value), quote(value)} | _b64_forms(value.encode())
    forms |= {f.replace("/", "\\/") for f in forms}
    return {f for f in forms if len(f) >= MIN_SECRET_LENGTH}


class SecretRegistry:
    """Every secret this process holds or obtained, in every form; safe for threads."""

    def __init__(self) -> None:
        self._forms: set[str] = set()
        self._ordered: list[str] = []
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        """Register raw secret values (credentials, tokens)."""
        new: set[str] = set()
        for value in values:
            if value:
                new |= secret_forms(str(value))
        self._merge(new)

    def add_basic(self, user: str, password: str) -> None:
        """Register a Basic credential: `user:password` in each of its forms, and the password alone."""
        self.add(f"{user}:{password}", password)

    def add_authorization(self, header: str | None) -> None:
        """Register the credential of an `Authorization` header value as sent (`Basic <b64>`, `Bearer <token>`)."""
        if not header:
            return
        scheme, _, credential = header.strip().partition(" ")
        credential = credential.strip()
        if not credential:
            return
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(credential, validate=True).decode("utf-8")
            except (binascii.Error, ValueError):
                self.add(credential)
                return
            user, _, password = decoded.partition(":")
            self.add_basic(user, password)
        else:
            self.add(credential)

    def _merge(self, new: set[str]) -> None:
        if new <= self._forms:
            return
        with self._lock:
            self._forms |= new
            # Longest first, so that a value is replaced before any shorter value inside it.
            self._ordered = sorted(self._forms, key=len, reverse=True)

    def values(self) -> list[str]:
        return list(self._ordered)

    def redact(self, text: str, extra: Iterable[str] = ()) -> str:
        """`text` without any registered secret (nor any of `extra`), in any form, nor anything that
        looks like a credential."""
        extra_forms: set[str] = set()
        for value in extra:
            if value:
                extra_forms |= secret_forms(str(value))
        for form in sorted(extra_forms, key=len, reverse=True) + self._ordered:
            if form in text:
                text = text.replace(form, "***")
        text = _USERINFO.sub(r"\1***:***@", text)
        text = _QUERY_SECRET.sub(r"\1***", text)
        text = _AUTH_HEADER.sub(r"\1\2***", text)
        text = _JWT.sub("***", text)
        text = _TOKEN_FIELD.sub(r"\1***", text)
        return _BEARER.sub(r"\1 ***", text)


SECRETS = SecretRegistry()


def register_secret(*values: str | None) -> None:
    """Add secrets obtained at run time (e.g. OAuth tokens) to this process's redaction."""
    SECRETS.add(*values)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every registered secret and the given ones (in every form), credentials in URLs,
    token-like query parameters and fields, JWTs and Authorization header values replaced by ***."""
    return SECRETS.redact(text, secrets)


class RedactingFilter(logging.Filter):
    """Rewrites a log record whose text holds a registered secret or a credential-looking value."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


for _name in ("httpx", "httpcore", "uc_pipeline.http", "uc_pipeline"):
    logging.getLogger(_name).addFilter(RedactingFilter())
