"""Responses that break on the wire the way real networks and servers do: a connection reset after
part of the body, a body shorter than its Content-Length, and a 200 whose JSON/XML/CSV is corrupt."""

from __future__ import annotations

import logging

from starlette.responses import Response
from starlette.types import Receive, Scope, Send


class InjectedBodyFault(Exception):
    """Raised after a partial body so that the server drops the connection; never logged as an error."""


class _QuietInjected(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, InjectedBodyFault)


_FILTER = _QuietInjected()


def silence_injected_faults() -> None:
    """Keep uvicorn from printing a traceback for every injected reset or truncation."""
    for name in ("uvicorn.error", "uvicorn"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def _headers_without_length(response: Response) -> list[tuple[bytes, bytes]]:
    return [(k, v) for k, v in response.raw_headers if k.lower() != b"content-length"]


class _PartialBody(Response):
    """Sends the status, headers and the first half of `body`, then aborts the connection."""

    def __init__(self, original: Response, *, declare_length: bool) -> None:
        super().__init__(status_code=original.status_code)
        self._full = bytes(original.body)
        headers = _headers_without_length(original)
        if declare_length:
            headers.append((b"content-length", str(len(self._full)).encode()))
        self.raw_headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self._full[: len(self._full) // 2], "more_body": True})
        raise InjectedBodyFault("injected: connection dropped mid-body")


def reset_response(original: Response) -> Response:
    """Chunked body cut off half-way: the client sees the connection close mid-body."""
    return _PartialBody(original, declare_length=False)


def truncated_response(original: Response) -> Response:
    """Content-Length of the whole body, half of it sent, then the connection closes."""
    return _PartialBody(original, declare_length=True)


def malformed_response(original: Response) -> Response:
    """A complete, well-framed 200 whose body no JSON, XML or CSV parser accepts: cut mid-structure,
    then bytes that are not UTF-8 and an unbalanced quote and bracket."""
    body = bytes(original.body)
    corrupt = body[: max(len(body) // 2, 1)] + b'\xff\xfe"<unclosed attr="\x00{[' + b"\n"
    response = Response(content=corrupt, status_code=original.status_code)
    response.raw_headers = _headers_without_length(original) + [(b"content-length", str(len(corrupt)).encode())]
    return response
