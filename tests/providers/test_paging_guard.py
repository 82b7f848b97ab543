"""The progress guard's own rules and wording, and the extraction's refusal to land more records than the
provider reports (the providers' loops are tested against hostile servers in tests/hostile)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from uc_pipeline.connections import Connection, Secret
from uc_pipeline.extract import check_total
from uc_pipeline.http.paging import PagingError, PagingGuard
from uc_pipeline.providers.base import ExtractStats, Window

DAY = Window(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 1, 6, tzinfo=UTC))


def connection(**options: object) -> Connection:
    return Connection(provider="aircall", connection_id="guarded", base_url="https://api.aircall.io",
                      credentials={"api_id": Secret("id"), "api_token": Secret("tok")}, options=options)


def guard(**options: object) -> PagingGuard:
    return PagingGuard("Aircall", connection(**options), "calls", DAY, remedy="Re-run it.")


def test_a_page_announcing_more_must_add_a_record() -> None:
    g = guard()
    assert g.page(["a", "b"], "page=1", more=True) == 2
    assert g.page(["b", "c"], "page=2", more=True) == 1
    assert g.page(["c"], "page=3", more=False) == 0  # a last page may only repeat
    with pytest.raises(PagingError) as info:
        g.page(["a", "c"], "page=4", more=True)
    text = str(info.value)
    assert text.startswith("[guarded] Aircall calls [2026-01-05T00:00:00+00:00, 2026-01-06T00:00:00+00:00), page=4:")
    assert "4 page(s) and 3 distinct record(s)" in text and text.endswith("Re-run it.")
    assert info.value.connection_id == "guarded"


def test_pages_and_records_are_bounded_by_the_reported_total() -> None:
    g = guard()
    g.pages_justified(120, 50, 4, "page=4")  # ceil(120 / 50) + 1
    with pytest.raises(PagingError, match="5 pages requested where the reported total of 120"):
        g.pages_justified(120, 50, 5, "page=5")
    g.not_above_total(120, 120, "page=3")
    with pytest.raises(PagingError, match="121 distinct records came back where the provider reports a total of 120"):
        g.not_above_total(121, 120, "page=3")


def test_the_time_budget_is_an_option_of_the_connection() -> None:
    g = guard(max_partition_seconds=0.000001)
    with pytest.raises(PagingError, match="raise options.max_partition_seconds"):
        g.page(["a"], "page=1", more=True)
    for bad in (0, -5, "an hour", True):
        with pytest.raises(ValueError, match="max_partition_seconds"):
            guard(max_partition_seconds=bad)


def test_landing_more_distinct_records_than_the_reported_total_fails() -> None:
    stats = ExtractStats(pages=3, reported_total=100)
    check_total(connection(), "calls", DAY, 100, stats)
    check_total(connection(), "calls", DAY, 90, stats)  # fewer stays the asset check's warning
    check_total(connection(), "calls", DAY, 500, ExtractStats())  # no total reported: nothing to compare
    with pytest.raises(PagingError) as info:
        check_total(connection(), "calls", DAY, 101, stats)
    text = str(info.value)
    assert "[guarded] Aircall calls" in text and "101 distinct records came back in 3 page(s)" in text
    assert "a total of 100" in text and "previous file is kept" in text
