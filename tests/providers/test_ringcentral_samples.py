"""The RingCentral client and emulator against RingCentral's own documentation samples
(tests/fixtures/ringcentral/, verbatim copies): the client reads vendor pages verbatim, parses the
vendor's token response, rate headers and error bodies, refuses odd pages with a clear error, and
the emulator renders records, tokens and errors of the same shapes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from uc_pipeline.connections import Connection, Secret
from uc_pipeline.http import AuthError, HttpSettings, MalformedResponseError, Quota
from uc_pipeline.providers.base import ExtractStats, Window
from uc_pipeline.providers.ringcentral import auth as ringcentral_auth
from uc_pipeline.providers.ringcentral.source import SOURCE, parse_retry_after, rate_headers
from uc_pipeline.sandbox import Clock, Sandbox
from uc_pipeline.sandbox.ringcentral.emulator import EMULATOR

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ringcentral"
BASE = "https://platform.ringcentral.com"
SETTINGS = HttpSettings(timeout_s=5.0, max_attempts=3, backoff_base_s=0.01, backoff_max_s=0.05)
WINDOW = Window(datetime(2023, 4, 10, tzinfo=UTC), datetime(2023, 4, 12, tzinfo=UTC))


@pytest.fixture(autouse=True)
def fresh_token_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tokens are cached per process and connection; every test here starts without one."""
    monkeypatch.setattr(ringcentral_auth._MemoryStore, "_tokens", {})


def http_sample(name: str) -> tuple[int, dict[str, str], str]:
    head, _, body = (FIXTURES / name).read_text(encoding="utf-8").partition("\n\n")
    lines = head.splitlines()
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return status, headers, body


def detailed_sample() -> dict:
    """The Detailed list sample without the record the vendor elided with a literal `...`."""
    text = (FIXTURES / "call_log_list_detailed_view_partial.jsonc").read_text(encoding="utf-8")
    text = re.sub(r",\s*\{\s*\"uri\"[^{}]*?\.\.\.\s*\}", "", text)
    return json.loads(text)


def connection(connection_id: str = "rc-samples") -> Connection:
    return Connection(
        provider="ringcentral", connection_id=connection_id, base_url=BASE,
        credentials={"client_id": Secret("cid-sample"), "client_secret": Secret("csecret-sample"),
                     "jwt": Secret("eyJ.sample-jwt.sig")},
        quotas={"default": Quota(1000, 1.0), "auth": Quota(1000, 1.0)},
    )


def serve(pages: list[tuple[int, dict]], *, token_status: int = 200, token_body: str | None = None):
    """A MockTransport answering the token endpoint and then `pages` in order; records the requests."""
    _, token_headers, sample_token = http_sample("oauth_token_jwt_response.http")
    seen: list[httpx.Request] = []
    queue = list(pages)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/restapi/oauth/token":
            return httpx.Response(token_status, headers={"Content-Type": "application/json"},
                                  content=(token_body or sample_token).encode())
        status, body = queue.pop(0)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handler), seen


def extract(transport: httpx.MockTransport, conn: Connection | None = None) -> tuple[list, ExtractStats]:
    stats = ExtractStats()
    with SOURCE(conn or connection(), SETTINGS, transport=transport) as source:
        return list(source.records("call_log", WINDOW, stats)), stats


def test_simple_view_sample_is_read_verbatim() -> None:
    page = json.loads((FIXTURES / "call_log_list_simple_view.json").read_text(encoding="utf-8"))
    transport, seen = serve([(200, page)])
    got, stats = extract(transport)
    assert got == [(r["id"], r) for r in page["records"]]
    assert stats.pages == 1 and stats.reported_total is None  # the sample omits the totals
    token_request, page_request = seen
    assert token_request.headers["authorization"].startswith("Basic ")
    assert b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer" in token_request.content
    assert page_request.headers["authorization"] == "Bearer U1BCMDFUMDRKV1MwMXxzLFSvXdw5PHMsVLEn_MrtcyxUsw"
    params = page_request.url.params
    assert (params["view"], params["perPage"]) == ("Detailed", "1000")
    assert (params["dateFrom"], params["dateTo"]) == ("2023-04-10T00:00:00.000Z", "2023-04-12T00:00:00.000Z")


def test_detailed_sample_keeps_legs_and_follows_next_page() -> None:
    first = detailed_sample()
    first["navigation"]["nextPage"] = {"uri": f"{BASE}/restapi/v1.0/account/~/call-log?page=2&perPage=1000"}
    second = json.loads((FIXTURES / "call_log_list_simple_view.json").read_text(encoding="utf-8"))
    second["records"] = second["records"][1:]
    second["paging"]["page"] = 2
    transport, seen = serve([(200, first), (200, second)])
    got, stats = extract(transport)
    assert [rid for rid, _ in got] == ["VgLcd1KWffJVzUA", "ASaoSC9FIMaOF24"]
    assert got[0][1]["legs"][1]["legType"] == "PstnToSip"
    assert stats.pages == 2
    assert seen[-1].url.params["page"] == "2"


