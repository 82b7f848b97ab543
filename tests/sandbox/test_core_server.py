"""The sandbox server: start/stop, control endpoints, body faults as an httpx client sees them, and the
request log's violations and duplicate pages."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from uc_pipeline.http import ApiClient, HttpSettings, MalformedResponseError, Quota
from uc_pipeline.sandbox import Clock, FaultSpec, QuotaSpec

from .test_core_support import AS_OF, dummy_connection, dummy_sandbox

AUTH = ("k-dummy-1", "s3cret")
WINDOW = {"start": "2026-01-06T00:00:00+00:00", "end": "2026-01-07T00:00:00+00:00"}


def get(base: str, page: int = 1, auth: tuple[str, str] = AUTH, **kw) -> httpx.Response:
    return httpx.get(f"{base}/dummy/v1/items", params={**WINDOW, "page": page}, auth=auth, **kw)


def test_serves_on_a_free_port_and_stops() -> None:
    sandbox = dummy_sandbox()
    with sandbox.serve(port=0) as base:
        assert base.startswith("http://127.0.0.1:") and sandbox.base_url("dummy") == f"{base}/dummy"
        health = httpx.get(f"{base}/_sandbox/health").json()
        assert health["status"] == "ok" and health["connections"][0]["connection_id"] == "dummy-1"
        assert get(base).status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/_sandbox/health", timeout=2)
    with pytest.raises(RuntimeError, match="not serving"):
        sandbox.base_url("dummy")


def test_pages_match_truth_endpoint_and_python_api() -> None:
    sandbox = dummy_sandbox()
    with sandbox.serve() as base:
        first = get(base).json()
        truth = httpx.get(f"{base}/_sandbox/truth/dummy-1/items", params=WINDOW).json()
        assert truth["count"] == first["total"] > 50
        assert [r["record"] for r in truth["records"][:50]] == first["items"]
        assert [r["id"] for r in truth["records"]] == sandbox.record_ids("dummy-1", "items", *_window())
        assert httpx.get(f"{base}/_sandbox/truth/dummy-1/items", params={"start": "x"}).status_code == 400
        assert httpx.get(f"{base}/_sandbox/truth/nope/items", params=WINDOW).status_code == 404
        assert httpx.get(f"{base}/_sandbox/truth/dummy-1/other", params=WINDOW).status_code == 400


def test_fault_control_endpoint_and_counts() -> None:
    sandbox = dummy_sandbox()
    with sandbox.serve() as base:
        r = httpx.put(f"{base}/_sandbox/faults/dummy-1", json={"storm_429": 2, "storm_429_no_retry_after": 1})
        assert r.status_code == 200 and r.json()["spec"]["storm_429"] == 2
        answers = [get(base) for _ in range(4)]
        assert [a.status_code for a in answers] == [429, 429, 429, 200]
        assert "retry-after" in answers[0].headers and "retry-after" not in answers[2].headers
        assert httpx.post(f"{base}/_sandbox/faults/dummy-1", json={"error_5xx_rate": 1.0}).status_code == 200
        assert get(base).status_code in (500, 502, 503)
        assert httpx.get(f"{base}/_sandbox/faults").json()["dummy-1"]["spec"]["error_5xx_rate"] == 1.0
        bad = httpx.put(f"{base}/_sandbox/faults/dummy-1", json={"nonsense": 1})
        assert bad.status_code == 400 and "nonsense" in bad.json()["error"]
        assert httpx.put(f"{base}/_sandbox/faults/nope", json={}).status_code == 404
    counts = sandbox.fault_counts("dummy-1")
    assert counts["storm_429"] == 2 and counts["storm_429_no_retry_after"] == 1
    assert sum(counts.get(k, 0) for k in ("http_500", "http_502", "http_503")) == 1
    log = sandbox.request_log
    assert [e.fault for e in log.entries("dummy-1")][:3] == ["storm_429", "storm_429", "storm_429_no_retry_after"]
    assert not log.violations()  # storms are injected, not the client's fault


@pytest.mark.parametrize("kind", ["reset", "truncated"])
def test_broken_bodies_break_an_httpx_client(kind: str) -> None:
    sandbox = dummy_sandbox(faults=FaultSpec(**{f"{kind}_rate": 1.0}))
    with sandbox.serve() as base:
        with pytest.raises(httpx.RemoteProtocolError):
            get(base)
        assert get(base, auth=("bad", "creds")).status_code == 401  # errors are never broken
    assert sandbox.fault_counts("dummy-1") == {kind: 1}
    entries = sandbox.request_log.entries()
    assert entries[0].fault == kind and entries[1].connection_id is None and entries[1].status == 401


def test_malformed_body_is_a_complete_200_that_does_not_parse() -> None:
    sandbox = dummy_sandbox(faults=FaultSpec(malformed_rate=1.0))
    with sandbox.serve() as base:
        response = get(base)
        assert response.status_code == 200 and len(response.content) == int(response.headers["content-length"])
        with pytest.raises(ValueError):
            json.loads(response.content)
        client = ApiClient("dummy-1", f"{base}/dummy", quotas={"default": Quota(100, 1.0)},
                           settings=HttpSettings(max_attempts=1), auth=httpx.BasicAuth(*AUTH))
        with client, pytest.raises(MalformedResponseError, match="dummy-1"):
            client.parse_json(client.get("/v1/items", params=WINDOW))


def test_slow_answer_times_a_client_out() -> None:
    sandbox = dummy_sandbox(faults=FaultSpec(slow_rate=1.0, slow_s=1.0))
    with sandbox.serve() as base, pytest.raises(httpx.ReadTimeout):
        get(base, timeout=0.2)
    assert sandbox.fault_counts("dummy-1")["slow"] == 1


def test_request_log_finds_violations_and_duplicate_pages() -> None:
    conn = dummy_connection(quotas={"default": QuotaSpec(3, 60.0)})
    sandbox = dummy_sandbox(conn)
    with sandbox.serve() as base:
        statuses = [get(base, page).status_code for page in (1, 2, 1, 3)]
        assert statuses == [200, 200, 200, 429]
        summary = httpx.get(f"{base}/_sandbox/requests", params={"connection_id": "dummy-1"}).json()
    log = sandbox.request_log
    assert [e.status for e in log.violations("dummy-1")] == [429]
    dupes = log.duplicate_pages()
    assert list(dupes.values()) == [2]
    # Compared without the parameters at their default (page=1 is the page asked without `page`).
    assert next(iter(dupes))[3] == "end=2026-01-07T00%3A00%3A00%2B00%3A00&start=2026-01-06T00%3A00%3A00%2B00%3A00"
    assert log.counts()["dummy-1"] == {"requests": 4, "ok": 3, "throttled": 1, "errors": 0, "violations": 1,
                                       "faults": 0}
    assert summary["violations"] == 1 and summary["duplicate_pages"][0]["times"] == 2
    assert len(summary["requests"]) == 4 and summary["requests"][0]["group"] == "default"


def test_unknown_paths_are_logged_and_connections_validated() -> None:
    sandbox = dummy_sandbox()
    with sandbox.serve() as base:
        assert httpx.get(f"{base}/dummy/v9/nothing?b=2&a=1").status_code == 404
        unknown = httpx.get(f"{base}/dummy/v9/nothing", auth=AUTH)
        assert unknown.status_code == 404 and unknown.json()["error"] == "Not Found"
    first, second = sandbox.request_log.entries()[-2:]
    assert (first.provider, first.status, first.query, first.connection_id) == ("dummy", 404, "a=1&b=2", None)
    # With the credentials of a connection, the request is that connection's.
    assert (second.status, second.connection_id) == (404, "dummy-1")
    with pytest.raises(ValueError, match="credentials lack"):
        dummy_sandbox(_without_secret())
    with pytest.raises(ValueError, match="time zone"):
        dummy_sandbox(dummy_connection(timezone="Mars/Olympus"))


def _without_secret():
    conn = dummy_connection()
    conn.credentials = {"key": "x"}
    return conn


def _window():
    from datetime import datetime

    return datetime.fromisoformat(WINDOW["start"]), datetime.fromisoformat(WINDOW["end"])


def test_duplicate_pages_compare_queries_with_defaults_applied() -> None:
    sandbox = dummy_sandbox()
    with sandbox.serve() as base:
        url = f"{base}/dummy/v1/items"
        for params in ({**WINDOW}, {**WINDOW, "page": 1}, {**WINDOW, "page": 2}, {"page": 2, **WINDOW}):
            assert httpx.get(url, params=params, auth=AUTH).status_code == 200
    dupes = sandbox.request_log.duplicate_pages()
    assert sorted(dupes.values()) == [2, 2]
    assert all(e.query.startswith("end=") for e in sandbox.request_log.entries())  # the literal query is kept


def test_aircall_pages_are_compared_with_its_documented_defaults() -> None:
    from uc_pipeline.sandbox import Sandbox

    sandbox = Sandbox(Sandbox.default_connections(["aircall"], calls_per_day=30), clock=Clock(frozen=AS_OF))
    creds = sandbox.connection("demo-aircall").credentials
    auth = (creds["api_id"], creds["api_token"])
    window = {"from": 1767657600, "to": 1767744000}
    with sandbox.serve() as base:
        # page=1 and per_page=20 are Aircall's defaults: each pair asks for the same page.
        pairs = [({"per_page": 50}, {"page": 1, "per_page": 50}), ({}, {"per_page": 20, "order": "asc"})]
        for left, right in pairs:
            for params in (left, right):
                assert httpx.get(f"{base}/aircall/v1/calls", params={**window, **params}, auth=auth).status_code == 200
        assert httpx.get(f"{base}/aircall/v1/calls", params={**window, "page": 2}, auth=auth).status_code == 200
    assert sorted(sandbox.request_log.duplicate_pages().values()) == [2, 2]


def test_a_slow_answer_and_the_retry_after_the_timeout_are_not_a_duplicate() -> None:
    sandbox = dummy_sandbox(faults=FaultSpec(slow_rate=1.0, slow_s=1.5))
    with sandbox.serve() as base:
        with pytest.raises(httpx.ReadTimeout):
            get(base, timeout=0.3)
        sandbox.set_faults("dummy-1", FaultSpec())
        assert get(base).status_code == 200
        entries = sandbox.request_log.entries
        for _ in range(200):  # the held-back answer is logged when it goes out
            if len(entries()) == 2:
                break
            time.sleep(0.05)
    retry, slow = sandbox.request_log.entries()
    assert (retry.fault, slow.fault, slow.status, slow.connection_id) == (None, "slow", 200, "dummy-1")
    assert slow.elapsed_s >= 1.5 > retry.elapsed_s
    assert slow.page_key == retry.page_key and sandbox.request_log.duplicate_pages() == {}


def test_a_slow_answer_cut_short_by_the_server_stopping_is_logged_as_such() -> None:
    sandbox = dummy_sandbox(faults=FaultSpec(slow_rate=1.0, slow_s=60.0))
    with sandbox.serve() as base, pytest.raises(httpx.ReadTimeout):
        get(base, timeout=0.3)
    (entry,) = sandbox.request_log.entries()
    assert (entry.status, entry.fault, entry.connection_id, entry.group) == (499, "slow", "dummy-1", "default")
