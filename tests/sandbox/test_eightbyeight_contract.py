"""Contract of the 8x8 VCC Recordings API emulator, checked over HTTP against the vendor document:
paths and formats, Basic auth, the `d` forms with and without `tz`, `n` paging, field filters,
start-date / finish-date, response codes and the three call types."""

from __future__ import annotations

import csv
import dataclasses
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from uc_pipeline.sandbox import (
    Agent,
    Call,
    Clock,
    FaultSpec,
    Queue,
    QuotaSpec,
    Recording,
    Sandbox,
    SandboxConnection,
)
from uc_pipeline.sandbox.eightbyeight.query import FIELDS
from uc_pipeline.sandbox.eightbyeight.render import render_call, render_xml, served

NOW = datetime(2026, 1, 10, 15, 30, tzinfo=UTC)  # 07:30 in Los Angeles
TENANT_TZ = "America/Los_Angeles"
LA = ZoneInfo(TENANT_TZ)
PROLOG = "<?xml version='1.0' encoding='UTF-8' ?>"
Served = tuple[Sandbox, str, httpx.Client]  # the sandbox, its base URL, a client on /eightbyeight
UNLIMITED = {"default": QuotaSpec(requests=100_000, window_s=1.0)}


def _conn(cid: str, tenant: str, **kw: Any) -> SandboxConnection:
    return SandboxConnection(
        provider="eightbyeight", connection_id=cid, credentials={"tenant": tenant, "token": f"tok-{cid}",
                                                                  "api_key": f"key-{cid}", "api_secret": f"sec-{cid}"},
        seed=7, calls_per_day=150, history_start=date(2026, 1, 1), timezone=TENANT_TZ, **kw,
    )


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Served]:
    conns = [
        _conn("e-main", "acme", quotas=UNLIMITED),
        _conn("e-tight", "tight", quotas={"default": QuotaSpec(requests=2, window_s=600.0)}),
        _conn("e-5xx", "flaky", quotas=UNLIMITED, faults=FaultSpec(error_5xx_rate=1.0)),
        _conn("e-revoked", "revoked", quotas=UNLIMITED, faults=FaultSpec(wrong_credentials=True)),
    ]
    sbx = Sandbox(conns, profile="fast", clock=Clock(frozen=NOW))
    with sbx.serve(port=0) as base, httpx.Client(base_url=f"{base}/eightbyeight", timeout=30) as client:
        yield sbx, base, client


def get(sandbox: Served, path: str, cid: str = "e-main", auth: Any = "default",
        **params: str) -> httpx.Response:
    sbx, _, client = sandbox
    if auth == "default":
        creds = sbx.connection(cid).credentials
        auth = (creds["tenant"], creds["token"])
    return client.get(path, params=params, auth=auth)


def xml_records(resp: httpx.Response) -> list[dict[str, str]]:
    assert resp.status_code == 200, resp.text
    assert resp.text.startswith(PROLOG + "\n")
    root = ET.fromstring(resp.content)
    assert root.tag == "recordings"
    return [{child.tag: child.text or "" for child in item} for item in root]


def csv_records(resp: httpx.Response) -> list[dict[str, str]]:
    assert resp.status_code == 200, resp.text
    rows = list(csv.reader(io.StringIO(resp.text, newline="")))
    assert tuple(rows[0]) == FIELDS
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def fetch_all(sandbox: Served, path: str = "/api/recordings/files", **params: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    n = 1
    while True:
        page = xml_records(get(sandbox, path, **params, n=str(n)))
        out.extend(page)
        if len(page) < 50:
            return out
        n += len(page)


def truth(sandbox: Served, start: datetime, end: datetime, cid: str = "e-main") -> list[dict[str, Any]]:
    return sandbox[0].records(cid, "recordings", start, end)


def la_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LA).astimezone(UTC)


# -- authentication and response codes -------------------------------------------------------------


def test_wrong_token_is_403_and_missing_credentials_get_a_basic_challenge(sandbox) -> None:
    resp = get(sandbox, "/api/recordings/files", auth=("acme", "not-the-token"))
    assert resp.status_code == 403
    assert resp.text.startswith("403 Forbidden")
    resp = get(sandbox, "/api/recordings/files", auth=None)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Basic ")


