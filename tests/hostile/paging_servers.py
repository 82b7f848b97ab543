"""Hostile providers for the paging guards: small threaded HTTP servers on a loopback port that speak a
provider's real paths, auth and envelopes but page wrongly, and count every request they answer.

One `Behaviour` per class of misbehaviour; each is a function from the request's query to the page
it answers. The servers check the credentials as the real APIs do (HTTP Basic), so a request they
count is one the pipeline really sent with its quota spent.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from xml.sax.saxutils import escape

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# provider -> (user, password) the server accepts as HTTP Basic.
CREDENTIALS = {
    "aircall": ("hostile-api-id", "hostile-api-token-7f3a"),
    "eightbyeight": ("hostile-tenant", "hostile-vcc-token-91c2"),
    "zendesk": ("ops@hostile.test/token", "hostile-zd-token-44be"),
}

Page = tuple[int, str, bytes]  # status, content type, body
Behaviour = Callable[["Served", str, dict[str, str]], Page]


@dataclass
class Served:
    """What a hostile server answered: every request's path and query, in order."""

    base_url: str = ""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.requests)


def _json(body: Any) -> Page:
    return 200, "application/json; charset=utf-8", json.dumps(body).encode()


@contextmanager
def hostile_server(provider: str, behaviour: Behaviour) -> Iterator[Served]:
    """Serve `behaviour` under `/<provider>` on 127.0.0.1:<free port> until the block ends."""
    served = Served()
    user, password = CREDENTIALS[provider]
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    prefix = f"/{provider}"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            if self.headers.get("Authorization") != expected:
                self._send((401, "application/json", b'{"error": "Unauthorized"}'))
                return
            if not parts.path.startswith(prefix + "/"):
                self._send((404, "application/json", b'{"error": "Not Found"}'))
                return
            with served.lock:
                served.requests.append((parts.path, query))
            self._send(behaviour(served, parts.path[len(prefix):], query))

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
    served.base_url = f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def day_start(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), UTC).timestamp())


# --- Aircall (GET /v1/calls, meta.total / meta.next_page_link) -----------------------------------------


def aircall_call(call_id: int, started_at: int) -> dict[str, Any]:
    """A call as `GET /v1/calls` lists it (the fields the pipeline reads, and a few it lands verbatim)."""
    return {"id": call_id, "direct_link": f"https://api.aircall.io/v1/calls/{call_id}", "started_at": started_at,
            "answered_at": started_at + 5, "ended_at": started_at + 65, "duration": 65, "status": "done",
            "direction": "inbound", "missed_call_reason": None, "raw_digits": "+33 1 23 45 67 89"}


def _aircall_page(served: Served, query: dict[str, str], calls: list[dict], total: int, more: bool) -> Page:
    page, per_page = int(query.get("page", "1")), int(query.get("per_page", "20"))
    link = f"{served.base_url}/v1/calls?{urlencode({**query, 'page': page + 1})}" if more else None
    return _json({"calls": calls, "meta": {"count": len(calls), "total": total, "current_page": page,
                                           "per_page": per_page, "next_page_link": link,
                                           "previous_page_link": None}})


def aircall_empty_pages_forever(served: Served, path: str, query: dict[str, str]) -> Page:
    """No call on any page, yet `meta.total` says 1,000 and every page links to the next one."""
    return _aircall_page(served, query, [], 1000, more=True)


def aircall_lying_total(calls_in_day: int, total: int) -> Behaviour:
    """Honest calls, paged honestly by from/to/page, under a `meta.total` that is always `total`; the
    next page is announced while the lie says more calls exist (pages past the real calls are empty)."""

    def behaviour(served: Served, path: str, query: dict[str, str]) -> Page:
        lo, hi = int(query["from"]), int(query["to"])
        day = lo - lo % 86400
        calls = [aircall_call(5_000 + i, day + 600 * i) for i in range(calls_in_day)]
        matching = [c for c in calls if lo <= c["started_at"] <= hi]
        page, per_page = int(query.get("page", "1")), int(query.get("per_page", "20"))
        chunk = matching[(page - 1) * per_page:page * per_page]
        return _aircall_page(served, query, chunk, total, more=page * per_page < min(total, 10_000))

    return behaviour


