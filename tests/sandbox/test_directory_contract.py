"""Contract of the emulators' directory endpoints and of the endpoints a third-party client calls on connect,
over HTTP on a loopback port, through the pipeline's own authenticated clients: vendor-shaped bodies, each
vendor's paging, the directory the calls name (same agents, queues, numbers), and the vendor's JSON 404 for
a path no route serves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from uc_pipeline.connections import Connection, load_connections
from uc_pipeline.http import HttpSettings
from uc_pipeline.providers import get_provider
from uc_pipeline.providers.base import ExtractStats
from uc_pipeline.sandbox import Sandbox

NOW = datetime(2026, 3, 10, tzinfo=UTC)
SETTINGS = HttpSettings(timeout_s=10.0, backoff_base_s=0.05, backoff_max_s=1.0, max_attempts=1)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, dict[str, Connection]]]:
    sandbox = Sandbox(Sandbox.default_connections(calls_per_day=120, seed=3), profile="fast")
    with sandbox.serve(port=0) as base:
        yaml_text, env = sandbox.connections_yaml(base)
        path: Path = tmp_path_factory.mktemp("contract") / "connections.yaml"
        path.write_text(yaml_text, encoding="utf-8")
        yield sandbox, {c.provider: c for c in load_connections(path, env)}


def get_json(connection: Connection, path: str, params: dict[str, Any] | None = None) -> Any:
    with get_provider(connection.provider)(connection, SETTINGS) as source:
        client = getattr(source, "client", None) or source._client
        return client.parse_json(client.get(path, params=params))


def listing(connection: Connection, stream: str) -> list[dict[str, Any]]:
    with get_provider(connection.provider)(connection, SETTINGS) as source:
        stats = ExtractStats()
        records = [record for _, record in source.directory(stream, stats)]
    assert stats.pages >= 1
    return records


def test_aircall_company_and_directory(served: tuple[Sandbox, dict[str, Connection]]) -> None:
    sandbox, conns = served
    aircall = conns["aircall"]
    company = get_json(aircall, "/v1/company")["company"]
    users = listing(aircall, "users")
    numbers = listing(aircall, "numbers")
    assert set(company) >= {"name", "users_count", "numbers_count"}
    assert company["users_count"] == len(users) and company["numbers_count"] == len(numbers)
    page = get_json(aircall, "/v1/users", {"per_page": 2, "page": 1})
    assert len(page["users"]) == 2 and page["meta"]["total"] == len(users) and page["meta"]["next_page_link"]
    calls = sandbox.calls(aircall.connection_id, NOW.replace(day=2), NOW.replace(day=3))
    assert {c.agent.name for c in calls if c.agent} <= {u["name"] for u in users}
    assert {c.queue.name for c in calls if c.queue} <= {n["name"] for n in numbers}
    teams = listing(aircall, "teams")
    assert {t["name"] for t in teams} >= {c.queue.name for c in calls if c.queue}
    assert all(t["users"] for t in teams)
    contacts = listing(aircall, "contacts")
    assert all(set(c) >= {"id", "first_name", "last_name", "company_name", "emails", "phone_numbers"} for c in contacts)


def test_ringcentral_extensions_call_log_and_business_hours(served: tuple[Sandbox, dict[str, Connection]]) -> None:
    sandbox, conns = served
    rc = conns["ringcentral"]
    extensions = listing(rc, "extensions")
    types = {e["type"] for e in extensions}
    assert {"User", "Department", "IvrMenu"} <= types
    calls = sandbox.calls(rc.connection_id, NOW.replace(day=2), NOW.replace(day=3))
    queues = {e["name"] for e in extensions if e["type"] == "Department"}
    assert {c.queue.name for c in calls if c.queue} <= queues
    assert {c.agent.name for c in calls if c.agent} <= {e["name"] for e in extensions if e["type"] == "User"}
    page = get_json(rc, "/restapi/v1.0/account/~/extension", {"perPage": 3, "page": 1})
    assert page["paging"]["totalElements"] == len(extensions) and "nextPage" in page["navigation"]
    agent = next(e for e in extensions if e["type"] == "User" and e["name"] in {c.agent.name for c in calls if c.agent})
    log = get_json(rc, f"/restapi/v1.0/account/~/extension/{agent['id']}/call-log",
                   {"dateFrom": "2026-03-02T00:00:00.000Z", "dateTo": "2026-03-03T00:00:00.000Z", "perPage": 1000})
    assert set(log) >= {"uri", "records", "paging", "navigation"}
    assert log["records"], "the agent took calls that day"
    owner_log = get_json(rc, "/restapi/v1.0/account/~/extension/~/call-log")
    assert owner_log["records"] == []
    hours = get_json(rc, "/restapi/v1.0/account/~/business-hours")
    assert hours["schedule"]["weeklyRanges"]["monday"] == [{"from": "09:00", "to": "18:00"}]


def test_zendesk_directory_and_account_overview(served: tuple[Sandbox, dict[str, Connection]]) -> None:
    sandbox, conns = served
    zendesk = conns["zendesk"]
    overview = get_json(zendesk, "/api/v2/channels/voice/stats/account_overview")["account_overview"]
    assert {"average_call_duration", "total_calls", "total_inbound_calls"} <= set(overview)
    users = listing(zendesk, "users")
    assert {u["role"] for u in users} == {"agent", "admin"}
    page = get_json(zendesk, "/api/v2/users", {"page[size]": 2, "role[]": ["agent", "admin"]})
    assert len(page["users"]) == 2 and page["meta"]["has_more"] and page["links"]["next"]
    calls = sandbox.calls(zendesk.connection_id, NOW.replace(day=2), NOW.replace(day=3))
    assert {c.agent.name for c in calls if c.agent} <= {u["name"] for u in users}
    groups = listing(zendesk, "groups")
    assert {c.queue.name for c in calls if c.queue} <= {g["name"] for g in groups}
    lines = listing(zendesk, "phone_numbers")
    assert {line["default_group_id"] for line in lines} <= {g["id"] for g in groups}


@pytest.mark.parametrize(
    ("provider", "path", "field"),
    [
        ("aircall", "/v1/no-such-thing", "troubleshoot"),
        ("ringcentral", "/restapi/v1.0/account/~/no-such-thing", "errorCode"),
        ("zendesk", "/api/v2/no_such_thing", "error"),
    ],
)
def test_unknown_paths_answer_the_vendors_json_404(
    served: tuple[Sandbox, dict[str, Connection]], provider: str, path: str, field: str
) -> None:
    sandbox, _ = served
    response = httpx.get(sandbox.base_url(provider) + path, timeout=10)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert field in response.json()
