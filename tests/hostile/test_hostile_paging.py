"""Hostile providers against the paging guards, through the production path: a Dagster materialization of
an extract asset's partition, with a connections file pointing at a loopback server that speaks the
provider's real paths and auth but pages wrongly. Every case must end in its documented failure after a
bounded number of requests (counted by the server), land nothing, and say what went wrong where."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
import yaml

from uc_pipeline.assets.extract import build_extract_asset
from uc_pipeline.assets.partitions import daily_partitions
from uc_pipeline.assets.resources import PipelineResource
from uc_pipeline.landing import partition_path

from .paging_servers import (
    CREDENTIALS,
    Behaviour,
    aircall_empty_pages_forever,
    aircall_lying_total,
    aircall_same_page_whatever_the_query,
    eightbyeight_creeping_one_new_per_page,
    eightbyeight_endless_new_pages,
    eightbyeight_ignores_n,
    hostile_server,
    zendesk_backwards,
    zendesk_creeping,
)

DAY = date(2026, 3, 2)
WINDOW = "[2026-03-02T00:00:00+00:00, 2026-03-03T00:00:00+00:00)"
PARTITIONS = daily_partitions(date(2026, 1, 1))
CONNECTION_ID = "hostile-1"
FIELDS = {"aircall": ("api_id", "api_token"), "eightbyeight": ("tenant", "token"), "zendesk": ("email", "api_token")}
STREAMS = {"aircall": "calls", "eightbyeight": "recordings", "zendesk": "calls"}
TITLES = {"aircall": "Aircall", "eightbyeight": "8x8 Virtual Contact Center", "zendesk": "Zendesk Talk"}


@dataclass(frozen=True)
class Case:
    provider: str
    behaviour: Behaviour
    requests: int  # how many requests the guard lets through before the partition fails (or at most)
    says: tuple[str, ...]  # what the failure must say, besides provider, connection and window
    options: dict = field(default_factory=dict)  # the connection's options
    exact: bool = True  # False: bounded by seconds, so `requests` is an upper bound


CASES = {
    "aircall-empty-pages-with-next-link-forever": Case(
        "aircall", aircall_empty_pages_forever, 1,
        ("no record not already seen, yet announces another page", "from=", "page=1", "meta.total=1000")),
    "aircall-lying-total-50000-honest-calls": Case(
        "aircall", aircall_lying_total(calls_in_day=120, total=50_000), 4,
        ("no record not already seen", "page=4", "meta.total=50000")),
    "aircall-lying-total-same-page-whatever-the-query": Case(
        "aircall", aircall_same_page_whatever_the_query, 2,
        ("no record not already seen", "page=2", "meta.total=50000")),
    "aircall-total-lower-than-landed": Case(
        "aircall", aircall_lying_total(calls_in_day=120, total=60), 2,
        ("100 distinct records", "reports a total of 60", "page=2")),
    "eightbyeight-ignores-n-same-full-page": Case(
        "eightbyeight", eightbyeight_ignores_n, 2,
        ("no record not already seen", "n=51", "d=20260302T0000Z,20260303T0000Z")),
    "zendesk-end-time-backwards": Case(
        "zendesk", zendesk_backwards, 2,
        ("end_time went backwards", "start_time=1772413200", "end_time=1772411400")),
    "zendesk-creeping-one-second-new-call-per-page": Case(
        "zendesk", zendesk_creeping(fresh=True), 2,
        ("the cursor is creeping", "caught up", "start_time=1772409601", "end_time=1772409602")),
    "zendesk-creeping-one-second-same-call-per-page": Case(
        "zendesk", zendesk_creeping(fresh=False), 2,
        ("only records already read", "start_time=1772409601", "end_time=1772409602")),
    # Every page new and full: nothing but the partition's time budget (2 s here) can end it; at the
    # connection's quota (20 requests/s) that is at most 3 windows' worth of requests.
    "eightbyeight-new-full-pages-forever": Case(
        "eightbyeight", eightbyeight_endless_new_pages, 20 * 3 + 1,
        ("past its budget of 2 s", "options.max_partition_seconds"),
        options={"max_partition_seconds": 2}, exact=False),
    # One new recording per full page: progress, however slow, so again only the time budget ends it.
    "eightbyeight-creeping-one-new-recording-per-page": Case(
        "eightbyeight", eightbyeight_creeping_one_new_per_page, 20 * 3 + 1,
        ("past its budget of 2 s", "options.max_partition_seconds", "records=50"),
        options={"max_partition_seconds": 2}, exact=False),
}

def connections_file(tmp_path: Path, case: Case, base_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    provider = case.provider
    credentials = {}
    for name, value in zip(FIELDS[provider], CREDENTIALS[provider], strict=True):
        var = f"UC_HOSTILE_{name.upper()}"
        # Zendesk's Basic user is `{email}/token`; the pipeline adds the `/token` itself.
        monkeypatch.setenv(var, value.removesuffix("/token"))
        credentials[name] = var
    entry = {"provider": provider, "connection_id": CONNECTION_ID, "base_url": base_url,
             "credentials": credentials, "history_start": "2026-01-01",
             # High enough that the guards, not the limiter, bound the requests; low enough to bound a
             # case that only its time budget can end.
             "quota": {"requests": 20, "per_seconds": 1}, "options": case.options}
    path = tmp_path / "connections.yaml"
    path.write_text(yaml.safe_dump({"connections": [entry]}), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_paging_fails_the_partition_within_a_few_requests(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES[name]
    stream = STREAMS[case.provider]
    with hostile_server(case.provider, case.behaviour) as served:
        conns = connections_file(tmp_path, case, served.base_url, monkeypatch)
        resource = PipelineResource(data_dir=str(tmp_path / "data"), connections_file=str(conns))
        started = time.monotonic()
        result = dg.materialize(
            [build_extract_asset(case.provider, stream, PARTITIONS)],
            resources={"uc": resource},
            instance=dg.DagsterInstance.ephemeral(),
            partition_key=DAY.isoformat(),
            raise_on_error=False,
        )
        seconds = time.monotonic() - started
        requests = served.count
    print(f"\n{name}: {requests} request(s), {seconds:.2f} s")  # the figures of the hardening note

    assert not result.success
    if case.exact:
        assert requests == case.requests, served.requests
    else:
        assert 2 <= requests <= case.requests
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    for fragment in (f"[{CONNECTION_ID}]", TITLES[case.provider], stream, WINDOW, *case.says):
        assert fragment in message, f"{fragment!r} missing from: {message}"
    assert "previous file is kept" in message  # and what to do
    assert any(word in message for word in ("Re-run", "re-run"))
    assert CREDENTIALS[case.provider][1] not in message
    assert not partition_path(tmp_path / "data", case.provider, stream, CONNECTION_ID, DAY).exists()