def aircall_same_page_whatever_the_query(served: Served, path: str, query: dict[str, str]) -> Page:
    """The same 50 calls of the window's first minutes for every query and page, `meta.total` 50,000."""
    lo = int(query["from"])
    day = lo - lo % 86400
    calls = [aircall_call(9_000 + i, day + i) for i in range(50)]
    return _aircall_page(served, query, calls, 50_000, more=True)


# --- 8x8 VCC Recordings API (GET /api/recordings/files.xml, d / n) ------------------------------------


def eightbyeight_ignores_n(served: Served, path: str, query: dict[str, str]) -> Page:
    """A full page of 50 recordings of the requested day, the same whatever `n` asks for."""
    return _recordings(path, query, first=0)


def eightbyeight_endless_new_pages(served: Served, path: str, query: dict[str, str]) -> Page:
    """A full page of 50 recordings never served before, for every `n`: only a time budget ends it."""
    return _recordings(path, query, first=int(query["n"]) - 1)


def eightbyeight_creeping_one_new_per_page(served: Served, path: str, query: dict[str, str]) -> Page:
    """A full page of 50 recordings for every `n`, of which only one was never served before: the
    window slides by one recording per request, however far `n` moves."""
    return _recordings(path, query, first=served.count - 1)


def _recordings(path: str, query: dict[str, str], first: int) -> Page:
    if path != "/api/recordings/files.xml":
        return 404, "text/plain", b"Not Found"
    day = datetime.strptime(query["d"].split(",")[0][:8], "%Y%m%d").replace(tzinfo=UTC)
    files = []
    for i in range(first, first + 50):
        at = day + timedelta(seconds=i)
        fields = {"startDate": at.isoformat(), "duration": "61", "agentID": "bill", "phoneNumber": "14155551234",
                  "channel": "18005550100", "queueID": "hostile-tenant~~queue~~phone~~7", "queueName": "Support",
                  "transactionID": str(700 + i),
                  "filename": f"S{at:%Y%m%d}/R{at:%Y%m%d%H%M%S}{10000 + i}.wav"}
        files.append("<file>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items()) + "</file>")
    body = '<?xml version="1.0" encoding="UTF-8"?>\n<recordings>' + "".join(files) + "</recordings>"
    return 200, "application/xml", body.encode()


# --- Zendesk Talk incremental export (start_time / end_time / next_page) ------------------------------


def zendesk_call(call_id: int, updated_at: int) -> dict[str, Any]:
    """The vendor's sample call object with its id and times set."""
    record = json.loads((FIXTURES / "zendesk" / "talk_incremental_call_object.json").read_text(encoding="utf-8"))
    stamp = datetime.fromtimestamp(updated_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {**record, "id": call_id, "created_at": stamp, "updated_at": stamp}


def _zendesk_page(served: Served, calls: list[dict], end_time: int) -> Page:
    next_page = f"{served.base_url}/api/v2/channels/voice/stats/incremental/calls?start_time={end_time}"
    return _json({"calls": calls, "count": len(calls), "end_time": end_time, "next_page": next_page})


def zendesk_backwards(served: Served, path: str, query: dict[str, str]) -> Page:
    """A first page up to 01:00, then pages whose `end_time` goes back by half an hour each time."""
    start = int(query["start_time"])
    n = served.count
    day = start - start % 86400
    end_time = day + 3600 if n == 1 else start - 1800
    calls = [zendesk_call(100 * n + i, min(end_time, day + 3600) - 60 * (3 - i)) for i in range(3)]
    return _zendesk_page(served, calls, end_time)


def zendesk_creeping(fresh: bool) -> Behaviour:
    """`end_time` one second past `start_time` on every page: with a new call updated in that second
    (`fresh`), or with the same call again at that second."""

    def behaviour(served: Served, path: str, query: dict[str, str]) -> Page:
        start = int(query["start_time"])
        call_id = 1_000 + served.count if fresh else 1_000
        return _zendesk_page(served, [zendesk_call(call_id, start + 1)], start + 1)

    return behaviour
