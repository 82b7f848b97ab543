"""Contract of the RingCentral emulator, over HTTP on a loopback port: OAuth (JWT grant, single-use
refresh, bad client/JWT, expiry), the call log's pagination, views, default window and filters,
quota headers, 429 with Retry-After and the penalty that restarts, injected faults, late appearance
of records and recording metadata."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from uc_pipeline.sandbox import Clock, FaultSpec, QuotaSpec, Sandbox, SandboxConnection
from uc_pipeline.sandbox.ringcentral.ids import record_id

NOW = datetime(2026, 2, 1, tzinfo=UTC)
DAY = (datetime(2026, 1, 6, tzinfo=UTC), datetime(2026, 1, 7, tzinfo=UTC))
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CALL_LOG = "/restapi/v1.0/account/~/call-log"
ROOMY = {"default": QuotaSpec(1000, 60.0), "auth": QuotaSpec(1000, 60.0)}


def rc(connection_id: str, **over) -> SandboxConnection:
    fields = dict(provider="ringcentral", connection_id=connection_id, seed=5, calls_per_day=80,
                  credentials={"client_id": f"cid-{connection_id}", "client_secret": f"sec-{connection_id}",
                               "jwt": f"eyJ.{connection_id}.sig"}, quotas=dict(ROOMY))
    fields.update(over)
    return SandboxConnection(**fields)


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    sandbox = Sandbox([rc("rc-main"), rc("rc-faults"),
                       rc("rc-penalty", quotas={"default": QuotaSpec(2, 0.2, 2.0), "auth": QuotaSpec(50, 60.0)})],
                      profile="fast", clock=Clock(frozen=NOW))
    with sandbox.serve(port=0):
        yield sandbox


@pytest.fixture()
def web(box: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=box.base_url("ringcentral"), timeout=10) as client:
        yield client


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def grant(web: httpx.Client, connection_id: str, *, secret: str | None = None, jwt: str | None = None,
          form: dict | None = None) -> httpx.Response:
    body = form or {"grant_type": JWT_GRANT, "assertion": jwt or f"eyJ.{connection_id}.sig"}
    return web.post("/restapi/oauth/token", data=body,
                    headers=basic(f"cid-{connection_id}", secret or f"sec-{connection_id}"))


def bearer(web: httpx.Client, connection_id: str) -> dict[str, str]:
    response = grant(web, connection_id)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def day_params(**extra) -> dict[str, str]:
    return {"dateFrom": "2026-01-06T00:00:00.000Z", "dateTo": "2026-01-07T00:00:00.000Z", **extra}


def test_jwt_grant_then_call_log_with_quota_headers(box: Sandbox, web: httpx.Client) -> None:
    token = grant(web, "rc-main")
    assert token.status_code == 200
    body = token.json()
    assert list(body) == ["access_token", "token_type", "expires_in", "refresh_token", "refresh_token_expires_in",
                          "scope", "owner_id"]
    assert body["token_type"] == "bearer" and token.headers["X-Rate-Limit-Group"] == "auth"
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    first = web.get(CALL_LOG, params=day_params(), headers=headers)
    second = web.get(CALL_LOG, params=day_params(), headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.headers["X-Rate-Limit-Group"] == "heavy"
    assert first.headers["X-Rate-Limit-Limit"] == "1000" and first.headers["X-Rate-Limit-Window"] == "60"
    assert int(second.headers["X-Rate-Limit-Remaining"]) == int(first.headers["X-Rate-Limit-Remaining"]) - 1


def test_refresh_tokens_are_single_use_and_kill_the_old_access_token(web: httpx.Client) -> None:
    first = grant(web, "rc-main").json()
    refreshed = grant(web, "rc-main", form={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert refreshed.status_code == 200
    new = refreshed.json()
    assert new["access_token"] != first["access_token"]
    old = web.get(CALL_LOG, params=day_params(), headers={"Authorization": f"Bearer {first['access_token']}"})
    assert old.status_code == 401 and old.json()["errorCode"] == "TokenInvalid"
    assert web.get(CALL_LOG, params=day_params(),
                   headers={"Authorization": f"Bearer {new['access_token']}"}).status_code == 200
    again = grant(web, "rc-main", form={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_bad_client_credentials_and_bad_jwt(box: Sandbox, web: httpx.Client) -> None:
    wrong_secret = grant(web, "rc-main", secret="nope")
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    assert wrong_secret.json()["errors"][0]["errorCode"] == "OAU-146"
    unknown = web.post("/restapi/oauth/token", data={"grant_type": JWT_GRANT, "assertion": "x"},
                       headers=basic("who", "knows"))
    assert unknown.status_code == 401
    assert box.request_log.entries()[-1].connection_id is None  # not tied to any connection
    assert web.post("/restapi/oauth/token", data={"grant_type": JWT_GRANT}).status_code == 401
    bad_jwt = grant(web, "rc-main", jwt="eyJ.forged.sig")
    assert bad_jwt.status_code == 400 and bad_jwt.json()["error"] == "invalid_grant"
    odd = grant(web, "rc-main", form={"grant_type": "password", "username": "x"})
    assert odd.status_code == 400 and odd.json()["error"] == "unsupported_grant_type"
    box.set_faults("rc-faults", FaultSpec(wrong_credentials=True))
    try:
        assert grant(web, "rc-faults").status_code == 401
    finally:
        box.set_faults("rc-faults", FaultSpec())


def test_missing_unknown_and_expired_tokens_get_401(box: Sandbox, web: httpx.Client) -> None:
    missing = web.get(CALL_LOG, params=day_params())
    assert missing.status_code == 401 and missing.json()["errors"][0]["errorCode"] == "OAU-134"
    unknown = web.get(CALL_LOG, params=day_params(), headers={"Authorization": "Bearer made-up"})
    assert unknown.status_code == 401 and unknown.json()["errorCode"] == "TokenInvalid"
    headers = bearer(web, "rc-main")
    box.clock.freeze(NOW + timedelta(seconds=3601))
    try:
        expired = web.get(CALL_LOG, params=day_params(), headers=headers)
    finally:
        box.clock.freeze(NOW)
    assert expired.status_code == 401 and expired.json()["errorCode"] == "TokenExpired"


def test_token_expiry_fault_kills_the_token_mid_run(box: Sandbox, web: httpx.Client) -> None:
    box.set_faults("rc-faults", FaultSpec(token_expiry_after=2))
    try:
        headers = bearer(web, "rc-faults")
        statuses = [web.get(CALL_LOG, params=day_params(), headers=headers).status_code for _ in range(4)]
        assert statuses == [200, 200, 401, 401]  # the token died and stays dead
        assert web.get(CALL_LOG, params=day_params(), headers=bearer(web, "rc-faults")).status_code == 200
        assert box.fault_counts("rc-faults").get("token_expiry") == 1
    finally:
        box.set_faults("rc-faults", FaultSpec())


def test_every_pagination_path(box: Sandbox, web: httpx.Client) -> None:
    headers = bearer(web, "rc-main")
    expected = [r["id"] for r in box.records("rc-main", "call_log", *DAY)]
    assert len(expected) > 21
    base = box.base_url("ringcentral")
    page = web.get(CALL_LOG, params=day_params(perPage="7", view="Detailed"), headers=headers).json()
    total_pages = -(-len(expected) // 7)
    seen, pages = [], []
    while True:
        pages.append(page)
        seen += [r["id"] for r in page["records"]]
        nav = page["navigation"]
        assert all(link["uri"].startswith(f"{base}/restapi/v1.0/account/~/call-log?") for link in nav.values())
        if "nextPage" not in nav:
            break
        page = web.get(nav["nextPage"]["uri"], headers=headers).json()
    assert seen == expected  # every record once, newest first
    assert len(pages) == total_pages
    first, middle, last = pages[0], pages[1], pages[-1]
    assert first["paging"] == {"page": 1, "perPage": 7, "pageStart": 0, "pageEnd": 7, "totalPages": total_pages,
                               "totalElements": len(expected)}
    assert "previousPage" not in first["navigation"] and "page=2" in first["navigation"]["nextPage"]["uri"]
    assert "page=1" in middle["navigation"]["previousPage"]["uri"]
    assert f"page={total_pages}" in first["navigation"]["lastPage"]["uri"]
    assert last["paging"]["pageEnd"] == len(expected)
    beyond = web.get(CALL_LOG, params=day_params(perPage="7", page=str(total_pages + 1)), headers=headers).json()
    assert beyond["records"] == [] and "nextPage" not in beyond["navigation"]
    everything = web.get(CALL_LOG, params=day_params(perPage="max"), headers=headers).json()
    assert everything["paging"]["perPage"] == 1000 and len(everything["records"]) == len(expected)
    default = web.get(CALL_LOG, params=day_params(), headers=headers).json()
    assert default["paging"]["perPage"] == 100
    # The numeric account id (it appears in every record uri) works as well as `~`.
    account = everything["records"][0]["uri"].split("/account/")[1].split("/")[0]
    assert web.get(f"/restapi/v1.0/account/{account}/call-log", params=day_params(),
                   headers=headers).status_code == 200


@pytest.mark.parametrize("name, value", [("perPage", "0"), ("perPage", "1001"), ("perPage", "many"), ("page", "0"),
                                         ("view", "Verbose"), ("dateFrom", "yesterday"), ("direction", "Sideways")])
def test_invalid_parameters_answer_400(web: httpx.Client, name: str, value: str) -> None:
    response = web.get(CALL_LOG, params=day_params(**{name: value}), headers=bearer(web, "rc-main"))
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "CMN-101" and body["errors"][0]["parameterName"] == name


def test_unknown_account_is_404(web: httpx.Client) -> None:
    response = web.get("/restapi/v1.0/account/123/call-log", params=day_params(), headers=bearer(web, "rc-main"))
    assert response.status_code == 404 and response.json()["errorCode"] == "CMN-102"


def test_detailed_and_simple_views(web: httpx.Client) -> None:
    headers = bearer(web, "rc-main")
    simple = web.get(CALL_LOG, params=day_params(), headers=headers).json()["records"]
    detailed = web.get(CALL_LOG, params=day_params(view="Detailed"), headers=headers).json()["records"]
    assert [r["id"] for r in simple] == [r["id"] for r in detailed]
    assert all("legs" not in r and r["uri"].endswith("?view=Simple") for r in simple)
    assert all(r["legs"] and r["uri"].endswith("?view=Detailed") for r in detailed)
    assert [{k: v for k, v in r.items() if k not in ("legs", "uri")} for r in detailed] == \
        [{k: v for k, v in r.items() if k != "uri"} for r in simple]
    inbound = web.get(CALL_LOG, params=day_params(direction="Inbound"), headers=headers).json()["records"]
    assert inbound and {r["direction"] for r in inbound} == {"Inbound"}
    assert web.get(CALL_LOG, params=day_params(type="Fax"), headers=headers).json()["records"] == []


def test_default_window_is_the_last_24_hours(box: Sandbox, web: httpx.Client) -> None:
    records = web.get(CALL_LOG, params={"perPage": "max", "view": "Detailed"},
                      headers=bearer(web, "rc-main")).json()["records"]
    assert records == box.records("rc-main", "call_log", NOW - timedelta(hours=24), NOW)


def test_429_with_retry_after_and_a_penalty_that_restarts(box: Sandbox, web: httpx.Client) -> None:
    headers = bearer(web, "rc-penalty")
    assert [web.get(CALL_LOG, params=day_params(), headers=headers).status_code for _ in range(2)] == [200, 200]
    throttled = web.get(CALL_LOG, params=day_params(), headers=headers)
    assert throttled.status_code == 429
    assert throttled.json()["errorCode"] == "CMN-301" and throttled.json()["errors"][0]["errorCode"] == "CMN-301"
    assert throttled.headers["Retry-After"] == "2" and throttled.headers["X-Rate-Limit-Remaining"] == "0"
    # The window (0.2 s) is long over, but each request inside the 2 s penalty starts it again.
    time.sleep(1.2)
    assert web.get(CALL_LOG, params=day_params(), headers=headers).status_code == 429
    time.sleep(1.2)  # past the first penalty, inside the restarted one
    assert web.get(CALL_LOG, params=day_params(), headers=headers).status_code == 429
    time.sleep(2.4)
    assert web.get(CALL_LOG, params=day_params(), headers=headers).status_code == 200
    assert len(box.request_log.violations("rc-penalty")) == 3


def test_injected_storms_and_5xx_use_the_provider_bodies(box: Sandbox, web: httpx.Client) -> None:
    headers = bearer(web, "rc-faults")
    box.set_faults("rc-faults", FaultSpec(storm_429=1, storm_429_no_retry_after=1))
    try:
        storm = web.get(CALL_LOG, params=day_params(), headers=headers)
        bare = web.get(CALL_LOG, params=day_params(), headers=headers)
        assert storm.status_code == bare.status_code == 429
        assert "Retry-After" in storm.headers and "Retry-After" not in bare.headers
        box.set_faults("rc-faults", FaultSpec(error_5xx_rate=1.0, seed=2))
        failed = web.get(CALL_LOG, params=day_params(), headers=headers)
        assert failed.status_code in (500, 502, 503)
        assert failed.json()["errorCode"] in ("CMN-201", "CMN-203") and "X-Rate-Limit-Group" in failed.headers
    finally:
        box.set_faults("rc-faults", FaultSpec())


def test_records_appear_15_to_30_seconds_after_the_call_ended(box: Sandbox, web: httpx.Client) -> None:
    call = box.calls("rc-main", *DAY)[10]
    conn = box.connection("rc-main")
    rid = record_id(conn, call)
    window = {"dateFrom": "2026-01-06T00:00:00Z", "dateTo": "2026-01-07T00:00:00Z", "perPage": "max"}

    def ids_at(moment: datetime) -> set[str]:
        box.clock.freeze(moment)
        try:
            return {r["id"] for r in web.get(CALL_LOG, params=window, headers=bearer(web, "rc-main")).json()["records"]}
        finally:
            box.clock.freeze(NOW)

    assert rid not in ids_at(call.end_at + timedelta(seconds=14))
    assert rid in ids_at(call.end_at + timedelta(seconds=31))
    record = next(r for r in box.records("rc-main", "call_log", *DAY) if r["id"] == rid)
    appeared = datetime.fromisoformat(record["lastModifiedTime"])
    assert timedelta(seconds=15) <= appeared - call.end_at <= timedelta(seconds=30)


def test_recording_metadata(box: Sandbox, web: httpx.Client) -> None:
    headers = bearer(web, "rc-main")
    recorded = next(r for r in box.records("rc-main", "call_log", *DAY) if "recording" in r)
    rec_id = recorded["recording"]["id"]
    meta = web.get(f"/restapi/v1.0/account/~/recording/{rec_id}", headers=headers)
    assert meta.status_code == 200
    body = meta.json()
    assert body["id"] == rec_id and body["contentUri"] == recorded["recording"]["contentUri"]
    assert body["contentType"] == "audio/mpeg" and body["duration"] > 0
    missing = web.get("/restapi/v1.0/account/~/recording/1953299999", headers=headers)
    assert missing.status_code == 404 and missing.json()["errors"][0]["parameterName"] == "recordingId"
