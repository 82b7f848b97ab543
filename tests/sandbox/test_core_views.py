"""The emulators' list endpoints read pages out of cached per-day views (uc_pipeline/sandbox/views.py).
These tests hold every page against the plain filtering of the ground truth that each endpoint did per
request before (the references below, built from `GroundTruth.calls`): windows crossing midnight, a
clock that cuts calls still in progress and comments and tags added later, a clock that moves on, and
a cache that stays within its bound."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from uc_pipeline.sandbox import Clock, QuotaSpec, Sandbox, SandboxConnection
from uc_pipeline.sandbox.eightbyeight.render import render_xml, served
from uc_pipeline.sandbox.model import ProviderProfile
from uc_pipeline.sandbox.ringcentral import emulator as rc
from uc_pipeline.sandbox.ringcentral import ids as rc_ids
from uc_pipeline.sandbox.truth import Truth
from uc_pipeline.sandbox.views import View, ViewSpec, Window
from uc_pipeline.sandbox.zendesk.export import build_page, scan_start
from uc_pipeline.sandbox.zendesk.render import render_call, render_legs, sort_key

START = datetime(2026, 1, 5, 18, 0, tzinfo=UTC)  # a window across the midnight of Jan 5 -> Jan 6
END = datetime(2026, 1, 6, 6, 0, tzinfo=UTC)
# Just after midnight: the long call over midnight is still going on; many comments are still to come.
EARLY = datetime(2026, 1, 6, 0, 5, tzinfo=UTC)
LATER = datetime(2026, 1, 6, 2, 0, 30, tzinfo=UTC)
SETTLED = datetime(2026, 1, 13, tzinfo=UTC)  # every change of those days has happened (comments: 5 days)
ROOMY = QuotaSpec(100_000, 1.0)
ZENDESK_PAGE = 40


@pytest.fixture()
def box() -> Iterator[Sandbox]:
    conns = Sandbox.default_connections(["aircall", "ringcentral", "eightbyeight", "zendesk"], calls_per_day=1000,
                                        seed=7, history_start=date(2026, 1, 4))
    for conn in conns:
        conn.quotas = {"default": ROOMY, "auth": ROOMY, "api": ROOMY}
        if conn.provider == "zendesk":
            conn.options = {"page_size": ZENDESK_PAGE}
    sandbox = Sandbox(conns, profile="fast", clock=Clock(frozen=EARLY))
    with sandbox.serve():
        yield sandbox


def conn_of(box: Sandbox, provider: str) -> SandboxConnection:
    return box.connection(f"demo-{provider}")


def http(box: Sandbox, provider: str) -> httpx.Client:
    creds = conn_of(box, provider).credentials
    auth = {"aircall": (creds.get("api_id"), creds.get("api_token")),
            "eightbyeight": (creds.get("tenant"), creds.get("token")),
            "zendesk": (f"{creds.get('email')}/token", creds.get("api_token"))}.get(provider)
    return httpx.Client(base_url=box.base_url(provider), auth=auth, timeout=30)


# -- what each endpoint served before: the day's calls filtered and sorted on every request -----------


def aircall_reference(box: Sandbox) -> list[dict]:
    conn = conn_of(box, "aircall")
    calls = [c for c in box.calls(conn.connection_id, START, END + timedelta(seconds=1)) if c.direction != "INTERNAL"]
    return box.emulator("aircall").render(box.ctx, conn, calls)


def ringcentral_reference(box: Sandbox) -> list[dict]:
    conn, now = conn_of(box, "ringcentral"), box.clock.now()
    calls = [c for c in box.calls(conn.connection_id, START, END) if rc_ids.visible_at(conn, c) <= now]
    calls.sort(key=lambda c: rc_ids.sort_key(conn, c), reverse=True)
    directory = box.ctx.truth.directory(conn)
    return [rc._served(box.ctx, conn, c, directory, True) for c in calls]


def eightbyeight_reference(box: Sandbox) -> list[Any]:
    conn = conn_of(box, "eightbyeight")
    calls = [c for c in box.calls(conn.connection_id, START - timedelta(days=1), END)
             if served(c) and c.recording is not None and START <= c.recording.start_at < END]
    calls.sort(key=lambda c: (c.recording.start_at, c.recording.recording_id))  # type: ignore[union-attr]
    return calls


def zendesk_reference(box: Sandbox, stream: str) -> list[dict]:
    conn, now = conn_of(box, "zendesk"), box.clock.now()
    calls = box.calls(conn.connection_id, scan_start(conn, START), now)
    directory = box.ctx.truth.directory(conn)
    records = [render_call(c, directory) for c in calls] if stream == "calls" else \
        [leg for c in calls for leg in render_legs(c)]
    return sorted(records, key=sort_key)


# -- the pages served now ---------------------------------------------------------------------------


def check_aircall(box: Sandbox) -> int:
    reference = aircall_reference(box)
    with http(box, "aircall") as client:
        for order, expected in (("asc", reference), ("desc", reference[::-1])):
            page, got = 1, []
            while True:
                body = client.get("/v1/calls", params={"from": int(START.timestamp()), "to": int(END.timestamp()),
                                                       "per_page": 20, "page": page, "order": order}).json()
                assert body["meta"]["total"] == len(reference)
                assert body["calls"] == expected[(page - 1) * 20:page * 20]
                got += body["calls"]
                if body["meta"]["next_page_link"] is None:
                    break
                page += 1
            assert got == expected and page > 2
    return len(reference)


def check_ringcentral(box: Sandbox) -> int:
    reference = ringcentral_reference(box)
    conn = conn_of(box, "ringcentral")
    with http(box, "ringcentral") as client:
        token = client.post("/restapi/oauth/token", auth=(conn.credentials["client_id"],
                                                          conn.credentials["client_secret"]),
                            data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                  "assertion": conn.credentials["jwt"]}).json()["access_token"]
        for page in range(1, -(-len(reference) // 30) + 2):
            body = client.get("/restapi/v1.0/account/~/call-log", headers={"Authorization": f"Bearer {token}"},
                              params={"dateFrom": rc_ids.iso_ms(START), "dateTo": rc_ids.iso_ms(END),
                                      "view": "Detailed", "perPage": 30, "page": page}).json()
            assert body["paging"]["totalElements"] == len(reference)
            assert body["records"] == reference[(page - 1) * 30:page * 30]
    return len(reference)


def check_eightbyeight(box: Sandbox) -> int:
    calls = eightbyeight_reference(box)
    conn, emulator = conn_of(box, "eightbyeight"), box.emulator("eightbyeight")
    with http(box, "eightbyeight") as client:
        for offset in range(1, len(calls) + 52, 50):
            response = client.get("/api/recordings/files", params={
                "d": f"{START:%Y-%m-%d %H:%MZ},{END:%Y-%m-%d %H:%MZ}", "n": str(offset)})
            expected = render_xml(emulator.render(box.ctx, conn, calls[offset - 1:offset + 49]))  # type: ignore
            assert response.content == (expected.encode() if isinstance(expected, str) else expected)
    return len(calls)


def check_zendesk(box: Sandbox, stream: str) -> int:
    reference = zendesk_reference(box, stream)
    cursor, pages = int(START.timestamp()) + 5 * 3600 + 1800, 0  # from 23:30 on, across midnight
    with http(box, "zendesk") as client:
        while pages < 12:
            body = client.get(f"/api/v2/channels/voice/stats/incremental/{stream}",
                              params={"start_time": cursor}).json()
            expected = build_page(reference, cursor, ZENDESK_PAGE)
            assert body[stream] == expected
            pages += 1
            if not expected or body["end_time"] == cursor:
                break
            cursor = body["end_time"]
        # the last page: the boundary record repeats once nothing newer exists
        last = sort_key(reference[-1])[0] if reference else 0
        body = client.get(f"/api/v2/channels/voice/stats/incremental/{stream}", params={"start_time": last}).json()
        assert body[stream] == build_page(reference, last, ZENDESK_PAGE)
    assert box.records(conn_of(box, "zendesk").connection_id, stream, START, END) == \
        [r for r in reference if int(START.timestamp()) <= sort_key(r)[0] < int(END.timestamp())]
    return len(reference)


def check_all(box: Sandbox) -> None:
    assert check_aircall(box) > 50
    assert check_ringcentral(box) > 50
    assert check_eightbyeight(box) > 40
    assert check_zendesk(box, "calls") > 100
    assert check_zendesk(box, "legs") > 100


def test_pages_match_the_per_request_filtering_across_midnight_as_the_clock_moves(box: Sandbox) -> None:
    cid = conn_of(box, "aircall").connection_id
    final = {c.call_id: c for c in box.calls(cid, START, END, as_of=SETTLED)}
    early = {c.call_id: c for c in box.calls(cid, START, END)}
    # The cut-off matters at EARLY: a call that started before it is still going on, and calls that
    # ended before it have comments or tags still to come.
    assert any(c.start_at < EARLY and c.call_id not in early for c in final.values())
    assert any(len(c.comments) + len(c.tags) < len(final[i].comments) + len(final[i].tags) for i, c in early.items())
    for moment in (EARLY, LATER, SETTLED):
        box.clock.freeze(moment)
        check_all(box)


def test_a_repeated_request_is_served_from_the_views_until_the_day_changes(box: Sandbox) -> None:
    box.clock.freeze(EARLY)
    views = box.ctx.truth.views
    check_aircall(box)
    built = views.builds
    check_aircall(box)
    assert views.builds == built  # the same moment: every page came out of the cached views
    box.clock.freeze(LATER)
    check_aircall(box)
    assert views.builds > built  # calls ended and comments arrived since: the views were rebuilt
    box.clock.freeze(SETTLED)
    check_all(box)
    built = views.builds
    box.clock.freeze(SETTLED + timedelta(days=3))
    check_aircall(box), check_ringcentral(box), check_eightbyeight(box)
    assert views.builds == built  # nothing changes on those days any more: no view is rebuilt


def test_prepare_builds_what_the_first_requests_read(box: Sandbox) -> None:
    box.clock.freeze(LATER)
    for provider, stream in (("aircall", "calls"), ("ringcentral", "call_log"), ("eightbyeight", "recordings"),
                             ("zendesk", "calls")):
        box.prepare(conn_of(box, provider).connection_id, stream, START, END)
    built = box.ctx.truth.views.builds
    check_aircall(box), check_ringcentral(box), check_eightbyeight(box), check_zendesk(box, "calls")
    assert box.ctx.truth.views.builds == built


def test_views_stay_within_the_cache_bound() -> None:
    profile = ProviderProfile(outcomes=frozenset({"ANSWERED", "MISSED"}))
    as_of = datetime(2026, 3, 1, tzinfo=UTC)
    truth = Truth(lambda _: profile, lambda: as_of, cache_calls=500)
    conn = SandboxConnection("x", "v", {}, calls_per_day=200, history_start=date(2026, 1, 1))
    spec = ViewSpec()
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(10)]
    for day in days:
        view = truth.views.view(spec, conn, day, as_of)
        assert list(view.calls) == truth.calls(conn, datetime.combine(day, datetime.min.time(), UTC),
                                               datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC))
        assert truth.views.held_calls <= 500
    built = truth.views.builds
    truth.views.view(spec, conn, days[0], as_of)
    assert truth.views.builds == built + 1  # the oldest day was dropped to stay within the bound


@pytest.mark.parametrize("sizes", [(0,), (3,), (5, 0, 2), (1, 4, 0, 3)])
def test_window_pages_are_slices_of_its_calls_in_either_order(sizes: tuple[int, ...]) -> None:
    parts, flat, n = [], [], 0
    for size in sizes:
        # each view has one call before and one after the window's part
        calls = [f"c{n + i}" for i in range(size + 2)]
        n += size + 2
        parts.append((View(calls, list(range(len(calls)))), 1, 1 + size))  # type: ignore[arg-type]
        flat += calls[1:1 + size]
    window = Window(tuple(parts))
    assert window.total == len(flat) and window.all() == flat and window.all(reverse=True) == flat[::-1]
    for offset in range(len(flat) + 3):
        for count in range(len(flat) + 3):
            assert window.page(offset, count) == flat[offset:offset + count]
            assert window.page(offset, count, reverse=True) == flat[::-1][offset:offset + count]
