"""The HTTP layer against hostile answers: every form of a secret is redacted (base64 of the Basic
pair in each alphabet and padding, tokens put on the wire or granted at run time, JWTs); bodies are
capped while streaming; deep JSON is a malformed response; an HTML page with 200 is retried, then
named; a refused local port fails after a few tries pointing at base_url and the sandbox."""

from __future__ import annotations

import base64
import logging
import socket
import uuid

import httpx
import pytest

from uc_pipeline.http import (
    ApiClient,
    ApiError,
    HttpSettings,
    MalformedResponseError,
    Quota,
    ResponseTooLargeError,
    RetriesExhaustedError,
)
from uc_pipeline.http.redact import redact_text, register_secret, secret_forms


def _settings(**kw: object) -> HttpSettings:
    base = {"limiter_url": "memory://", "max_attempts": 3, "backoff_base_s": 0.01, "backoff_max_s": 0.02}
    return HttpSettings(**{**base, **kw})  # type: ignore[arg-type]


def _client(handler, *, base_url: str = "https://api.example.test", **kw: object) -> ApiClient:
    user = f"id-{uuid.uuid4().hex[:8]}"
    # ">>>" encodes as "Pj4+" when 3-aligned: the pair's base64 then differs between alphabets, and
    # its length (not a multiple of 3) gives it padding to drop.
    token = f"tok-{uuid.uuid4().hex}>>>x"  # "id-…:" is 12 characters and the hex 32: ">>>" starts at 48
    api = ApiClient(f"c-{uuid.uuid4().hex[:8]}", base_url, quotas={"default": Quota(1000, 1.0)},
                    settings=_settings(**kw), auth=httpx.BasicAuth(user, token), secrets=[user, token],
                    transport=httpx.MockTransport(handler) if handler else None)
    api.test_pair = (user, token)  # type: ignore[attr-defined]
    return api


def _forms(user: str, token: str) -> list[str]:
    pair = f"{user}:{token}".encode()
    std, safe = base64.b64encode(pair).decode(), base64.urlsafe_b64encode(pair).decode()
    assert std != safe and std.endswith("=")
    return [token, std, std.rstrip("="), safe, safe.rstrip("="), f"Basic {std}"]


def test_every_form_of_the_basic_pair_echoed_in_an_error_body_is_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    box: dict[str, list[str]] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text="denied: " + " | ".join(box["forms"]))

    api = _client(handler)
    box["forms"] = _forms(*api.test_pair)  # type: ignore[attr-defined]
    with api, pytest.raises(ApiError) as info:
        api.get("/v1/calls")
    text = str(info.value) + "\n".join(r.getMessage() for r in caplog.records)
    for form in box["forms"]:
        assert form.removeprefix("Basic ") not in text, form
    assert info.value.status == 401 and "credentials" in str(info.value)


def test_a_bearer_token_put_on_the_wire_by_an_auth_flow_is_redacted_everywhere_after() -> None:
    token = f"run-time-{uuid.uuid4().hex}"

    class TokenAuth(httpx.Auth):
        def auth_flow(self, request: httpx.Request):
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text=f"internal error; request headers: {dict(request.headers)!r}")

    api = ApiClient(f"c-{uuid.uuid4().hex[:8]}", "https://api.example.test", quotas={"default": Quota(1000, 1.0)},
                    settings=_settings(), auth=TokenAuth(), transport=httpx.MockTransport(handler))
    with api, pytest.raises(RetriesExhaustedError):
        api.get("/v1/calls")
    # The token was registered when it was sent: any later text showing it, in any form, is redacted.
    for form in (token, base64.b64encode(token.encode()).decode(), f"{token}".replace("-", "%2D")):
        assert token not in redact_text(f"echo {form} and {token}")


def test_tokens_granted_at_run_time_and_jwts_are_redacted() -> None:
    refresh = f"refresh-{uuid.uuid4().hex}"
    register_secret(refresh)
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
    text = redact_text(f'{{"refresh_token": "{refresh}", "owner": "{jwt}", "b64": '
                       f'"{base64.urlsafe_b64encode(refresh.encode()).decode().rstrip("=")}"}}')
    assert refresh not in text and jwt not in text and "eyJ" not in text
    assert "***" in text
    assert not secret_forms("old")  # too short to be a credential: "folder" stays readable


def test_a_body_over_the_cap_is_abandoned_while_streaming() -> None:
    produced = []

    def chunks():
        for _ in range(10_000):  # 640 MB if read to the end
            produced.append(1)
            yield b"x" * 65536

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks(), headers={"content-type": "application/json"})

    with _client(handler, max_response_bytes=1_000_000) as api, pytest.raises(ResponseTooLargeError) as info:
        api.get("/v1/calls", params={"page": 1})
    message = str(info.value)
    assert "cap of 1,000,000 bytes" in message and "/v1/calls" in message and api.connection_id in message
    assert "http_max_response_mb" in message
    assert len(produced) <= 1_000_000 // 65536 + 2  # stopped at the cap
    assert api.stats.requests == 1  # not retried: the same page would come back


def test_an_announced_length_over_the_cap_fails_before_reading() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"{}", headers={"content-length": "50000000"})

    with _client(handler, max_response_bytes=1_000_000) as api, pytest.raises(ResponseTooLargeError) as info:
        api.get("/v1/calls")
    assert "announced at 50,000,000 bytes" in str(info.value)


def test_deeply_nested_json_is_a_malformed_response() -> None:
    body = b"[" * 200_000 + b"]" * 200_000
    with _client(lambda _: httpx.Response(200, content=body)) as api:
        response = api.get("/v1/calls")
        with pytest.raises(MalformedResponseError) as info:
            api.parse_json(response)
    assert "nested too deeply" in str(info.value) and "re-run" in str(info.value)


def test_an_html_page_with_200_is_retried_then_named() -> None:
    page = ("<!DOCTYPE html><html><head><style>body{color:red}</style><title>Down</title></head><body>"
            "<h1>Scheduled maintenance</h1><p>We will be back soon.</p></body></html>")
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, text=page, headers={"content-type": "text/html; charset=utf-8"})

    with _client(handler) as api, pytest.raises(RetriesExhaustedError) as info:
        api.get("/v1/calls")
    message = str(info.value)
    assert len(seen) == 3  # max_attempts
    assert "HTML page (text/html)" in message and "Scheduled maintenance" in message
    assert "color:red" not in message and "<h1>" not in message


def test_a_refused_local_port_fails_after_a_few_tries_pointing_at_base_url_and_the_sandbox() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with _client(None, base_url=f"http://127.0.0.1:{port}", max_attempts=6) as api, \
            pytest.raises(ApiError) as info:
        api.get("/v1/calls")
    message = str(info.value)
    assert api.stats.requests == 3  # not the 6 attempts a remote provider gets
    assert f"127.0.0.1:{port}" in message and "base_url" in message and "uc-pipeline sandbox" in message
    assert "not the provider" in message and "status page" not in message
