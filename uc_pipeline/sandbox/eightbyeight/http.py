"""The 8x8 emulator's HTTP answers: the API's plain-text error bodies (the vendor's response-code table),
`Retry-After`, the realm of its Basic authentication and the methods its routes accept."""

from __future__ import annotations

import math
from collections.abc import Mapping

from starlette.responses import Response

REALM = "Virtual Contact Center"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# The reason phrases and meanings of the vendor's response-code table.
_STATUS_TEXT = {
    400: ("Bad request", "The syntax of the request was wrong"),
    401: ("Unauthorized", "Enter your tenant name as the username and your authentication token as the password"),
    403: ("Forbidden", "The request was not allowed, usually due to incorrect authentication"),
    404: ("Not found", "The requested resource was not found"),
    429: ("Too many requests", "Too many requests; slow down"),
    500: ("Internal error", "The server encountered an unexpected condition which prevented it from "
                            "fulfilling the request"),
    502: ("Bad gateway", "The server received an invalid response from an upstream server"),
    503: ("Server busy", "The server is currently unable to handle the request due to temporary overloading"),
}


def error_response(status: int, detail: str = "", headers: Mapping[str, str] | None = None) -> Response:
    """The API's plain-text error answer: status, reason phrase, meaning and what was wrong."""
    phrase, meaning = _STATUS_TEXT[status]
    body = f"{status} {phrase}: {meaning}" + (f" ({detail})" if detail else "") + "\n"
    return Response(body, status_code=status, media_type="text/plain; charset=UTF-8", headers=dict(headers or {}))


def retry_after(seconds: float | None) -> dict[str, str]:
    return {} if seconds is None else {"Retry-After": str(max(1, math.ceil(seconds)))}