def test_records_outside_the_window_are_left_to_their_day() -> None:
    page = json.loads((FIXTURES / "call_log_list_simple_view.json").read_text(encoding="utf-8"))
    transport, _ = serve([(200, page)])
    stats = ExtractStats()
    narrow = Window(datetime(2023, 4, 10, tzinfo=UTC), datetime(2023, 4, 11, tzinfo=UTC))
    with SOURCE(connection(), SETTINGS, transport=transport) as source:
        got = list(source.records("call_log", narrow, stats))
    assert [rid for rid, _ in got] == ["VgLcd1KWffJVzUA"]
    assert stats.notes and "outside the window" in stats.notes[0]


@pytest.mark.parametrize("mutate, problem", [
    (lambda p: p.pop("records"), "no `records` list"),
    (lambda p: p["records"][0].pop("id"), "no string `id`"),
    (lambda p: p["navigation"].update(nextPage={"uri": "https://evil.example.com/restapi/x"}), "leaves"),
    (lambda p: p["navigation"].update(nextPage={}), "has no `uri`"),
    (lambda p: p["records"][0].update(startTime="yesterday"), "unreadable startTime"),
])
def test_unexpected_pages_raise_a_clear_error(mutate, problem) -> None:
    page = json.loads((FIXTURES / "call_log_list_simple_view.json").read_text(encoding="utf-8"))
    mutate(page)
    transport, _ = serve([(200, page)])
    with pytest.raises(MalformedResponseError, match=re.escape(problem)) as info:
        extract(transport)
    assert "rc-samples" in str(info.value) and "Nothing of this partition was landed" in str(info.value)


def test_next_page_pointing_back_is_refused() -> None:
    page = json.loads((FIXTURES / "call_log_list_simple_view.json").read_text(encoding="utf-8"))
    page["navigation"]["nextPage"] = {"uri": f"{BASE}/restapi/v1.0/account/~/call-log?page=2"}
    again = json.loads(json.dumps(page))
    for record in again["records"]:
        record["id"] += "-2"  # new records, so that only the link itself is wrong
    transport, _ = serve([(200, page), (200, again)])
    with pytest.raises(MalformedResponseError, match="already read"):
        extract(transport)


def test_a_next_page_repeating_the_same_records_is_refused() -> None:
    page = json.loads((FIXTURES / "call_log_list_simple_view.json").read_text(encoding="utf-8"))
    pages = []
    for n in (2, 3):
        copy = json.loads(json.dumps(page))
        copy["navigation"]["nextPage"] = {"uri": f"{BASE}/restapi/v1.0/account/~/call-log?page={n}"}
        pages.append((200, copy))
    transport, _ = serve(pages)
    with pytest.raises(MalformedResponseError, match="no record not already seen") as info:
        extract(transport)
    text = str(info.value)
    assert "rc-samples" in text and "RingCentral call_log" in text and "page=" in text


def numbered_pages(count: int, total: int) -> list[tuple[int, dict]]:
    """`count` pages of the sample's records under new ids, each announcing the next, all reporting `total`."""
    sample = json.loads((FIXTURES / "call_log_list_simple_view.json").read_text(encoding="utf-8"))
    pages = []
    for n in range(1, count + 1):
        page = json.loads(json.dumps(sample))
        for record in page["records"]:
            record["id"] += f"-p{n}"
        page["paging"] = {"page": n, "perPage": 1000, "totalElements": total}
        page["navigation"]["nextPage"] = {"uri": f"{BASE}/restapi/v1.0/account/~/call-log?page={n + 1}"}
        pages.append((200, page))
    return pages


def test_pages_past_what_total_elements_justifies_fail() -> None:
    # Five records reported, pages of up to 1000 holding two each: a third page cannot be justified.
    transport, seen = serve(numbered_pages(5, total=5))
    with pytest.raises(MalformedResponseError, match="needs at most 2") as info:
        extract(transport)
    assert len(seen) == 1 + 3  # the token, then three pages
    assert "totalElements=5" in str(info.value) and "page=3" in str(info.value)


def test_more_distinct_records_than_total_elements_fail() -> None:
    records = len(json.loads((FIXTURES / "call_log_list_simple_view.json").read_text(encoding="utf-8"))["records"])
    transport, _ = serve(numbered_pages(2, total=records))
    with pytest.raises(MalformedResponseError, match=f"reports a total of {records}"):
        extract(transport)


def test_vendor_403_body_raises_auth_error_naming_the_permission() -> None:
    body = json.loads((FIXTURES / "error_403_insufficient_permissions.json").read_text(encoding="utf-8"))
    transport, _ = serve([(403, body)])
    with pytest.raises(AuthError, match="ReadCallLog") as info:
        extract(transport)
    assert info.value.status == 403
    assert "csecret-sample" not in str(info.value) and "sample-jwt" not in str(info.value)


