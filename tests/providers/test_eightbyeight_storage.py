"""8x8 Cloud Storage recording objects (`recording_objects`) extracted from the sandbox with the production client:
a day lands exactly the objects the sandbox created that day, a connection without the API key lands nothing
and sends no request, a refused key fails naming the credentials without showing them, and a page whose
`pageKey` does not advance fails the partition."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from uc_pipeline.connections import Connection, Secret
from uc_pipeline.extract import extract_partition
from uc_pipeline.http import AuthError, HttpSettings, PagingError, Quota
from uc_pipeline.landing import read_partition
from uc_pipeline.providers.base import ExtractStats, Window
from uc_pipeline.providers.eightbyeight import storage
from uc_pipeline.providers.eightbyeight.source import rate_headers
from uc_pipeline.sandbox import Clock, Sandbox, SandboxConnection

NOW = datetime(2026, 1, 9, 12, tzinfo=UTC)
DAY = date(2026, 1, 6)
SETTINGS = HttpSettings(timeout_s=5.0, max_attempts=3, backoff_base_s=0.02, backoff_max_s=0.2)
FAST = Quota(requests=1000, per_seconds=1.0)
CREDS = {"tenant": "acme", "token": "vcc-token", "api_key": "the-api-key", "api_secret": "the-api-secret"}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[Sandbox, str]]:
    conn = SandboxConnection(
        provider="eightbyeight",
        connection_id="e-store",
        credentials=dict(CREDS),
        seed=4,
        calls_per_day=150,
        history_start=date(2026, 1, 1),
        timezone="America/Los_Angeles",
    )
    sbx = Sandbox([conn], profile="fast", clock=Clock(frozen=NOW))
    with sbx.serve(port=0) as base:
        yield sbx, base


def connection(base: str, **creds: str) -> Connection:
    values = {**CREDS, **creds}
    return Connection(
        provider="eightbyeight",
        connection_id="e-store",
        base_url=f"{base}/eightbyeight",
        credentials={k: Secret(v) for k, v in values.items() if v},
        quotas={"default": FAST, "storage": FAST, "storage_auth": FAST},
    )


def test_a_day_lands_exactly_the_objects_created_that_day(sandbox, tmp_path: Path) -> None:
    sbx, base = sandbox
    start = datetime(DAY.year, DAY.month, DAY.day, tzinfo=UTC)
    expected = {o["id"]: o for o in sbx.records("e-store", "recording_objects", start, start + timedelta(days=1))}
    assert len(expected) > 100  # more than one page of 100
    result = extract_partition(connection(base), "recording_objects", DAY, data_dir=tmp_path, settings=SETTINGS)
    rows = read_partition(tmp_path, "eightbyeight", "recording_objects", "e-store", DAY).to_pylist()
    assert {r["_record_id"]: json.loads(r["_record"]) for r in rows} == expected
    assert result.stats.pages == -(-len(expected) // 100)


def test_without_an_api_key_the_stream_lands_nothing_and_asks_nothing(sandbox, tmp_path: Path) -> None:
    _, base = sandbox
    conn = connection(base, api_key="", api_secret="")
    result = extract_partition(conn, "recording_objects", DAY, data_dir=tmp_path, settings=SETTINGS)
    assert result.landed.rows == 0 and result.http["requests"] == 0
    assert any("api_key" in n for n in result.stats.notes)


def test_a_key_without_its_secret_is_refused_with_the_fix(sandbox, tmp_path: Path) -> None:
    _, base = sandbox
    with pytest.raises(ValueError, match="'api_secret' is not"):
        extract_partition(
            connection(base, api_secret=""), "recording_objects", DAY, data_dir=tmp_path, settings=SETTINGS
        )


def test_a_refused_key_fails_naming_the_credentials_and_never_shows_them(sandbox, tmp_path: Path) -> None:
    _, base = sandbox
    conn = connection(base, api_secret="wrong-secret-value")
    with pytest.raises(AuthError) as info:
        extract_partition(conn, "recording_objects", DAY, data_dir=tmp_path, settings=SETTINGS)
    message = str(info.value)
    assert "api_key" in message and "e-store" in message
    assert "wrong-secret-value" not in message and "the-api-key" not in message


def test_the_storage_base_is_8x8s_api_for_a_vcc_host_and_the_base_url_otherwise() -> None:
    vcc = Connection(provider="eightbyeight", connection_id="c", base_url="https://vcc-na4.8x8.com", credentials={})
    assert storage.storage_base(vcc) == "https://api.8x8.com"
    other = Connection(
        provider="eightbyeight", connection_id="c", base_url="http://127.0.0.1:9/eightbyeight", credentials={}
    )
    assert storage.storage_base(other) == "http://127.0.0.1:9/eightbyeight"
    window = Window(datetime(2024, 9, 1, tzinfo=UTC), datetime(2024, 9, 2, tzinfo=UTC))
    # the documented example's form: epoch ms, =ge= and =le= (the day's last millisecond)
    assert storage.window_filter(window) == (
        "type==callcenterrecording;createdTime=ge=1725148800000;createdTime=le=1725235199999"
    )


def test_a_page_key_that_does_not_advance_fails_the_partition() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/v2/token"):
            return httpx.Response(200, json={"access_token": "tok-123456", "expires_in": "1799"})
        obj = {"id": f"o-{request.url.params['pageKey']}"}
        return httpx.Response(200, json={"content": [obj], "lastPage": False, "pageKey": 0, "pageSize": 1})

    conn = Connection(
        provider="eightbyeight",
        connection_id="c",
        base_url="http://proxy.test",
        credentials={k: Secret(v) for k, v in CREDS.items()},
        options={"storage_regions": ["us-east"]},
        quotas={"storage": FAST, "storage_auth": FAST},
    )
    objects = storage.RecordingObjects(conn, SETTINGS, "8x8", rate_headers, transport=httpx.MockTransport(handler))
    window = Window(datetime(2026, 1, 6, tzinfo=UTC), datetime(2026, 1, 7, tzinfo=UTC))
    with pytest.raises(PagingError, match="does not advance"):
        list(objects.records(window, ExtractStats()))


def test_the_regions_are_asked_once_per_process_and_connection() -> None:
    """Partitions extracted one after another (a backfill's step) reuse the account's regions."""
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path.endswith("/oauth/v2/token"):
            return httpx.Response(200, json={"access_token": "tok-654321", "expires_in": "1799"})
        if request.url.path.endswith("/regions"):
            return httpx.Response(200, json=["us-east", "uk"])
        return httpx.Response(200, json={"content": [], "lastPage": True, "pageKey": 100, "pageSize": 0})

    conn = Connection(
        provider="eightbyeight",
        connection_id="c-regions",
        base_url="http://regions.test",
        credentials={k: Secret(v) for k, v in CREDS.items()},
        quotas={"storage": FAST, "storage_auth": FAST},
    )
    for day in (6, 7):
        objects = storage.RecordingObjects(conn, SETTINGS, "8x8", rate_headers, transport=httpx.MockTransport(handler))
        window = Window(datetime(2026, 1, day, tzinfo=UTC), datetime(2026, 1, day + 1, tzinfo=UTC))
        assert list(objects.records(window, ExtractStats())) == []
    assert asked.count("/storage/us-east/v3/regions") == 1
    assert asked.count("/storage/us-east/v3/objects") == asked.count("/storage/uk/v3/objects") == 2
