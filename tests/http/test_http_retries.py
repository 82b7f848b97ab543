"""The retry policy of ApiClient: 429s counted and honoured (Retry-After, reset, penalty, default,
shared pause), 5xx / resets / truncated bodies / timeouts retried then exhausted with the right
error, 4xx not retried, and an httpx.Auth flow allowed to re-send (each send counted)."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from uc_pipeline.http import (
    ApiClient,
    ApiError,
    AuthError,
    BadRequestError,
    HttpSettings,
    Quota,
    RateHeaders,
    RetriesExhaustedError,
)

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler that answers from a script and records when each request came."""

    def __init__(self, *answers: httpx.Response | Exception | Handler) -> None:
        self.answers = list(answers)
        self.times: list[float] = []
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.times.append(time.monotonic())
        self.requests.append(request)
        answer = self.answers[min(len(self.times), len(self.answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)


PLENTY = Quota(100, 1.0)


def client(recorder: Recorder, quota: Quota = PLENTY, connection_id: str | None = None, **kw: object) -> ApiClient:
    settings = HttpSettings(limiter_url="memory://", max_attempts=int(kw.pop("max_attempts", 4)),
                            backoff_base_s=0.01, backoff_max_s=0.05)
    return ApiClient(connection_id or f"c-{uuid.uuid4().hex[:8]}", "https://api.example.test",
                     quotas={"default": quota}, settings=settings, transport=httpx.MockTransport(recorder), **kw)


OK = httpx.Response(200, json={"ok": True})


def test_429_with_retry_after_is_counted_and_waited() -> None:
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "1"}), OK)
    with client(rec) as api:
        assert api.get("/v1/calls").json() == {"ok": True}
        assert (api.stats.requests, api.stats.retries, api.stats.throttled) == (2, 1, 1)
    assert rec.times[1] - rec.times[0] >= 1.0


def test_429_waits_until_the_reported_reset() -> None:
    def reset_headers(response: httpx.Response) -> RateHeaders:
        reset = response.headers.get("X-Reset")
        return RateHeaders(reset_at=float(reset) if reset else None)

    rec = Recorder(lambda _: httpx.Response(429, headers={"X-Reset": str(time.time() + 0.4)}), OK)
    with client(rec, rate_headers=reset_headers) as api:
        api.get("/v1/calls")
        assert api.stats.throttled == 1
    assert rec.times[1] - rec.times[0] >= 0.4 - 0.01  # the reset was stamped just after the arrival


@pytest.mark.parametrize(
    ("quota", "expected"),
    [(Quota(100, 1.0, penalty_seconds=0.4), 0.4),  # the quota's penalty (RingCentral-style)
     (Quota(100, 1.0, default_throttle_wait_s=0.3), 0.3),  # the quota's default pause
     (Quota(100, 0.35), 0.35)],  # else one window
)
def test_429_without_retry_after_pauses_by_the_quota(quota: Quota, expected: float) -> None:
    rec = Recorder(httpx.Response(429), OK)
    with client(rec, quota) as api:
        api.get("/v1/calls")
        assert api.stats.throttled == 1
    assert rec.times[1] - rec.times[0] >= expected


def test_a_429_pauses_every_client_of_the_connection() -> None:
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "0.5"}), OK)
    connection_id = f"c-{uuid.uuid4().hex[:8]}"
    with client(rec, connection_id=connection_id, max_attempts=1) as first, \
            client(rec, connection_id=connection_id) as second:
        with pytest.raises(RetriesExhaustedError):
            first.get("/v1/calls")
        second.get("/v1/calls")  # another client (process) of the same connection sends nothing meanwhile
        assert second.stats.throttled == 0
    assert rec.times[1] - rec.times[0] >= 0.5


def test_429s_past_the_limit_exhaust() -> None:
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "0"}))
    with client(rec, max_attempts=3) as api:
        with pytest.raises(RetriesExhaustedError, match="gave up after 3 attempts"):
            api.get("/v1/calls")
        assert (api.stats.requests, api.stats.throttled, api.stats.retries) == (3, 3, 2)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_retried(status: int) -> None:
    rec = Recorder(httpx.Response(status, text="upstream trouble"), OK)
    with client(rec) as api:
        assert api.get("/v1/calls").status_code == 200
        assert (api.stats.requests, api.stats.retries, api.stats.throttled) == (2, 1, 0)


def test_503_honours_retry_after() -> None:
    rec = Recorder(httpx.Response(503, headers={"Retry-After": "0.4"}), OK)
    with client(rec) as api:
        api.get("/v1/calls")
    assert rec.times[1] - rec.times[0] >= 0.4


def test_5xx_exhausted_says_the_provider_may_be_down() -> None:
    rec = Recorder(httpx.Response(503))
    with client(rec, max_attempts=3) as api:
        with pytest.raises(RetriesExhaustedError) as info:
            api.get("/v1/calls", params={"from": 1})
        assert api.stats.requests == 3 and api.stats.retries == 2
    message = str(info.value)
    assert "may be down" in message and "HTTP 503" in message and api.connection_id in message
    assert "from=1" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("timed out"), httpx.ConnectError("connection refused"),
                                 httpx.RemoteProtocolError("peer closed connection"), httpx.ReadError("reset")])