def test_wrong_credentials_fault_makes_valid_credentials_fail(sandbox) -> None:
    resp = get(sandbox, "/api/recordings/files", cid="e-revoked")
    assert resp.status_code == 403


def test_unknown_resources_are_404(sandbox) -> None:
    for path in ("/api/recordings/nothing", "/api/recordings/files.json", "/api/stats/agents"):
        resp = get(sandbox, path)
        assert resp.status_code == 404, path
        assert resp.text.startswith("404 Not found")


@pytest.mark.parametrize(
    "params",
    [{"d": "2026-13-01"}, {"d": "yesterday"}, {"d": "2026-01-05,2026-01-04"}, {"d": "a,b,c"}, {"tz": "Mars/Base"},
     {"n": "0"}, {"n": "x"}, {"Start-Date": "2026-01-05"}, {"startDate": "2026-01-05"}, {"agentid": "x"}],
)
def test_bad_syntax_is_400(sandbox, params: dict[str, str]) -> None:
    resp = get(sandbox, "/api/recordings/files", **params)
    assert resp.status_code == 400
    assert resp.text.startswith("400 Bad request")


def test_server_errors_use_the_documented_codes(sandbox) -> None:
    statuses = {get(sandbox, "/api/recordings/files", cid="e-5xx", d="2026-01-05").status_code for _ in range(12)}
    assert statuses <= {500, 502, 503} and statuses & {500, 503}


def test_over_the_quota_is_503_server_busy_with_retry_after(sandbox) -> None:
    answers = [get(sandbox, "/api/recordings/files", cid="e-tight", d="2026-01-05") for _ in range(3)]
    assert [r.status_code for r in answers[:2]] == [200, 200]
    assert answers[2].status_code == 503
    assert answers[2].text.startswith("503 Server busy")
    assert int(answers[2].headers["Retry-After"]) >= 1
    assert not any(h.lower().startswith("x-rate") for h in answers[0].headers)


# -- formats ---------------------------------------------------------------------------------------


def test_xml_is_the_default_on_every_documented_path_and_csv_carries_the_same_records(sandbox) -> None:
    pages = [get(sandbox, p, d="2026-01-05") for p in ("/api/recordings/files", "/api/recordings/files/",
                                                       "/api/recordings/files.xml")]
    assert len({p.content for p in pages}) == 1
    assert pages[0].headers["content-type"].startswith("application/xml")
    records = xml_records(pages[0])
    assert records and all(tuple(r) == FIELDS for r in records)
    as_csv = get(sandbox, "/api/recordings/files.csv", d="2026-01-05")
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert csv_records(as_csv) == records
    empty = get(sandbox, "/api/recordings/files.csv", d="2026-01-05", n="10000")
    assert csv_records(empty) == [] and empty.text.strip() == ",".join(FIELDS)


def test_records_render_the_documented_shape(sandbox) -> None:
    records = fetch_all(sandbox, d="2026-01-05,2026-01-07")
    for r in records:
        start = datetime.fromisoformat(r["startDate"])
        assert start.utcoffset() == timedelta(hours=-8)  # the tenant's offset, not the query's
        assert r["filename"] == f"S{start.astimezone(UTC):%Y%m%d}/R{start.astimezone(UTC):%Y%m%d%H%M%S}" \
            + r["filename"][25:]
        assert r["filename"].endswith(".wav") and r["duration"].isdigit() and r["transactionID"].isdigit()
        assert (r["caseID"], r["accountNumber"], r["extVar1"], r["extVar2"]) == ("0", "0", "0", "0")
        assert r["outDialCode"] == r["wrapUpCode"] == ""
    assert len({r["filename"] for r in records}) == len(records)


def test_the_three_call_types(sandbox) -> None:
    records = fetch_all(sandbox, d="2026-01-02,2026-01-09")
    kinds: dict[str, list[dict[str, str]]] = {"outbound": [], "daa": [], "inbound": []}
    for r in records:
        kinds["outbound" if r["channel"] == "#virtual_outbound#" else "daa" if r["channel"] == "#virtual_daa#"
              else "inbound"].append(r)
    assert all(kinds.values()), {k: len(v) for k, v in kinds.items()}
    assert all(r["queueID"] == r["queueName"] == "QUEUE_OUTBOUND" for r in kinds["outbound"])
    assert all(r["queueID"] == r["queueName"] == "QUEUE_DIRECT_AGENT_ACCESS" for r in kinds["daa"])
    for r in kinds["inbound"]:
        assert r["channel"].isdigit()
        assert r["queueID"].startswith("acme~~queue~~phone~~") and r["queueName"] not in ("", "QUEUE_OUTBOUND")
    assert all(r["phoneNumber"].isdigit() or r["phoneNumber"] == "anonymous" for r in records)
    assert all(not r["phoneNumber"].startswith("+") for r in records)


