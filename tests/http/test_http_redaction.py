"""Secrets never leak: not in exception messages, not chained through httpx exceptions, not in the
log lines of uc_pipeline.http or of httpx itself."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest

from uc_pipeline.http import ApiClient, ApiError, HttpSettings, Quota, RetriesExhaustedError
from uc_pipeline.http.redact import redact_text

SECRET = "s3cr3t-T0KEN-value"
OTHER = "another-Secret-42"


def _client(handler, **kw) -> ApiClient:
    settings = HttpSettings(limiter_url="memory://", max_attempts=2, backoff_base_s=0.01, backoff_max_s=0.02)
    return ApiClient(f"c-{uuid.uuid4().hex[:8]}", f"https://acme:{OTHER}@api.example.test",
                     quotas={"default": Quota(100, 1.0)}, settings=settings, secrets=[SECRET, OTHER],
                     headers={"Authorization": f"Bearer {SECRET}"}, transport=httpx.MockTransport(handler), **kw)


def _all_text(exc: BaseException, caplog: pytest.LogCaptureFixture) -> str:
    chain = []
    seen: BaseException | None = exc
    while seen is not None:
        chain.append(f"{seen!s} {seen!r}")
        seen = seen.__cause__ or (None if seen.__suppress_context__ else seen.__context__)
    return "\n".join(chain + [r.getMessage() for r in caplog.records])


def test_error_bodies_and_urls_echoing_secrets_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"message": f"token {SECRET} rejected for {request.url}"})

    with _client(handler) as api, pytest.raises(ApiError) as info:
        api.get("/v1/calls", params={"api_token": SECRET, "page": 1})
    text = _all_text(info.value, caplog)
    assert SECRET not in text and OTHER not in text
    assert "***" in str(info.value)


def test_transport_errors_carrying_credentials_are_not_chained(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach https://acme:{OTHER}@api.example.test/?token={SECRET}")

    with _client(handler) as api, pytest.raises(RetriesExhaustedError) as info:
        api.get("/v1/calls")
    assert info.value.__cause__ is None and info.value.__suppress_context__
    text = _all_text(info.value, caplog)
    assert SECRET not in text and OTHER not in text
    assert any("retry 2/2" in r.getMessage() for r in caplog.records)  # the retry was logged, redacted


def test_httpx_request_log_lines_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="httpx")
    with _client(lambda _: httpx.Response(200, json={})) as api:
        api.get("/v1/calls", params={"token": SECRET})
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines and all(SECRET not in line and OTHER not in line for line in lines)


@pytest.mark.parametrize(("text", "expected"), [
    ("Authorization: Basic YWNtZTpzM2NyM3Q=", "Authorization: ***"),
    ("headers {'authorization': 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x1'}", "headers {'authorization': 'Bearer ***'}"),
    ("GET https://u:p4ss@host/x?page=2&access_token=abc123&x=1", "GET https://***:***@host/x?page=2&access_token=***&x=1"),
    (f"the secret {SECRET} leaked", "the secret *** leaked"),
    ("check basic authentication and the token permissions", "check basic authentication and the token permissions"),
])
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text, [SECRET]) == expected