def test_transport_failures_are_retried_then_exhausted(exc: Exception) -> None:
    rec = Recorder(exc, OK)
    with client(rec) as api:
        assert api.get("/v1/calls").status_code == 200
        assert api.stats.retries == 1
    rec = Recorder(exc)
    with client(rec, max_attempts=2) as api:
        with pytest.raises(RetriesExhaustedError, match=type(exc).__name__):
            api.get("/v1/calls")
        assert api.stats.requests == 2


class _BrokenBody(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield b'{"calls": [1, 2'
        raise httpx.ReadError("connection reset by peer")


def test_a_reset_mid_body_is_retried() -> None:
    rec = Recorder(lambda _: httpx.Response(200, stream=_BrokenBody()), httpx.Response(200, json={"calls": [1, 2, 3]}))
    with client(rec) as api:
        assert api.parse_json(api.get("/v1/calls")) == {"calls": [1, 2, 3]}
        assert api.stats.retries == 1


@pytest.fixture
def raw_server() -> Iterator[tuple[str, list[str]]]:
    """A socket server whose first answers are broken on the wire: a body shorter than its
    Content-Length, a connection reset (RST) before any answer, a silent stall; then a good answer."""
    plan = ["truncated", "reset", "stall", "ok"]
    seen: list[str] = []
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def answer(conn: socket.socket, mode: str) -> None:
        with conn:
            conn.recv(65536)
            if mode == "truncated":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"calls\": [")
            elif mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            elif mode == "stall":
                stop.wait(1.0)
            else:
                body = b'{"calls": []}'
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            mode = plan[min(len(seen), len(plan) - 1)]
            seen.append(mode)
            threading.Thread(target=answer, args=(conn, mode), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", seen
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_truncated_body_reset_and_timeout_on_the_wire_are_retried(raw_server: tuple[str, list[str]]) -> None:
    url, seen = raw_server
    settings = HttpSettings(limiter_url="memory://", max_attempts=4, backoff_base_s=0.01, timeout_s=0.3)
    with ApiClient(f"c-{uuid.uuid4().hex[:8]}", url, quotas={"default": Quota(100, 1.0)}, settings=settings) as api:
        assert api.parse_json(api.get("/v1/calls")) == {"calls": []}
        assert (api.stats.requests, api.stats.retries) == (4, 3)
    assert seen == ["truncated", "reset", "stall", "ok"]


@pytest.mark.parametrize(("status", "error", "hint"), [
    (400, BadRequestError, "request parameters"),
    (401, AuthError, "credentials"),
    (403, AuthError, "permissions"),
    (404, BadRequestError, "base_url"),
    (422, BadRequestError, "request parameters"),
])
def test_client_errors_are_not_retried(status: int, error: type[ApiError], hint: str) -> None:
    rec = Recorder(httpx.Response(status, json={"message": "nope"}))
    with client(rec) as api:
        with pytest.raises(error) as info:
            api.get("/v1/calls", params={"page": 2})
        assert (api.stats.requests, api.stats.retries) == (1, 0)
    message = str(info.value)
    assert info.value.status == status and info.value.connection_id == api.connection_id
    assert f"[{api.connection_id}] GET https://api.example.test/v1/calls answered HTTP {status}" in message
    assert "page=2" not in message and hint in message


class RefreshingAuth(httpx.Auth):
    """Like an OAuth client: a 401 means the token expired; refresh once and re-send."""

    def __init__(self) -> None:
        self.token = "old"
        self.refreshes = 0

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 401:
            self.refreshes += 1
            self.token = "new"
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request


def test_an_auth_flow_may_resend_and_every_send_is_counted_and_limited() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer new":
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(401, json={"message": "token expired"})

    rec = Recorder(answer)
    auth = RefreshingAuth()
    with client(rec, Quota(1, 0.3), auth=auth) as api:
        assert api.get("/v1/calls").status_code == 200
        assert (api.stats.requests, api.stats.retries, auth.refreshes) == (2, 0, 1)
    assert rec.times[1] - rec.times[0] >= 0.3  # the re-send took its own slot of the quota


def test_unsendable_requests_fail_with_a_clear_error() -> None:
    rec = Recorder(httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'."))
    with client(rec) as api:
        with pytest.raises(ApiError, match="could not be sent .* Check the connection's base_url"):
            api.get("/v1/calls")
        assert api.stats.requests == 1


@pytest.mark.parametrize("cls", [ApiError, AuthError, BadRequestError, RetriesExhaustedError])
def test_errors_survive_pickling_across_processes(cls: type[ApiError]) -> None:
    import pickle

    error = pickle.loads(pickle.dumps(cls("[c1] GET /v1/calls answered HTTP 401", connection_id="c1", status=401)))
    assert type(error) is cls
    assert (str(error), error.connection_id, error.status) == ("[c1] GET /v1/calls answered HTTP 401", "c1", 401)