# -- the `d` forms ---------------------------------------------------------------------------------


def test_single_day_is_that_whole_day_in_the_tenant_zone_or_tz(sandbox) -> None:
    day = date(2026, 1, 5)
    assert fetch_all(sandbox, d="2026-01-05") == truth(sandbox, la_midnight(day), la_midnight(day + timedelta(1)))
    utc_day = datetime(2026, 1, 5, tzinfo=UTC)
    assert fetch_all(sandbox, d="2026-01-05", tz="UTC") == truth(sandbox, utc_day, utc_day + timedelta(days=1))
    assert fetch_all(sandbox, d="20260105", tz="UTC") == fetch_all(sandbox, d="2026-01-05", tz="UTC")


def test_range_end_is_exclusive(sandbox) -> None:
    got = fetch_all(sandbox, d="2026-01-05,2026-01-07", tz="Europe/Paris")
    paris = ZoneInfo("Europe/Paris")
    start, end = datetime(2026, 1, 5, tzinfo=paris), datetime(2026, 1, 7, tzinfo=paris)
    assert got == truth(sandbox, start, end)
    assert len(got) > 50  # more than one page


def test_times_with_and_without_designator_and_the_compact_form(sandbox) -> None:
    start, end = datetime(2026, 1, 5, 13, 15, tzinfo=UTC), datetime(2026, 1, 5, 22, 30, tzinfo=UTC)
    expected = truth(sandbox, start, end)
    assert expected
    assert fetch_all(sandbox, d="2026-01-05 13:15Z,2026-01-05 22:30Z") == expected
    assert fetch_all(sandbox, d="20260105T1315Z,20260105T2230Z") == expected
    assert fetch_all(sandbox, d="2026-01-05T13:15:00Z,2026-01-05T22:30:00Z", tz="Asia/Tokyo") == expected
    # Without "Z" a time is in the query zone (tz, else the tenant's).
    assert fetch_all(sandbox, d="2026-01-05 05:15,2026-01-05 14:30") == expected  # Los Angeles, UTC-8
    assert fetch_all(sandbox, d="20260105T1415,20260105T2330", tz="Europe/Paris") == expected


def test_today_constants(sandbox) -> None:
    today = NOW.astimezone(LA).date()  # 2026-01-10 in Los Angeles
    yesterday = truth(sandbox, la_midnight(today - timedelta(1)), la_midnight(today))
    assert yesterday
    assert fetch_all(sandbox, d="today-1d,today") == yesterday
    assert fetch_all(sandbox, d="today-1d") == yesterday
    assert fetch_all(sandbox, d="today-7d,today-5d") == truth(
        sandbox, la_midnight(today - timedelta(7)), la_midnight(today - timedelta(5)))
    utc_today = datetime(2026, 1, 10, tzinfo=UTC)
    assert fetch_all(sandbox, d="today-3d", tz="UTC") == truth(sandbox, utc_today - timedelta(3),
                                                              utc_today - timedelta(2))
    # Today so far: only recordings of calls that have ended by now.
    assert fetch_all(sandbox, d="today") == truth(sandbox, la_midnight(today), NOW)


# -- paging, filters, start-date / finish-date ---------------------------------------------------------


def test_n_pages_by_50_with_a_short_last_page_and_empty_past_the_end(sandbox) -> None:
    expected = truth(sandbox, la_midnight(date(2026, 1, 5)), la_midnight(date(2026, 1, 8)))
    assert len(expected) > 100 and len(expected) % 50  # at least two full pages and a short one
    pages = []
    for n in range(1, len(expected) + 1, 50):
        pages.append(xml_records(get(sandbox, "/api/recordings/files", d="2026-01-05,2026-01-08", n=str(n))))
    assert [len(p) for p in pages[:-1]] == [50] * (len(pages) - 1) and 0 < len(pages[-1]) < 50
    assert [r for p in pages for r in p] == expected
    assert xml_records(get(sandbox, "/api/recordings/files", d="2026-01-05,2026-01-08", n="3")) == expected[2:52]
    past = get(sandbox, "/api/recordings/files", d="2026-01-05,2026-01-08", n=str(len(expected) + 1))
    assert xml_records(past) == []


