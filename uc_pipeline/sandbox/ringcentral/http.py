"""RingCentral's HTTP conventions in the emulator: JSON responses, the `X-Rate-Limit-*` quota headers,
the platform error body `{errorCode, message, errors[]}`, the OAuth error body
`{error, error_description, errors[]}`, and the answers to a refused admission (429 CMN-301 with
`Retry-After`, 5xx CMN-20x)."""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.responses import Response

from uc_pipeline.sandbox.model import Admission, QuotaState

JSON_TYPE = "application/json; charset=UTF-8"
# The names RingCentral puts in X-Rate-Limit-Group for our rate groups.
GROUP_HEADER_NAMES = {"default": "heavy", "auth": "auth"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), status_code=status,
                    headers=headers or {}, media_type=JSON_TYPE)


def quota_headers(quota: QuotaState) -> dict[str, str]:
    return {
        "X-Rate-Limit-Group": GROUP_HEADER_NAMES.get(quota.group, quota.group),
        "X-Rate-Limit-Limit": str(quota.limit),
        "X-Rate-Limit-Remaining": str(quota.remaining),
        "X-Rate-Limit-Window": f"{quota.window_s:g}",
    }


def platform_error(status: int, code: str, message: str, *, top_code: str | None = None,
                   headers: dict[str, str] | None = None, **extra: str) -> Response:
    """The platform's error body; `extra` (parameterName, parameterValue, ...) goes on the error entry."""
    entry: dict[str, Any] = {"errorCode": code, "message": message, **extra}
    body: dict[str, Any] = {"errorCode": top_code or code, "message": message, "errors": [entry], **extra}
    return json_response(body, status, headers)


def invalid_parameter(name: str, value: str, headers: dict[str, str] | None = None) -> Response:
    return platform_error(400, "CMN-101", f"Parameter [{name}] value is invalid.", headers=headers,
                          parameterName=name, parameterValue=value)


def not_found(name: str, value: str, headers: dict[str, str] | None = None) -> Response:
    return platform_error(404, "CMN-102", f"Resource for parameter [{name}] is not found", headers=headers,
                          parameterName=name, parameterValue=value)


def oauth_error(status: int, error: str, code: str, message: str) -> Response:
    return json_response({"error": error, "errors": [{"errorCode": code, "message": message}],
                          "error_description": message}, status)


def token_error(code: str, top: str, message: str) -> Response:
    """401 on a platform request whose access token is missing, unknown, revoked or expired."""
    return platform_error(401, code, message, top_code=top)


def refused(admission: Admission) -> Response | None:
    """The answer to a request the quota or an injected fault refuses, else None."""
    quota = admission.quota
    headers = quota_headers(quota)
    fault = admission.fault
    if quota.exceeded or fault in ("storm_429", "storm_429_no_retry_after"):
        if fault != "storm_429_no_retry_after":
            wait = quota.retry_after if quota.retry_after is not None else quota.window_s
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return platform_error(429, "CMN-301", "Request rate exceeded", headers=headers)
    if fault == "http_500":
        return platform_error(500, "CMN-203", "Internal Server Error", headers=headers)
    if fault in ("http_502", "http_503"):
        return platform_error(int(fault[5:]), "CMN-201", "Service Temporary Unavailable", headers=headers)
    return None
