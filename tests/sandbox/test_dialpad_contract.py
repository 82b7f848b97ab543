"""Contract of the Dialpad emulator, over HTTP on a loopback port: API-key auth and its 401 body, the call
list's exclusive millisecond bounds, newest-first order and cursor paging, `limit`, quotas (429, no rate
headers unless asked for), injected 5xx/storms, the call by id and its own quota, the int64 encodings,
the shape calibrated on Dialpad's example body, and the canonical -> native mapping of every served call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from uc_pipeline.sandbox import Clock, FaultSpec, QuotaSpec, Sandbox, SandboxConnection
from uc_pipeline.sandbox.dialpad import EMULATOR
from uc_pipeline.sandbox.dialpad.render import display_number, local_contact_id, millis, queue_type, render_call

NOW = datetime(2026, 2, 1, tzinfo=UTC)
DAY = datetime(2026, 1, 6, tzinfo=UTC)  # a Tuesday
ROOMY = {"default": QuotaSpec(requests=10_000, window_s=1.0), "call_detail": QuotaSpec(requests=10_000, window_s=1.0)}
SAMPLE = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "dialpad"
                     / "call_get_200_spec_example.json").read_text(encoding="utf-8"))
# Every field of the spec's Call object (protos.call.CallProto): nothing else may be served.
CALL_FIELDS = {
    "admin_call_recording_share_links", "call_id", "call_recording_share_links", "contact", "csat_recording_urls",
    "csat_score", "csat_transcriptions", "custom_data", "date_connected", "date_ended", "date_rang", "date_started",
    "direction", "duration", "entry_point_call_id", "entry_point_target", "event_timestamp", "external_number",
    "group_id", "internal_number", "is_transferred", "labels", "master_call_id", "mos_score", "operator_call_id",
    "proxy_target", "recording_details", "routing_breadcrumbs", "screen_recording_urls", "state", "target",
    "total_duration", "transcription_text", "voicemail_share_link", "was_recorded",
}
INT64 = ("call_id", "date_connected", "date_ended", "date_rang", "date_started", "entry_point_call_id",
         "event_timestamp")


def conn(connection_id: str, **over) -> SandboxConnection:
    base = dict(provider="dialpad", connection_id=connection_id, seed=11, calls_per_day=150, quotas=dict(ROOMY),
                credentials={"api_key": f"key-{connection_id}"})
    base.update(over)
    return SandboxConnection(**base)


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    sandbox = Sandbox(
        [conn("dp-main"), conn("dp-auth", faults=FaultSpec(wrong_credentials=True)),
         conn("dp-quota", quotas={"default": QuotaSpec(requests=3, window_s=60.0),
                                  "call_detail": QuotaSpec(requests=1, window_s=60.0)}),
         conn("dp-headers", quotas={"default": QuotaSpec(requests=2, window_s=60.0)}, options={"rate_headers": True}),
         conn("dp-faults"), conn("dp-numbers", options={"int64": "number"}),
         conn("dp-mixed", options={"int64": "mixed"})],
        profile="fast", clock=Clock(frozen=NOW),
    )
    with sandbox.serve(port=0):
        yield sandbox


def client(box: Sandbox, connection_id: str | None = None, key: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {key or f'key-{connection_id}'}"} if connection_id or key else {}
    return httpx.Client(base_url=box.base_url("dialpad"), headers=headers, timeout=30)


def day_params(start: datetime = DAY, days: int = 1, **extra) -> dict:
    return {"started_after": millis(start) - 1, "started_before": millis(start + timedelta(days=days)), **extra}


def truth(box: Sandbox, connection_id: str, start: datetime = DAY, days: int = 1) -> list[dict]:
    return box.records(connection_id, "calls", start, start + timedelta(days=days))


def test_authentication_failures_answer_401_with_an_error_body(box):
    with client(box) as none, client(box, key="wrong") as wrong, client(box, "dp-auth") as faulted:
        for c in (none, wrong, faulted):
            r = c.get("/api/v2/call", params=day_params())
            assert r.status_code == 401
            assert r.json()["error"]["code"] == 401 and "API key" in r.json()["error"]["message"]
    with client(box) as c:  # the documented query-parameter form authenticates too
        assert c.get("/api/v2/call", params={**day_params(), "apikey": "key-dp-main"}).status_code == 200
    log = [e.connection_id for e in box.request_log.entries() if e.status == 401]
    assert log[-3:] == [None, None, "dp-auth"]
    assert box.fault_counts("dp-auth").get("wrong_credentials", 0) >= 1


def test_newest_first_cursor_paging_to_the_end(box):
    expected = truth(box, "dp-main")
    assert len(expected) > 100
    starts = [int(r["date_started"]) for r in expected]
    assert starts == sorted(starts, reverse=True)
    with client(box, "dp-main") as c:
        default = c.get("/api/v2/call", params=day_params()).json()
        assert len(default["items"]) == 25 and default["items"] == expected[:25]
        pages, cursor = [], None
        while True:
            params = {**day_params(limit=40), **({"cursor": cursor} if cursor else {})}
            body = c.get("/api/v2/call", params=params).json()
            pages.append(body["items"])
            cursor = body.get("cursor")
            if not cursor:
                break
        assert "cursor" not in body  # the last page leaves it out
        assert [r for page in pages for r in page] == expected
        assert [len(p) for p in pages[:-1]] == [40] * (len(pages) - 1)
        capped = c.get("/api/v2/call", params=day_params(limit=500)).json()["items"]
        assert len(capped) == 100
        empty = c.get("/api/v2/call", params={"started_after": 100, "started_before": 200}).json()
        assert empty == {"items": []}
        other_query = c.get("/api/v2/call", params={**day_params(days=2), "cursor": default["cursor"]})
        assert other_query.status_code == 400 and "cursor" in other_query.json()["error"]["message"]
        for bad in ({"limit": 0}, {"limit": "many"}, {"started_after": "yesterday"}, {"cursor": "%%%"},
                    {"target_type": "callcenter", "target_id": "1"}):
            r = c.get("/api/v2/call", params=day_params(**bad))
            assert r.status_code == 400 and r.json()["error"]["code"] == 400, bad


def test_bounds_are_exclusive_milliseconds(box):
    expected = truth(box, "dp-main")
    probe = int(expected[len(expected) // 2]["date_started"])
    with client(box, "dp-main") as c:
        same = c.get("/api/v2/call", params={"started_after": probe - 1, "started_before": probe + 1,
                                             "limit": 100}).json()["items"]
        neither = c.get("/api/v2/call", params={"started_after": probe, "started_before": probe,
                                                "limit": 100}).json()["items"]
    assert same and all(int(r["date_started"]) == probe for r in same)
    assert neither == []


def test_quota_answers_429_without_headers_unless_asked(box):
    with client(box, "dp-quota") as c:
        answers = [c.get("/api/v2/call", params=day_params(limit=1)) for _ in range(4)]
        detail = [c.get(f"/api/v2/call/{truth(box, 'dp-quota')[0]['call_id']}") for _ in range(2)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.status_code for r in detail] == [200, 429]  # its own group: 1 per minute here
    assert answers[-1].json()["error"]["code"] == 429
    assert not any(h.lower().startswith(("x-ratelimit", "ratelimit", "retry-after")) for h in answers[-1].headers)
    assert len(box.request_log.violations("dp-quota")) == 2
    with client(box, "dp-headers") as c:
        marked = [c.get("/api/v2/call", params=day_params(limit=1)) for _ in range(3)]
    assert [r.status_code for r in marked] == [200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in marked] == ["1", "0", "0"]
    assert {r.headers["X-RateLimit-Limit"] for r in marked} == {"2"}


def test_injected_5xx_and_storms(box):
    box.set_faults("dp-faults", FaultSpec(error_5xx_rate=1.0, seed=2))
    try:
        with client(box, "dp-faults") as c:
            r = c.get("/api/v2/call", params=day_params())
            assert r.status_code in (500, 502, 503) and r.json()["error"]["code"] == r.status_code
            box.set_faults("dp-faults", FaultSpec(storm_429=1, storm_429_no_retry_after=1))
            storm = [c.get("/api/v2/call", params=day_params()) for _ in range(3)]
    finally:
        box.set_faults("dp-faults", FaultSpec())
    assert [r.status_code for r in storm] == [429, 429, 200]
    assert "Retry-After" in storm[0].headers and "Retry-After" not in storm[1].headers
    assert box.request_log.violations("dp-faults") == []


def test_a_call_by_id_and_unknown_paths(box):
    expected = truth(box, "dp-main")
    with client(box, "dp-main") as c:
        one = c.get(f"/api/v2/call/{expected[3]['call_id']}")
        assert one.status_code == 200 and one.json() == expected[3]
        missing = c.get("/api/v2/call/42")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == 404
        unknown = c.get("/api/v2/calls")
        assert unknown.status_code == 404 and "/api/v2/call" in unknown.json()["error"]["message"]


def test_served_calls_have_the_shape_of_the_example(box):
    served = truth(box, "dp-main")
    for record in served:
        assert set(record) <= CALL_FIELDS
        assert list(record) == sorted(record)  # keys in order, as in the example
        assert all(isinstance(record[k], str) for k in INT64 if k in record)  # int64 as strings, as the example
        assert isinstance(record["duration"], float) and isinstance(record["total_duration"], float)
        for party in ("contact", "target", "entry_point_target", "proxy_target"):
            assert record[party] == {} or set(record[party]) == set(SAMPLE["target"]), party
        assert None not in record.values()  # what has no value is left out, not null
    assert set(SAMPLE) <= CALL_FIELDS
    assert any(r["contact"].get("type") == "local" for r in served)  # unknown callers, as the example's


def test_int64_values_as_numbers_or_mixed_are_the_same_calls(box):
    for connection_id, kinds in (("dp-numbers", {int}), ("dp-mixed", {str, int})):
        served = truth(box, connection_id)
        assert {type(r["call_id"]) for r in served} == kinds
        assert all(isinstance(r[k], type(r["call_id"])) for r in served for k in INT64 if k in r)  # one way per call
        # The same calls rendered the example's way: only the encoding of the int64 values differs.
        as_strings = replace(box.connection(connection_id), options={})
        calls = box.calls(connection_id, DAY, DAY + timedelta(days=1))
        expected = {r["call_id"]: r for r in (render_call(as_strings, c) for c in calls)}
        for record in served:
            text = {k: (str(v) if k in INT64 else v) for k, v in record.items()}
            text["recording_details"] = [{k: (str(v) if k in ("start_time", "duration") else v) for k, v in d.items()}
                                         for d in record.get("recording_details", [])] or None
            want = dict(expected[str(record["call_id"])])
            want["recording_details"] = [{k: (str(v) if k in ("start_time", "duration") else v) for k, v in d.items()}
                                         for d in want.get("recording_details", [])] or None
            assert {k: v for k, v in text.items() if v is not None} == {k: v for k, v in want.items() if v is not None}
            assert EMULATOR.record_id("calls", record) == str(record["call_id"])


def test_served_records_follow_the_mapping_table(box):
    calls = box.calls("dp-main", DAY, DAY + timedelta(days=1))
    records = {int(r["call_id"]): r for r in truth(box, "dp-main")}
    assert set(records) == {c.call_id for c in calls if c.direction != "INTERNAL"}
    assert not EMULATOR.profile.internal_calls and not EMULATOR.profile.hold
    assert {c.outcome for c in calls} == {"ANSWERED", "MISSED", "VOICEMAIL"}
    conn_ = box.connection("dp-main")
    for call in calls:
        r = records[call.call_id]
        assert r["direction"] == call.direction.lower()
        assert int(r["date_started"]) == millis(call.start_at) and int(r["date_ended"]) == millis(call.end_at)
        assert ("date_connected" in r) == (call.outcome == "ANSWERED")
        assert ("date_rang" in r) == (call.direction == "INBOUND")
        if call.answered_at is not None:
            assert int(r["date_connected"]) == millis(call.answered_at)
            assert r["duration"] == (millis(call.end_at) - millis(call.answered_at)) == call.talk_s * 1000
            assert r["target"]["type"] == "user" and r["target"]["id"] == str(call.agent.agent_id)
        else:
            assert r["duration"] == 0.0
        assert r["total_duration"] == millis(call.end_at) - millis(call.start_at)
        kinds = [d["recording_type"] for d in r.get("recording_details", [])]
        assert kinds == [k for k, m in (("callrecording", call.recording), ("voicemail", call.voicemail)) if m]
        assert r["was_recorded"] == (call.recording is not None)
        if call.queue is not None:
            assert r["entry_point_target"]["id"] == str(call.queue.queue_id)
            assert r["entry_point_target"]["type"] == queue_type(call.queue) in ("callcenter", "department")
            if call.answered_at is None:
                assert r["target"] == r["entry_point_target"]
        if call.contact is not None:
            assert r["contact"]["id"] == str(call.contact.contact_id) and r["contact"]["type"] == "shared"
        elif call.external_number == "anonymous":
            assert r["contact"] == {} and "external_number" not in r
        else:
            assert r["contact"]["id"] == local_contact_id(conn_, call.external_number)
            assert r["contact"]["name"] == display_number(call.external_number)
        assert r["is_transferred"] == bool(call.transfers)
        assert r.get("labels", []) == [t.name for t in call.tags]


def test_drift_is_served_as_the_ground_truth_says(box):
    box.set_faults("dp-main", FaultSpec(drift_extra_fields=True, drift_missing_optional=True))
    try:
        with client(box, "dp-main") as c:
            served = c.get("/api/v2/call", params=day_params(limit=50)).json()["items"]
        expected = truth(box, "dp-main")[:50]
    finally:
        box.set_faults("dp-main", FaultSpec())
    assert served == expected
    assert served != truth(box, "dp-main")[:50]
