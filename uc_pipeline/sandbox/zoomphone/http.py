"""Zoom Phone's HTTP conventions in the emulator: JSON bodies, the error body `{code, message}` (a code of
Zoom's own beside the HTTP status), the OAuth error body `{reason, error}`, the `X-RateLimit-*` headers of
the per-second ("QPS") and daily ("Daily-limit") quotas, and the answers to a refused admission.

Sources: providers.md section 7 [ZM2] (error codes 300, 124, 3001), [ZM3] (categories, header names, the
two 429 messages); vendor-samples/zoomphone/rate_limit_daily_headers.http (the Daily-limit headers, with
`Retry-After` a timestamp)."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from starlette.responses import Response

from uc_pipeline.sandbox.model import Admission, QuotaState

JSON_TYPE = "application/json;charset=UTF-8"
# Our rate groups -> Zoom's category names (X-RateLimit-Category).
CATEGORIES = {"heavy": "Heavy", "light": "Light", "medium": "Medium"}
QPS_MESSAGE = "You have reached the maximum per-second rate limit for this API. Try again later."
DAILY_MESSAGE = ("You have reached the maximum daily rate limit for this API. Refer to the response header for "
                 "details on when you can make another request.")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode(), status_code=status,
                    headers=headers or {}, media_type=JSON_TYPE)


def error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return json_response({"code": code, "message": message}, status, headers)


def validation_failed(message: str, headers: dict[str, str] | None = None) -> Response:
    """400 code 300, Zoom's answer to a parameter it refuses."""
    return error(400, 300, message, headers)


def oauth_error(status: int, reason: str, err: str) -> Response:
    return json_response({"reason": reason, "error": err}, status)


def qps_headers(quota: QuotaState) -> dict[str, str]:
    return {
        "X-RateLimit-Category": CATEGORIES.get(quota.group, quota.group),
        "X-RateLimit-Type": "QPS",
        "X-RateLimit-Limit": str(quota.limit),
        "X-RateLimit-Remaining": str(quota.remaining),
    }


def daily_refused(group: str, limit: int, reset_at: datetime) -> Response:
    """429 of a spent daily quota: headers as in Zoom's example, `Retry-After` the reset as a timestamp."""
    headers = {"X-RateLimit-Category": CATEGORIES.get(group, group), "X-RateLimit-Type": "Daily-limit",
               "X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
               "Retry-After": reset_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return error(429, 429, DAILY_MESSAGE, headers)


def refused(admission: Admission) -> Response | None:
    """The answer to a request the per-second quota or an injected fault refuses, else None."""
    quota = admission.quota
    headers = qps_headers(quota)
    fault = admission.fault
    if quota.exceeded or fault in ("storm_429", "storm_429_no_retry_after"):
        if fault != "storm_429_no_retry_after":
            wait = quota.retry_after if quota.retry_after is not None else quota.window_s
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return error(429, 429, QPS_MESSAGE, headers)
    if fault == "http_500":
        return error(500, 500, "Internal Error", headers)
    if fault in ("http_502", "http_503"):
        return error(int(fault[5:]), int(fault[5:]), "Service Unavailable", headers)
    return None
