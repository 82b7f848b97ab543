"""Hostile RingCentral platforms: a threaded HTTP server on a loopback port that issues OAuth tokens
(`POST /restapi/oauth/token`, JWT bearer grant with HTTP Basic client authentication) and serves the
company call log (`GET /restapi/v1.0/account/~/call-log`, Bearer token) with its real envelope
(`records`, `paging`, `navigation.nextPage.uri`), but pages wrongly or mishandles tokens.

A `Behaviour` (paging_servers.py) answers the call-log requests; a `TokenBehaviour` answers the
token requests. Every request is counted, token requests under their own path.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .paging_servers import FIXTURES, Behaviour, Page, Served, _json

CLIENT_ID, CLIENT_SECRET, JWT = "hostile-rc-client", "hostile-rc-secret-5d1e", "hostile.rc.jwt-0b77"
CALL_LOG = "/restapi/v1.0/account/~/call-log"
TOKEN = "/restapi/oauth/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TokenBehaviour = Callable[[Served, dict[str, str]], Page]


def issue_token(served: Served, form: dict[str, str]) -> Page:
    """A well-formed token response, as the vendor's sample (fixtures/ringcentral/oauth_token_jwt_response.http)."""
    n = served.count
    return _json({"access_token": f"hostile-access-{n}", "token_type": "bearer", "expires_in": 7199,
                  "refresh_token": f"hostile-refresh-{n}", "refresh_token_expires_in": 604799,
                  "scope": "ReadCallLog", "owner_id": "256440016"})


def token_always_401(served: Served, form: dict[str, str]) -> Page:
    """RingCentral's answer to client credentials it does not know."""
    return 401, "application/json", json.dumps({"error": "invalid_client", "errors": [
        {"errorCode": "OAU-123", "message": "Invalid client: hostile-rc-client"}],
        "error_description": "Invalid client: hostile-rc-client"}).encode()


def token_without_access_token(served: Served, form: dict[str, str]) -> Page:
    """200 with a token body whose access_token is empty and expires_in is missing."""
    return _json({"access_token": "", "token_type": "bearer", "refresh_token": "hostile-refresh"})


@contextmanager
def ringcentral_server(behaviour: Behaviour, token: TokenBehaviour = issue_token) -> Iterator[Served]:
    """Serve the platform on 127.0.0.1:<free port> until the block ends."""
    served = Served()
    issued: set[str] = set()
    client = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode()))
            if urlsplit(self.path).path != TOKEN:
                self._send((404, "application/json", b'{"errorCode": "CMN-102"}'))
                return
            with served.lock:
                served.requests.append((TOKEN, form))
            if self.headers.get("Authorization") != client:
                self._send(token_always_401(served, form))
                return
            if form.get("grant_type") == JWT_GRANT and form.get("assertion") != JWT:
                self._send((400, "application/json", b'{"error": "invalid_grant"}'))
                return
            page = token(served, form)
            if page[0] == 200:
                issued.add(json.loads(page[2]).get("access_token") or "")
            self._send(page)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            with served.lock:
                served.requests.append((parts.path, query))
            bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if bearer not in issued or not bearer:
                self._send((401, "application/json", b'{"errorCode": "TokenInvalid", "message": "Invalid token"}'))
                return
            if parts.path != CALL_LOG:
                self._send((404, "application/json", b'{"errorCode": "CMN-102"}'))
                return
            self._send(behaviour(served, parts.path, query))

        def _send(self, page: Page) -> None:
            status, content_type, body = page
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    served.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def call_log_requests(served: Served) -> int:
    with served.lock:
        return sum(1 for path, _ in served.requests if path == CALL_LOG)


def token_requests(served: Served) -> int:
    with served.lock:
        return sum(1 for path, _ in served.requests if path == TOKEN)


# --- the call log --------------------------------------------------------------------------------------


def rc_call(n: int, start: datetime) -> dict[str, Any]:
    """The vendor's sample call-log record with its id and start time set."""
    record = json.loads((FIXTURES / "ringcentral" / "call_log_record_simple.json").read_text(encoding="utf-8"))
    stamp = start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {**record, "id": f"HostileRc{n:06d}", "sessionId": str(900_000 + n), "startTime": stamp}


