"""What the HTTP layer reads from a response and how it judges it: the body, read as a stream and
capped; JSON decoding that turns any malformed body (deep nesting included) into one error; the
recognition of an HTML page where an API answer was expected; and of a local address that refuses
connections (a stopped sandbox or a wrong port rather than a provider's fault).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from typing import Any

import httpx

CHUNK_BYTES = 64 * 1024
_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.S | re.I)
_SPACE = re.compile(r"\s+")


class BodyTooLarge(Exception):
    """The response body exceeds the cap; `seen` is how much of it was read (or announced)."""

    def __init__(self, seen: int, announced: bool) -> None:
        super().__init__(seen)
        self.seen = seen
        self.announced = announced


def read_capped(response: httpx.Response, cap: int) -> bytes:
    """The decoded body of a streamed `response`, read chunk by chunk and abandoned as soon as it
    exceeds `cap` bytes. A Content-Length over the cap fails before reading: decoding never shrinks
    a body, so the decoded one would be over it too."""
    announced = response.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > cap:
        raise BodyTooLarge(int(announced), announced=True)
    body = bytearray()
    for chunk in response.iter_bytes(CHUNK_BYTES):
        body += chunk
        if len(body) > cap:
            raise BodyTooLarge(len(body), announced=False)
    return bytes(body)


def decode_json(content: bytes) -> Any:
    """The JSON value of `content`; ValueError for any body that is not JSON, deep nesting included
    (the decoder recurses once per level, so a hostile body could otherwise raise RecursionError)."""
    try:
        return json.loads(content)
    except RecursionError:
        raise ValueError("nested too deeply to decode") from None


def html_kind(response: httpx.Response, content: bytes) -> str | None:
    """The content type of an HTML page (a maintenance or login page) where an API answer was
    expected, else None."""
    ctype = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype in ("text/html", "application/xhtml+xml"):
        return ctype
    head = content[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return f"{ctype or 'no content type'}, an HTML document"
    return None


def excerpt(content: bytes, clean: Callable[[str], str], limit: int = 160, *, html: bool = False) -> str:
    """The first words of a body (tags stripped from HTML), at most `limit` characters, for messages.
    `clean` (redaction) runs before the cut, so that a secret cut in half cannot escape it."""
    text = clean(content[: max(limit * 50, 16384)].decode("utf-8", errors="replace"))
    if html:
        text = _TAG.sub(" ", text)
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_local(url: httpx.URL) -> bool:
    """`url` points at this machine (loopback or localhost), where a refused connection means that
    nothing listens on the port, not that a provider is down."""
    host = url.host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refused(exc: BaseException) -> bool:
    """`exc` (an httpx.ConnectError) comes from a refused connection."""
    seen: BaseException | None = exc
    for _ in range(8):  # the chain is short; bounded all the same
        if seen is None:
            break
        if isinstance(seen, ConnectionRefusedError) or "refused" in str(seen).lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False
