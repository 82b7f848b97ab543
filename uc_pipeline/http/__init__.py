"""The shared HTTP layer: one rate-limited, retrying httpx client per connection, and the progress
guard every provider's paging loop feeds.

Modules: `client` (ApiClient), `types` (settings, quotas, rate headers, errors), `retry` (tenacity
policy, Retry-After), `quota` (the httpx hooks that take and release limiter slots), `limiter` and
`limiter_store` (the cross-process limiter and its SQLite/PostgreSQL/Redis stores), `body` (capped
reads, JSON decoding, HTML detection), `redact` (secrets out of every message) and `paging`
(`PagingGuard`). `from uc_pipeline.http import X` gives every public name below.
"""

from uc_pipeline.http.client import (
    RATE_GROUP_EXTENSION,
    ApiClient,
    ApiError,
    AuthError,
    BadRequestError,
    HttpSettings,
    HttpStats,
    LimiterError,
    MalformedResponseError,
    Quota,
    RateHeaderParser,
    RateHeaders,
    ResponseTooLargeError,
    RetriesExhaustedError,
)
from uc_pipeline.http.paging import DEFAULT_MAX_PARTITION_SECONDS, PagingError, PagingGuard

__all__ = [
    "DEFAULT_MAX_PARTITION_SECONDS", "RATE_GROUP_EXTENSION", "ApiClient", "ApiError", "AuthError", "BadRequestError",
    "HttpSettings", "HttpStats", "LimiterError", "MalformedResponseError", "PagingError", "PagingGuard", "Quota",
    "RateHeaderParser", "RateHeaders", "ResponseTooLargeError", "RetriesExhaustedError",
]
