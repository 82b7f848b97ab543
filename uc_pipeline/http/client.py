"""The shared HTTP layer: one rate-limited, retrying httpx client per connection.

Owns: quotas per (connection, rate group) shared by every process and thread, reading the
providers' rate headers to slow down before a 429, honouring 429s (counted), retrying 5xx,
resets, timeouts and HTML pages (maintenance pages served with 200) with backoff, failing fast with a
helpful message on 400/401/403/404/422, on a body over the size cap and on a refused local address,
and keeping secrets out of every message (`uc_pipeline.http.redact`). Bodies are read as a stream
and abandoned at `HttpSettings.max_response_bytes` (`uc_pipeline.http.body`). Provider modules
describe their quotas and headers; they never sleep or retry themselves.

How: every request httpx sends (including the re-sends of an `httpx.Auth` flow, e.g. a token
refresh after a 401) passes an httpx event hook that takes a slot of its rate group from the shared
limiter (`uc_pipeline.http.limiter`, selected by `HttpSettings.limiter_url`) and releases it when
the response arrives; the response hook reads the provider's rate headers and, when they say the
quota is spent or the answer is a 429, blocks the key for every process. Retries run on tenacity
(`uc_pipeline.http.retry`); the hooks live in `uc_pipeline.http.quota`. An auth flow may route a
request it yields to another rate group with `request.extensions["uc_rate_group"] = "auth"`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import tenacity

from uc_pipeline.http.body import BodyTooLarge, decode_json, excerpt, html_kind, is_local, read_capped, refused
from uc_pipeline.http.limiter import LimiterError, get_limiter
from uc_pipeline.http.quota import RATE_GROUP_EXTENSION, Call, QuotaHooks
from uc_pipeline.http.redact import SECRETS, redact_text
from uc_pipeline.http.retry import (
    RETRY_STATUSES,
    RETRYABLE_TRANSPORT,
    RetryableFailure,
    parse_retry_after,
    retrying,
)
from uc_pipeline.http.types import (
    ApiError,
    AuthError,
    BadRequestError,
    HttpSettings,
    HttpStats,
    MalformedResponseError,
    Quota,
    RateHeaderParser,
    RateHeaders,
    ResponseTooLargeError,
    RetriesExhaustedError,
)

__all__ = [
    "RATE_GROUP_EXTENSION", "ApiClient", "ApiError", "AuthError", "BadRequestError", "HttpSettings", "HttpStats",
    "LimiterError", "MalformedResponseError", "Quota", "RateHeaderParser", "RateHeaders", "ResponseTooLargeError",
    "RetriesExhaustedError",
]

log = logging.getLogger("uc_pipeline.http")
# A local address that refuses connections is tried this many times (a sandbox restarting), not max_attempts.
LOCAL_REFUSED_ATTEMPTS = 3

_HINTS = {
    400: "the request parameters (window, page size) and the provider's documented limits",
    401: "the credentials of this connection (environment variables named in the connections file)",
    403: "the credentials and the account's permissions for this API",
    404: "the connection's base_url and the account id",
    422: "the request parameters against the provider's documentation",
}


class ApiClient(QuotaHooks):
    """A rate-limited, retrying httpx client for one connection.

    `transport` replaces the network (tests use `httpx.MockTransport`); everything else about the
    client is the same.
    """

    def __init__(
        self,
        connection_id: str,
        base_url: str,
        *,
        quotas: Mapping[str, Quota],
        settings: HttpSettings,
        auth: httpx.Auth | None = None,
        rate_headers: RateHeaderParser | None = None,
        secrets: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not quotas:
            raise ValueError(f"[{connection_id}] no quotas given; pass the provider's quotas by rate group")
        self.connection_id = connection_id
        self.quotas = dict(quotas)
        self.settings = settings
        self.stats = HttpStats()
        self._rate_headers = rate_headers
        self._secrets = [str(s) for s in secrets if s]
        SECRETS.add(*self._secrets)
        for name, value in (headers or {}).items():
            if name.lower() in ("authorization", "proxy-authorization"):
                SECRETS.add_authorization(value)
        if isinstance(auth, httpx.BasicAuth):
            # The encoded form is registered before any request, so that no echo of it can come first.
            SECRETS.add_authorization(next(auth.auth_flow(httpx.Request("GET", base_url))).headers["Authorization"])
        self._limiter = get_limiter(settings.limiter_url)
        # A slot whose process died mid-request counts this long after acquisition, plus a window.
        self._stale_s = max(4 * settings.timeout_s, 60.0)
        self._local = threading.local()
        self._stats_lock = threading.Lock()
        self._client = httpx.Client(
            base_url=base_url,
            auth=auth,
            timeout=settings.timeout_s,
            headers={"User-Agent": settings.user_agent, **(headers or {})},
            transport=transport,
            event_hooks={"request": [self._on_request], "response": [self._on_response]},
        )

    def redact(self, text: str) -> str:
        """`text` with every secret of this connection and of the process, in any form (and any
        credential-looking URL part, token field, JWT or Authorization value) replaced by ***."""
        return redact_text(text, self._secrets)

    # -- one request, retried --------------------------------------------------------------------

    def request(self, method: str, url: str, *, group: str = "default", **kwargs: Any) -> httpx.Response:
        """Send one request under the quota of `group`, retrying what is worth retrying."""
        endpoint = self._endpoint(url)
        max_attempts = self.settings.max_attempts

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            reason = exc.reason if isinstance(exc, RetryableFailure) else repr(exc)
            when = "after the pause" if isinstance(exc, RetryableFailure) and exc.throttled else (
                f"in {state.upcoming_sleep:.2f}s")
            log.warning(self.redact(f"[{self.connection_id}] {method} {endpoint}: {reason}; "
                                    f"retry {state.attempt_number + 1}/{max_attempts} {when}"))

        controller = retrying(max_attempts, self.settings.backoff_base_s, self.settings.backoff_max_s, before_sleep)
        try:
            for attempt in controller:
                with attempt:
                    number = attempt.retry_state.attempt_number
                    if number > 1:
                        with self._stats_lock:
                            self.stats.retries += 1
                    try:
                        response = self._attempt(method, url, group, dict(kwargs))
                    except RetryableFailure as exc:
                        if exc.refused_local and number >= min(LOCAL_REFUSED_ATTEMPTS, max_attempts):
                            raise self._refused_error(method, endpoint, url, number) from None
                        raise
        except RetryableFailure as exc:
            if exc.refused_local:
                raise self._refused_error(method, endpoint, url, max_attempts) from None
            raise RetriesExhaustedError(
                self.redact(
                    f"[{self.connection_id}] {method} {endpoint}: gave up after {max_attempts} attempts (last: "
                    f"{exc.reason}). The provider may be down or overloaded: check its status page, then re-run "
                    "the partition (nothing of it was landed); raise HttpSettings.max_attempts on a flaky network."
                ),
                connection_id=self.connection_id,
            ) from None
        return response

    def _attempt(self, method: str, url: str, group: str, kwargs: dict[str, Any]) -> httpx.Response:
        calls = self._calls()
        call = Call(group)
        calls.append(call)
        auth = kwargs.pop("auth", httpx.USE_CLIENT_DEFAULT)
        follow = kwargs.pop("follow_redirects", httpx.USE_CLIENT_DEFAULT)
        cap = self.settings.max_response_bytes
        try:
            request = self._client.build_request(method, url, **kwargs)
            response = self._client.send(request, auth=auth, follow_redirects=follow, stream=True)
            try:
                # Read within the try, so that a reset or a truncation mid-body is retried too.
                content = read_capped(response, cap)
            finally:
                response.close()
            response._content = content  # what `read()` would have set: .content/.text/.json() work as usual
        except BodyTooLarge as exc:
            raise ResponseTooLargeError(
                self.redact(f"[{self.connection_id}] {method} {self._endpoint(url)} answered a body "
                            f"{'announced at' if exc.announced else 'of more than'} {exc.seen:,} bytes, over the "
                            f"cap of {cap:,} bytes; it was not read further. Check that base_url points at the "
                            "provider's API and the page size option; raise the cap (PipelineResource."
                            "http_max_response_mb, HttpSettings.max_response_bytes) only for pages this large."),
                connection_id=self.connection_id,
            ) from None
        except httpx.ConnectError as exc:
            local = refused(exc) and is_local(exc.request.url)
            raise RetryableFailure(self.redact(f"{type(exc).__name__}: {exc}"), refused_local=local) from None
        except RETRYABLE_TRANSPORT as exc:
            raise RetryableFailure(self.redact(f"{type(exc).__name__}: {exc}")) from None
        except httpx.HTTPError as exc:
            raise ApiError(
                self.redact(f"[{self.connection_id}] {method} {self._endpoint(url)}: the request could not be "
                            f"sent ({type(exc).__name__}: {exc}). Check the connection's base_url."),
                connection_id=self.connection_id,
            ) from None
        finally:
            calls.pop()
            for key, slot, _ in call.slots.values():  # requests that got no response
                try:
                    self._limiter.release(key, slot)
                except LimiterError as exc:
                    # The error already under way says more; an unreleased slot expires as a stale one.
                    log.warning("[%s] slot %d not released: %s", key, slot, exc)
        with self._stats_lock:
            self.stats.bytes += len(content)
        status = response.status_code
        if status < 400:
            kind = html_kind(response, content)
            if kind is not None:
                # A maintenance or login page in front of the API: transient as a 503 is, and named when it persists.
                raise RetryableFailure(self.redact(
                    f"HTTP {status} with an HTML page ({kind}) instead of the API's answer, a maintenance page or a "
                    f"base_url naming a website: {excerpt(content, self.redact, html=True)!r}"))
            return response
        if status == 429:
            raise RetryableFailure(f"HTTP 429 ({call.throttle_source})", throttled=True)
        if status in RETRY_STATUSES:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise RetryableFailure(f"HTTP {status}", wait_s=retry_after)
        raise self._error(response)

    def _endpoint(self, url: str) -> str:
        """The absolute URL without query string or credentials, for messages."""
        try:
            full = self._client.build_request("GET", url).url
        except (httpx.InvalidURL, TypeError):
            return self.redact(url.split("?", 1)[0])
        return self.redact(str(full.copy_with(query=None, fragment=None, userinfo=b"")))

    def _error(self, response: httpx.Response) -> ApiError:
        status = response.status_code
        cls = AuthError if status in (401, 403) else BadRequestError
        body = excerpt(response.content, self.redact, 300, html=html_kind(response, response.content) is not None)
        hint = _HINTS.get(status, "the request and the provider's documentation")
        return cls(
            self.redact(f"[{self.connection_id}] {response.request.method} {self._endpoint(str(response.request.url))} "
                        f"answered HTTP {status}: {body}. Check {hint}."),
            connection_id=self.connection_id,
            status=status,
        )

    def _refused_error(self, method: str, endpoint: str, url: str, attempts: int) -> ApiError:
        target = httpx.URL(self._endpoint(url))
        return ApiError(
            self.redact(
                f"[{self.connection_id}] {method} {endpoint}: connection refused by {target.host}:{target.port} "
                f"({attempts} attempts), a local address where nothing is listening; this is not the provider's "
                f"answer. Check the base_url of connection {self.connection_id!r} in the connections file, or "
                "start the sandbox (`uc-pipeline sandbox`) if the connection points at it."
            ),
            connection_id=self.connection_id,
        )

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def parse_json(self, response: httpx.Response) -> Any:
        """The JSON body, or MalformedResponseError naming the connection and the URL."""
        try:
            return decode_json(response.content)
        except ValueError as exc:
            raise MalformedResponseError(
                self.redact(f"[{self.connection_id}] {self._endpoint(str(response.request.url))}: malformed "
                            f"JSON page ({exc}). Nothing of this partition was landed; re-run it, and report "
                            "it if it persists."),
                connection_id=self.connection_id,
                status=response.status_code,
            ) from None

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
