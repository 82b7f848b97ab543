"""The answer to a path no emulator route matches: the provider's own error body (its JSON error
shape, or 8x8's plain text), chosen by the path's provider prefix, so that a client under test parses
it exactly as it would the vendor's. An emulator can answer it itself with a `not_found(request)`
method; otherwise the renderers of its HTTP module below are used (imported only when served)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


def _aircall(path: str) -> Response:
    render = importlib.import_module("uc_pipeline.sandbox.aircall_http").error_response
    return render(404, "Not Found", f"No resource at {path}. Check the URL, e.g. /v1/calls.")


def _ringcentral(path: str) -> Response:
    render = importlib.import_module("uc_pipeline.sandbox.ringcentral_http").platform_error
    return render(404, "CMN-102", "Resource for parameter [uri] is not found", parameterName="uri", parameterValue=path)


def _zendesk(path: str) -> Response:
    render = importlib.import_module("uc_pipeline.sandbox.zendesk_http").error_response
    return render(404, {"error": "InvalidEndpoint", "description": "Not found"})


def _eightbyeight(path: str) -> Response:
    render = importlib.import_module("uc_pipeline.sandbox.eightbyeight").error_response
    return render(404, f"no resource {path}; use /api/recordings/files[.xml|.csv]")


RENDERERS: dict[str, Callable[[str], Response]] = {
    "aircall": _aircall,
    "ringcentral": _ringcentral,
    "zendesk": _zendesk,
    "eightbyeight": _eightbyeight,
}


def not_found(request: Request, emulators: Mapping[str, Any]) -> Response:
    """404 for `request` in the shape of the provider its path names (a JSON body naming what exists when
    the prefix names no provider)."""
    path = request.url.path
    provider = path.strip("/").split("/", 1)[0]
    if provider in emulators:
        own = getattr(emulators[provider], "not_found", None)
        if callable(own):
            return own(request)
        if provider in RENDERERS:
            return RENDERERS[provider](path.removeprefix(f"/{provider}"))
        return JSONResponse({"error": "Not Found", "message": f"no {provider} resource at {path}"}, status_code=404)
    served = ", ".join(f"/{p}/" for p in sorted(emulators))
    return JSONResponse(
        {"error": "Not Found", "message": f"no emulator serves {path}; served prefixes: {served} and /_sandbox/"},
        status_code=404,
    )