def _day(query: dict[str, str]) -> datetime:
    return datetime.strptime(query["dateFrom"][:10], "%Y-%m-%d").replace(tzinfo=UTC)


def _page(served: Served, query: dict[str, str], records: list[dict], total: int, more: bool) -> Page:
    page, per_page = int(query.get("page", "1")), int(query["perPage"])

    def link(n: int) -> str:
        return f"{served.base_url}{CALL_LOG}?{urlencode({**query, 'page': n})}"

    uri = link(page)
    navigation: dict[str, Any] = {"firstPage": {"uri": link(1)}}
    if more:
        navigation["nextPage"] = {"uri": link(page + 1)}
    start = (page - 1) * per_page
    return _json({"uri": uri, "records": records, "navigation": navigation,
                  "paging": {"page": page, "perPage": per_page, "pageStart": start,
                             "pageEnd": start + max(len(records) - 1, 0), "totalPages": -(-total // per_page),
                             "totalElements": total}})


def honest(calls_in_day: int) -> Behaviour:
    """`calls_in_day` calls, newest first, paged by page/perPage under their true totalElements."""
    return reported_total(calls_in_day, lambda served, page: calls_in_day, endless=False)


def reported_total(calls_in_day: int, total: Callable[[Served, int], int], *, endless: bool) -> Behaviour:
    """Calls paged by page/perPage under `totalElements` = total(served, page); the next page is
    announced while the reported total says more calls exist, or on every page if `endless` (whose
    pages past the day's real calls bring calls never served before)."""

    def behaviour(served: Served, path: str, query: dict[str, str]) -> Page:
        day, page, per_page = _day(query), int(query.get("page", "1")), int(query["perPage"])
        first, last = (page - 1) * per_page, page * per_page
        count = last if endless else min(last, calls_in_day)
        records = [rc_call(n, day + timedelta(seconds=86_399 - n % 86_400)) for n in range(first, count)]
        reported = total(served, page)
        return _page(served, query, records, reported, more=endless or last < reported)

    return behaviour


def next_page_is_this_page(served: Served, path: str, query: dict[str, str]) -> Page:
    """A full first page whose `navigation.nextPage.uri` is the page itself."""
    day, per_page = _day(query), int(query["perPage"])
    records = [rc_call(n, day + timedelta(hours=12, seconds=n)) for n in range(per_page)]
    body = json.loads(_page(served, query, records, 10 * per_page, more=True)[2])
    body["navigation"]["nextPage"] = {"uri": body["uri"]}
    return _json(body)


def same_records_every_page(served: Served, path: str, query: dict[str, str]) -> Page:
    """The same full page of calls whatever `page` asks for, announcing the next one, totalElements 5,000."""
    day, per_page = _day(query), int(query["perPage"])
    records = [rc_call(n, day + timedelta(hours=12, seconds=n)) for n in range(per_page)]
    return _page(served, query, records, 5_000, more=True)


def empty_page_announcing_next(served: Served, path: str, query: dict[str, str]) -> Page:
    """No record, yet totalElements 300 and a next page."""
    return _page(served, query, [], 300, more=True)



def next_page_drops_the_date_filter(calls_in_day: int) -> Behaviour:
    """The day's calls, paged honestly when asked with `dateFrom`/`dateTo`, but every page links to a
    next page without them: the whole account's call log, a million calls of earlier days."""
    day_pages = honest(calls_in_day)

    def behaviour(served: Served, path: str, query: dict[str, str]) -> Page:
        per_page, page = int(query["perPage"]), int(query.get("page", "1"))
        unfiltered = {k: v for k, v in query.items() if k not in ("dateFrom", "dateTo")}
        if "dateFrom" in query:
            body = json.loads(day_pages(served, path, query)[2])
        else:
            earlier = datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC)
            numbers = range((page - 1) * per_page, page * per_page)
            records = [rc_call(n, earlier - timedelta(seconds=n)) for n in numbers]
            body = json.loads(_page(served, unfiltered, records, 1_000_000, more=True)[2])
        if "nextPage" in body["navigation"]:
            link = f"{served.base_url}{CALL_LOG}?{urlencode({**unfiltered, 'page': page + 1})}"
            body["navigation"]["nextPage"] = {"uri": link}
        return _json(body)

    return behaviour
