"""Hostile RingCentral platforms against the paging guards and the OAuth client, through the production
path: a Dagster materialization of `raw/ringcentral/call_log` for a day that an honest platform landed
before. Every case must fail the partition after a bounded number of requests (counted by the server),
say what went wrong and what to do, show no secret, and keep the day's previous file byte for byte."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest
import yaml

from uc_pipeline.assets.extract import build_extract_asset
from uc_pipeline.assets.resources import PipelineResource
from uc_pipeline.landing import partition_path

from .paging_servers import Behaviour, Page, Served
from .ringcentral_servers import (
    CLIENT_ID,
    CLIENT_SECRET,
    JWT,
    TokenBehaviour,
    call_log_requests,
    empty_page_announcing_next,
    honest,
    issue_token,
    next_page_drops_the_date_filter,
    next_page_is_this_page,
    reported_total,
    ringcentral_server,
    same_records_every_page,
    token_always_401,
    token_requests,
    token_without_access_token,
)
from .test_hostile_paging import CONNECTION_ID, DAY, PARTITIONS, WINDOW

STREAM = "call_log"
PER_PAGE = 50
HONEST_CALLS = 120  # three pages at PER_PAGE: what the day held before the hostile run


def refuse_every_token(served: Served, path: str, query: dict[str, str]) -> Page:
    """The call log refuses whatever token the platform itself just issued."""
    return 401, "application/json", b'{"errorCode": "TokenInvalid", "message": "Token is not valid"}'


@dataclass(frozen=True)
class Case:
    behaviour: Behaviour
    pages: int  # call-log requests before the partition fails (or at most, when not `exact`)
    says: tuple[str, ...]
    token: TokenBehaviour = issue_token
    tokens: int = 1  # token requests
    paging: bool = True  # a PagingError: names title, stream, window; keeps the previous file; re-run
    options: dict = field(default_factory=dict)
    exact: bool = True


CASES = {
    "next-page-uri-is-this-page": Case(
        next_page_is_this_page, 1, ("`navigation.nextPage.uri` points back at page 1, already read", "page=1")),
    "same-records-on-every-page": Case(
        same_records_every_page, 2, ("no record not already seen", "page=2", "totalElements=5000")),
    "empty-page-announcing-next": Case(
        empty_page_announcing_next, 1,
        ("no record not already seen, yet announces another page", "page=1", "totalElements=300")),
    "total-elements-lower-than-landed": Case(
        reported_total(HONEST_CALLS, lambda served, page: 60, endless=False), 2,
        ("100 distinct records", "reports a total of 60", "page=2")),
    "new-pages-past-the-total": Case(
        reported_total(HONEST_CALLS, lambda served, page: 100, endless=True), 3,
        ("150 distinct records", "reports a total of 100", "page=3")),
    # totalElements keeps one page ahead of what was read, every page new: only the time budget ends it.
    "total-growing-one-page-ahead-forever": Case(
        reported_total(HONEST_CALLS, lambda served, page: (page + 1) * PER_PAGE, endless=True), 20 * 3 + 1,
        ("past its budget of 2 s", "options.max_partition_seconds"),
        options={"max_partition_seconds": 2}, exact=False),
    "token-endpoint-answers-401": Case(
        same_records_every_page, 0, ("401", "RingCentral refused to issue a token", "`client_id` and `client_secret`"),
        token=token_always_401, paging=False),
    "token-without-access-token": Case(
        same_records_every_page, 0, ("the token response lacks a usable access_token", "base_url"),
        token=token_without_access_token, paging=False),
    "call-log-refuses-every-fresh-token": Case(
        refuse_every_token, 2, ("401", "A freshly issued token was refused", "ReadCallLog"), tokens=2, paging=False),
}


def connections_file(tmp_path: Path, base_url: str, options: dict, monkeypatch: pytest.MonkeyPatch) -> Path:
    credentials = {}
    for name, value in (("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET), ("jwt", JWT)):
        monkeypatch.setenv(f"UC_HOSTILE_RC_{name.upper()}", value)
        credentials[name] = f"UC_HOSTILE_RC_{name.upper()}"
    entry = {"provider": "ringcentral", "connection_id": CONNECTION_ID, "base_url": base_url,
             "credentials": credentials, "history_start": "2026-01-01",
             # High enough that the guards, not the limiter, bound the requests.
             "quota": {"default": {"requests": 20, "per_seconds": 1}, "auth": {"requests": 20, "per_seconds": 1}},
             "options": {"per_page": PER_PAGE, **options}}
    path = tmp_path / "connections.yaml"
    path.write_text(yaml.safe_dump({"connections": [entry]}), encoding="utf-8")
    return path


def materialize(
    tmp_path: Path, base_url: str, options: dict, monkeypatch: pytest.MonkeyPatch
) -> dg.ExecuteInProcessResult:
    conns = connections_file(tmp_path, base_url, options, monkeypatch)
    resource = PipelineResource(data_dir=str(tmp_path / "data"), connections_file=str(conns))
    return dg.materialize(
        [build_extract_asset("ringcentral", STREAM, PARTITIONS)],
        resources={"uc": resource},
        instance=dg.DagsterInstance.ephemeral(),
        partition_key=DAY.isoformat(),
        raise_on_error=False,
    )


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_ringcentral_fails_the_partition_and_keeps_the_previous_file(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CASES[name]
    landed = partition_path(tmp_path / "data", "ringcentral", STREAM, CONNECTION_ID, DAY)
    with ringcentral_server(honest(HONEST_CALLS)) as served:
        assert materialize(tmp_path, served.base_url, {}, monkeypatch).success
        assert call_log_requests(served) == 3  # 120 calls at 50 per page
    before = landed.read_bytes()

    with ringcentral_server(case.behaviour, case.token) as served:
        started = time.monotonic()
        result = materialize(tmp_path, served.base_url, case.options, monkeypatch)
        seconds = time.monotonic() - started
        pages, tokens = call_log_requests(served), token_requests(served)
    print(f"\nringcentral {name}: {pages} call-log and {tokens} token request(s), {seconds:.2f} s")

    assert not result.success
    if case.exact:
        assert (pages, tokens) == (case.pages, case.tokens), served.requests
    else:
        assert 2 <= pages <= case.pages and tokens == case.tokens
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    message = failure.event_specific_data.error.message
    expected = [f"{CONNECTION_ID}", *case.says]
    if case.paging:
        expected += [f"[{CONNECTION_ID}]", "RingCentral", STREAM, WINDOW, "previous file is kept", "e-run"]
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from: {message}"
    for secret in (CLIENT_SECRET, JWT, "hostile-access-", "hostile-refresh-"):
        assert secret not in message
    assert landed.read_bytes() == before, "the day's previous file is kept byte for byte"


def test_a_next_page_link_without_the_date_filter_does_not_widen_the_query(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Following such a link would page through the account's whole call log (a million calls reported)
    until the partition's time budget; only the page number is taken from it, so the day lands whole."""
    with ringcentral_server(next_page_drops_the_date_filter(HONEST_CALLS)) as served:
        result = materialize(tmp_path, served.base_url, {"max_partition_seconds": 30}, monkeypatch)
        with served.lock:
            calls = [query for path, query in served.requests if path.endswith("/call-log")]
    assert result.success
    assert [q.get("page") for q in calls] == ["1", "2", "3"]
    assert all(q.get("dateFrom") == "2026-03-02T00:00:00.000Z" and q.get("dateTo") == "2026-03-03T00:00:00.000Z"
               for q in calls), calls
    landed = pq.read_table(partition_path(tmp_path / "data", "ringcentral", STREAM, CONNECTION_ID, DAY))
    assert landed.num_rows == HONEST_CALLS
    assert set(landed.column("_record_id").to_pylist()) == {f"HostileRc{n:06d}" for n in range(HONEST_CALLS)}