def test_field_filters_are_exact_and_case_sensitive(sandbox) -> None:
    everything = fetch_all(sandbox, d="2026-01-05,2026-01-08")
    sample = everything[7]
    for field in ("agentID", "channel", "phoneNumber", "queueID", "transactionID", "filename"):
        got = fetch_all(sandbox, d="2026-01-05,2026-01-08", **{field: sample[field]})
        assert got == [r for r in everything if r[field] == sample[field]], field
    both = fetch_all(sandbox, d="2026-01-05,2026-01-08", agentID=sample["agentID"], channel=sample["channel"])
    assert both == [r for r in everything if (r["agentID"], r["channel"]) == (sample["agentID"], sample["channel"])]
    assert fetch_all(sandbox, d="2026-01-05,2026-01-08", agentID=sample["agentID"].upper() + "X") == []


def test_start_date_and_finish_date_match_within_5_seconds(sandbox) -> None:
    everything = fetch_all(sandbox, d="2026-01-05,2026-01-08")
    rec = everything[10]
    start = datetime.fromisoformat(rec["startDate"]).astimezone(UTC)
    finish = start + timedelta(seconds=int(rec["duration"]))

    def near(param: str, at: datetime, **extra: str) -> list[str]:
        return [r["filename"] for r in fetch_all(sandbox, **{param: f"{at:%Y-%m-%d %H:%M:%S}Z"}, **extra)]

    assert rec["filename"] in near("start-date", start + timedelta(seconds=5))
    assert rec["filename"] in near("start-date", start - timedelta(seconds=5))
    assert rec["filename"] not in near("start-date", start + timedelta(seconds=6))
    assert rec["filename"] in near("finish-date", finish - timedelta(seconds=4))
    assert rec["filename"] not in near("finish-date", finish + timedelta(seconds=6))
    # Both given: only start-date counts.
    only_start = near("start-date", start, **{"finish-date": "2020-01-01 00:00:00Z"})
    assert rec["filename"] in only_start
    # start-date without a time is midnight (+-5 s) in the query zone: nothing starts exactly then here.
    assert all(abs(datetime.fromisoformat(r["startDate"]) - datetime(2026, 1, 6, tzinfo=LA)) <= timedelta(seconds=5)
               for r in fetch_all(sandbox, **{"start-date": "2026-01-06"}))


# -- the mapping, against the vendor's own sample -------------------------------------------------------

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eightbyeight"


def _hand_built_call(**changes: Any) -> Call:
    start = datetime(2007, 12, 20, 3, 16, 36, tzinfo=UTC)
    call = Call(
        call_id=1, direction="INBOUND", outcome="ANSWERED", missed_reason=None, start_at=start - timedelta(seconds=9),
        answered_at=start, end_at=start + timedelta(seconds=27), wait_s=9, talk_s=27, hold_s=0, wrap_up_s=0,
        queue=Queue(queue_id=102, name="phoneq1", number="+5027780"),
        agent=Agent(agent_id=7, name="Bill", email="bill@fernandez.example.com", extension="101", phone="+15550100"),
        contact=None, external_number="bill", direct_to_agent=False, transfers=(),
        recording=Recording(recording_id=1000, start_at=start, end_at=start + timedelta(seconds=27)),
        voicemail=None, comments=(), tags=(), is_private=False,
    )
    return dataclasses.replace(call, **changes)


def test_the_vendor_sample_is_what_the_equivalent_call_renders_to() -> None:
    root = ET.fromstring((FIXTURES / "seed_files_sample_fixed.xml").read_bytes())
    vendor = [{child.tag: child.text or "" for child in item} for item in root]
    record = render_call(_hand_built_call(), "fernandez", LA, {7: "bill"})
    assert [record] == vendor
    assert list(record) == [child.tag for child in root[0]]  # same element order
    assert [{c.tag: c.text or "" for c in item} for item in ET.fromstring(render_xml([record]))] == vendor


