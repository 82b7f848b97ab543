"""The answer to a path no emulator route matches: the provider's own error body (its JSON error shape,
or 8x8's plain text), so that a client under test parses it exactly as it would the vendor's. The
emulator the path's prefix names answers it with its `not_found(request)` hook; an emulator without
one (a test's own) gets a plain JSON 404."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


def not_found(request: Request, emulators: Mapping[str, Any]) -> Response:
    """404 for `request` in the shape of the provider its path names (a JSON body naming what exists when
    the prefix names no provider)."""
    path = request.url.path
    provider = path.strip("/").split("/", 1)[0]
    if provider in emulators:
        own = getattr(emulators[provider], "not_found", None)
        if callable(own):
            return own(request)
        return JSONResponse({"error": "Not Found", "message": f"no {provider} resource at {path}"}, status_code=404)
    served = ", ".join(f"/{p}/" for p in sorted(emulators))
    return JSONResponse(
        {"error": "Not Found", "message": f"no emulator serves {path}; served prefixes: {served} and /_sandbox/"},
        status_code=404,
    )