def test_refused_jwt_grant_says_what_to_check_without_secrets() -> None:
    body = json.dumps({"error": "invalid_grant", "errors": [{"errorCode": "OAU-140", "message": "Invalid"}],
                       "error_description": "Invalid resource owner credentials."})
    transport, seen = serve([], token_status=400, token_body=body)
    with pytest.raises(AuthError, match="jwt") as info:
        extract(transport)
    assert "RingCentral refused to issue a token" in str(info.value) and "sample-jwt" not in str(info.value)
    assert len(seen) == 1  # a 400 on the token endpoint is not retried


def test_token_sample_and_rate_header_sample_are_parsed() -> None:
    _, headers, _ = http_sample("rate_limit_headers_example.http")
    info = rate_headers(httpx.Response(200, headers=headers))
    assert (info.limit, info.remaining, info.window, info.retry_after) == (1000, 999, 60.0, None)
    throttled = rate_headers(httpx.Response(429, headers={**headers, "Retry-After": "37"}))
    assert throttled.retry_after == 37.0
    # Without Retry-After the penalty is the reported window, else the configured penalty.
    assert rate_headers(httpx.Response(429, headers=headers)).retry_after == 60.0
    assert rate_headers(httpx.Response(429), penalty_s=12.0).retry_after == 12.0
    later = (datetime.now(UTC) + timedelta(seconds=90)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 80 <= (parse_retry_after(later) or 0) <= 91
    assert parse_retry_after("soon") is None


# --- the emulator renders the vendor's shapes ------------------------------------------------------

@pytest.fixture(scope="module")
def box() -> Sandbox:
    return Sandbox(Sandbox.default_connections(providers=["ringcentral"], calls_per_day=150, seed=4),
                   clock=Clock(frozen=datetime(2026, 2, 1, tzinfo=UTC)))


def test_emulated_records_have_the_vendor_shapes(box: Sandbox) -> None:
    sample = detailed_sample()["records"][0]
    simple = json.loads((FIXTURES / "call_log_record_simple.json").read_text(encoding="utf-8"))
    records = box.records("demo-ringcentral", "call_log", datetime(2026, 1, 6, tzinfo=UTC),
                          datetime(2026, 1, 7, tzinfo=UTC))
    assert len(records) > 50
    record_keys = set(sample) | set(simple) | {"reason", "reasonDescription", "extension", "message"}
    leg_keys = {k for leg in sample["legs"] for k in leg} | {"reason", "master", "legIndex"}
    for record in records:
        assert set(record) <= record_keys
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", record["startTime"])
        assert re.fullmatch(r"[0-9A-Za-z]{15}", record["id"])
        assert record["uri"].endswith(f"/call-log/{record['id']}?view=Detailed")
        for key in ("duration", "durationMs"):
            assert isinstance(record[key], int)
        assert record["duration"] == record["durationMs"] // 1000
        assert record["direction"] in ("Inbound", "Outbound") and record["type"] == "Voice"
        if "recording" in record:
            assert set(record["recording"]) == set(sample["recording"])
        assert set(record["billing"]) == set(sample["billing"])
        assert record["legs"][0]["master"] is True
        for leg in record["legs"]:
            assert set(leg) <= leg_keys
    assert {r["result"] for r in records} >= {"Accepted", "Call connected", "Missed"}


def test_emulated_token_and_error_bodies_have_the_vendor_shapes(box: Sandbox) -> None:
    from uc_pipeline.sandbox.ringcentral.auth import TokenBook, _token_response
    from uc_pipeline.sandbox.ringcentral.http import platform_error

    _, _, body = http_sample("oauth_token_jwt_response.http")
    token = json.loads(_token_response(TokenBook().issue(box.connection("demo-ringcentral"), box.clock.now())).body)
    assert list(token) == list(json.loads(body))
    assert token["token_type"] == "bearer" and token["expires_in"] == 3600
    vendor = json.loads((FIXTURES / "error_403_insufficient_permissions.json").read_text(encoding="utf-8"))
    ours = json.loads(platform_error(403, "CMN-401", "needs [ReadCallLog]", top_code="InsufficientPermissions",
                                     permissionName="ReadCallLog").body)
    assert set(ours) == set(vendor) and set(ours["errors"][0]) == set(vendor["errors"][0])


def test_client_and_emulator_agree_on_quotas_and_credentials() -> None:
    assert SOURCE.credential_fields == EMULATOR.credential_fields
    for group, spec in EMULATOR.default_quotas.items():
        quota = SOURCE.default_quotas[group]
        assert (quota.requests, quota.per_seconds, quota.penalty_seconds) == (spec.requests, spec.window_s,
                                                                              spec.penalty_s)
        assert EMULATOR.fast_quotas[group].requests == spec.requests