def test_outbound_and_direct_agent_access_forms() -> None:
    out = render_call(_hand_built_call(direction="OUTBOUND", queue=None, external_number="+14155551234"),
                      "fernandez", LA, {7: "bill"})
    assert (out["channel"], out["phoneNumber"], out["queueID"], out["queueName"]) == (
        "#virtual_outbound#", "14155551234", "QUEUE_OUTBOUND", "QUEUE_OUTBOUND")
    daa = render_call(_hand_built_call(direct_to_agent=True, queue=None, external_number="+4930123456"),
                      "fernandez", LA, {7: "bill"})
    assert (daa["channel"], daa["phoneNumber"], daa["queueID"], daa["queueName"]) == (
        "#virtual_daa#", "4930123456", "QUEUE_DIRECT_AGENT_ACCESS", "QUEUE_DIRECT_AGENT_ACCESS")
    assert not served(_hand_built_call(recording=None)) and not served(_hand_built_call(direction="INTERNAL"))


# -- Cloud Storage Service (recording objects) -------------------------------------------------------------


def storage_token(sandbox: Served, cid: str = "e-main") -> str:
    sbx, _, client = sandbox
    creds = sbx.connection(cid).credentials
    resp = client.post("/oauth/v2/token", data={"grant_type": "client_credentials"},
                       auth=(creds["api_key"], creds["api_secret"]))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    # the vendor's answer: expires_in and issued_at are strings
    assert body["token_type"] == "BearerToken" and body["expires_in"] == "1799" and body["issued_at"].isdigit()
    return body["access_token"]


def test_storage_token_needs_the_api_key_and_objects_need_the_bearer(sandbox) -> None:
    _, _, client = sandbox
    refused = client.post("/oauth/v2/token", data={"grant_type": "client_credentials"}, auth=("key-e-main", "no"))
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    anonymous = client.get("/storage/us-east/v3/objects")
    assert anonymous.status_code == 401 and anonymous.json()["status"] == 401
    token = storage_token(sandbox)
    regions = client.get("/storage/us-east/v3/regions", headers={"Authorization": f"Bearer {token}"})
    assert regions.json() == ["us-east"]


def test_storage_objects_page_by_page_key_and_name_the_recordings_agents(sandbox) -> None:
    sbx, _, client = sandbox
    token = storage_token(sandbox)
    start, end = datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC)
    flt = (f"type==callcenterrecording;createdTime=ge={int(start.timestamp() * 1000)};"
           f"createdTime=le={int(end.timestamp() * 1000) - 1}")
    got, page_key = [], 0
    while True:
        resp = client.get("/storage/us-east/v3/objects", headers={"Authorization": f"Bearer {token}"},
                          params={"filter": flt, "pageKey": page_key, "limit": 40, "sortField": "createdTime",
                                  "sortDirection": "ASC"})
        body = resp.json()
        assert set(body) == {"content", "lastPage", "pageKey", "pageSize", "total"}
        assert body["pageSize"] == len(body["content"]) and body["pageKey"] == page_key + 40
        got += body["content"]
        if body["lastPage"]:
            break
        page_key = body["pageKey"]
    assert got == sbx.records("e-main", "recording_objects", start, end) and len(got) > 40
    for obj in got:
        created = datetime.fromisoformat(obj["createdTime"]).replace(tzinfo=UTC)
        assert start <= created < end and obj["type"] == "callcenterrecording"
    # every object names the agent of the VCC recording whose file its mediaUrl is
    calls = {c.call_id: c for c in sbx.calls("e-main", start - timedelta(days=1), end)}
    for obj in got:
        tags = {t["key"]: t["value"] for t in obj["tags"]}
        call = calls[int(tags["transactionId"])]
        assert tags["agentName"] == (call.agent.name if call.agent else "")
        assert tags["mediaUrl"].startswith(f"R{call.recording.start_at:%Y%m%d%H%M%S}")
    bad = client.get("/storage/us-east/v3/objects", headers={"Authorization": f"Bearer {token}"},
                     params={"limit": 101})
    assert bad.status_code == 400 and "limit" in bad.json()["message"]
