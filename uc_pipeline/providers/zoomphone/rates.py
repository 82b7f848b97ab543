"""Zoom's rate headers (providers.md section 7 [ZM3], https://developers.zoom.us/docs/api/rate-limits/):
`X-RateLimit-Type` says which quota the `X-RateLimit-Limit`/`-Remaining` figures describe: `QPS` (per second)
or `Daily-limit` (per day, where `Retry-After` is a timestamp such as `2020-05-31T00:00:00Z`, the reset,
not a number of seconds; vendor-samples/zoomphone/rate_limit_daily_headers.http)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import httpx

from uc_pipeline.http import RateHeaders


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _timestamp(text: str | None) -> float | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def rate_headers(response: httpx.Response) -> RateHeaders:
    h = response.headers
    kind = (h.get("X-RateLimit-Type") or "").strip().lower()
    limit, remaining = _number(h.get("X-RateLimit-Limit")), _number(h.get("X-RateLimit-Remaining"))
    if kind == "daily-limit":
        # Daily figures say nothing of the per-second window; a 429 of this type is the day's budget spent.
        reset = _timestamp(h.get("Retry-After"))
        if response.status_code == 429:
            return RateHeaders(daily_reset_at=reset if reset is not None else _next_midnight())
        return RateHeaders()
    return RateHeaders(limit=int(limit) if limit is not None else None,
                       remaining=int(remaining) if remaining is not None else None,
                       retry_after=_number(h.get("Retry-After")), window=1.0 if kind == "qps" else None)


def _next_midnight() -> float:
    return (int(datetime.now(UTC).timestamp()) // 86400 + 1) * 86400.0
