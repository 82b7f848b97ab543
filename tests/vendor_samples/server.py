"""A loopback fixture server that serves vendor sample payloads behind each provider's real API paths.

It holds, per provider stream, the objects to serve (`FixtureServer.load`), and answers the requests the
production extraction clients send, with each vendor's auth and paging shapes (`/work/shared/providers.md`):

- Aircall `GET /aircall/v1/calls` (Basic `api_id:api_token`; `from`/`to` inclusive UNIX seconds on the
  call's `started_at`, `page`/`per_page`, `meta.{count,total,current_page,per_page,next_page_link}`);
- RingCentral `POST /ringcentral/restapi/oauth/token` (Basic client credentials, JWT bearer grant, answered
  with the vendor's sample token response) and `GET /ringcentral/restapi/v1.0/account/~/call-log`
  (Bearer; `dateFrom`/`dateTo` on `startTime`, `page`/`perPage`, `paging` without totals as in the vendor's
  sample page, `navigation.nextPage.uri`);
- Zendesk `GET /zendesk/api/v2/channels/voice/stats/incremental/{calls,legs}` (Basic `email/token:token`;
  records updated at or after `start_time`, `count`, `end_time`, a never-null `next_page`);
- 8x8 `GET /eightbyeight/api/recordings/files.xml` (Basic tenant:token; `d=<start>,<end>` in compact UTC,
  `n` 1-based offset, pages of 50), serving each `<file>` element byte for byte as it is in the sample;
  and its Cloud Storage Service at the root (the option `storage_base_url`, as the real API is on its own
  host): `POST /oauth/v2/token` (Basic `api_key:api_secret`, client credentials, answered with the vendor's
  token sample), `GET /storage/{region}/v3/regions` (the documented example's two regions) and
  `GET /storage/{region}/v3/objects` (Bearer; a FIQL `filter` of `type==` and `createdTime` bounds in epoch
  ms, `pageKey` offset, `limit`; `{content, lastPage, pageKey, pageSize, total}`); the objects are in us-east.

Objects are served as they are: the server never adds, drops or rewrites a field.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CREDENTIALS = {
    "aircall": {"api_id": "fixture-id", "api_token": "fixture-api-token"},
    "ringcentral": {"client_id": "fixture-client", "client_secret": "fixture-client-pass", "jwt": "fixture-jwt"},
    "zendesk": {"email": "ops@example.com", "api_token": "fixture-zd-token"},
    "eightbyeight": {"tenant": "acme", "token": "fixture-8x8-token", "api_key": "fixture-8x8-key",
                     "api_secret": "fixture-8x8-secret"},
}
STORAGE_REGIONS = ["us-east", "uk"]  # the regions example of 8x8's bulk-download page
STORAGE_PATH = re.compile(r"^/storage/([^/]+)/v3/(regions|objects)$")
FIQL = re.compile(r"^(type|createdTime)(==|=ge=|=gt=|=le=|=lt=)(.+)$")
EXPORT_PATH = "/zendesk/api/v2/channels/voice/stats/incremental/"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
RC_CALL_LOG = "/ringcentral/restapi/v1.0/account/~/call-log"
START_DATE = re.compile(r"<startDate>([^<]*)</startDate>")


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def unix(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class FixtureServer:
    """Serves `objects[(provider, stream)]`; swap them between runs with `load`."""

    def __init__(self, token_response: dict[str, Any], storage_token: dict[str, Any]) -> None:
        self.token_response = token_response
        self.storage_token = storage_token  # 8x8's OAuth answer
        self.objects: dict[tuple[str, str], list[Any]] = {}
        self.requests: list[str] = []
        self._lock = threading.Lock()

    def load(self, objects: dict[tuple[str, str], list[Any]]) -> None:
        with self._lock:
            self.objects = {key: list(value) for key, value in objects.items()}

    def served(self, provider: str, stream: str) -> list[Any]:
        with self._lock:
            return list(self.objects.get((provider, stream), []))

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Listen on 127.0.0.1 with a free port; yields the base URL (without a provider prefix)."""
        fixture = self

        class Handler(_Handler):
            server_state = fixture

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_address[1]}"
        finally:
            httpd.shutdown()
            httpd.server_close()
            thread.join(timeout=10)


class _Handler(BaseHTTPRequestHandler):
    server_state: FixtureServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        return

    # -- plumbing ------------------------------------------------------------------------------------
    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, doc: Any) -> None:
        self._send(status, json.dumps(doc).encode())

    def _query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def _origin(self) -> str:
        return f"http://{self.headers['Host']}"

    def _authorized(self, expected: str) -> bool:
        if self.headers.get("Authorization") == expected:
            return True
        self._json(401, {"error": "unauthorized", "message": "fixture server: wrong or missing credentials"})
        return False

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        path = urlsplit(self.path).path
        self.server_state.requests.append(f"GET {path}")
        if path == "/aircall/v1/calls":
            self._aircall()
        elif path == RC_CALL_LOG:
            self._ringcentral()
        elif path.startswith(EXPORT_PATH) and path[len(EXPORT_PATH):].split(".")[0] in ("calls", "legs"):
            self._zendesk(path[len(EXPORT_PATH):].split(".")[0])
        elif path == "/eightbyeight/api/recordings/files.xml":
            self._eightbyeight()
        elif match := STORAGE_PATH.match(path):
            self._storage(*match.groups())
        else:
            self._json(404, {"message": f"fixture server has no GET {path}"})

    def do_POST(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        self.server_state.requests.append(f"POST {path}")
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[-1] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if path == "/oauth/v2/token":
            self._storage_token(form)
            return
        if path != "/ringcentral/restapi/oauth/token":
            self._json(404, {"message": f"fixture server has no POST {path}"})
            return
        creds = CREDENTIALS["ringcentral"]
        if not self._authorized(basic(creds["client_id"], creds["client_secret"])):
            return
        if form.get("grant_type") != JWT_GRANT or form.get("assertion") != creds["jwt"]:
            self._json(400, {"error": "invalid_grant", "error_description": "fixture server: JWT grant expected"})
            return
        self._json(200, self.server_state.token_response)

    # -- providers -----------------------------------------------------------------------------------
    def _aircall(self) -> None:
        creds = CREDENTIALS["aircall"]
        if not self._authorized(basic(creds["api_id"], creds["api_token"])):
            return
        q = self._query()
        low, high = int(q.get("from", 0)), int(q.get("to", 2**40))
        calls = [c for c in self.server_state.served("aircall", "calls") if low <= c["started_at"] <= high]
        calls.sort(key=lambda c: (c["started_at"], c["id"]), reverse=q.get("order") == "desc")
        per_page, page = min(int(q.get("per_page", 20)), 50), int(q.get("page", 1))
        chunk = calls[(page - 1) * per_page: page * per_page]
        more = page * per_page < len(calls)
        link = {**q, "page": str(page + 1)}
        self._json(200, {"calls": chunk, "meta": {
            "count": len(chunk), "total": len(calls), "current_page": page, "per_page": per_page,
            "next_page_link": f"{self._origin()}/aircall/v1/calls?{urlencode(link)}" if more else None,
            "previous_page_link": None}})

    def _ringcentral(self) -> None:
        if not self._authorized(f"Bearer {self.server_state.token_response['access_token']}"):
            return
        q = self._query()
        low, high = unix(q["dateFrom"]), unix(q["dateTo"])
        records = [r for r in self.server_state.served("ringcentral", "call_log") if low <= unix(r["startTime"]) < high]
        records.sort(key=lambda r: unix(r["startTime"]), reverse=True)  # the call log is newest first
        per_page, page = int(q.get("perPage", 100)), int(q.get("page", 1))
        chunk = records[(page - 1) * per_page: page * per_page]

        def link(n: int) -> dict[str, str]:
            return {"uri": f"{self._origin()}{RC_CALL_LOG}?{urlencode({**q, 'page': str(n)})}"}

        navigation = {"firstPage": link(1)}
        if page * per_page < len(records):
            navigation["nextPage"] = link(page + 1)
        self._json(200, {"uri": f"{self._origin()}{self.path}", "records": chunk, "paging": {
            "page": page, "perPage": per_page, "pageStart": (page - 1) * per_page,
            "pageEnd": (page - 1) * per_page + len(chunk)}, "navigation": navigation})

    def _zendesk(self, stream: str) -> None:
        creds = CREDENTIALS["zendesk"]
        if not self._authorized(basic(f"{creds['email']}/token", creds["api_token"])):
            return
        start = int(self._query()["start_time"])
        items = [r for r in self.server_state.served("zendesk", stream) if unix(r["updated_at"]) >= start]
        items.sort(key=lambda r: (unix(r["updated_at"]), r["id"]))
        items = items[:1000]
        end_time = int(unix(items[-1]["updated_at"])) if items else start
        next_page = f"{self._origin()}{EXPORT_PATH}{stream}.json?start_time={end_time}"
        self._json(200, {stream: items, "count": len(items), "end_time": end_time, "next_page": next_page,
                         "end_of_stream": len(items) < 1000})

    def _eightbyeight(self) -> None:
        creds = CREDENTIALS["eightbyeight"]
        if not self._authorized(basic(creds["tenant"], creds["token"])):
            return
        q = self._query()
        low, high = (datetime.strptime(x, "%Y%m%dT%H%MZ").replace(tzinfo=UTC).timestamp() for x in q["d"].split(","))
        files = [f for f in self.server_state.served("eightbyeight", "recordings")
                 if low <= unix(START_DATE.search(f).group(1)) < high]
        offset = int(q.get("n", 1))
        page = files[offset - 1: offset - 1 + 50]
        body = "<?xml version='1.0' encoding='UTF-8' ?>\n<recordings>\n" + "".join(page) + "</recordings>\n"
        self._send(200, body.encode(), "application/xml; charset=UTF-8")

    def _storage_token(self, form: dict[str, str]) -> None:
        creds = CREDENTIALS["eightbyeight"]
        if not self._authorized(basic(creds["api_key"], creds["api_secret"])):
            return
        if form.get("grant_type") != "client_credentials":
            self._json(400, {"error": "unsupported_grant_type", "error_description": "fixture server: "
                                                                                     "client_credentials expected"})
            return
        self._json(200, self.server_state.storage_token)

    def _storage(self, region: str, what: str) -> None:
        if not self._authorized(f"Bearer {self.server_state.storage_token['access_token']}"):
            return
        if region not in STORAGE_REGIONS:
            self._json(404, {"status": 404, "error": "Not Found", "message": f"fixture server: no region {region}"})
            return
        if what == "regions":
            self._json(200, STORAGE_REGIONS)
            return
        q = self._query()
        low, high, kind = 0, 2**63, None
        for part in q.get("filter", "").split(";"):
            field, op, value = FIQL.match(part).groups()  # anything else is a request this server must not get
            if field == "type":
                kind = value
            elif op in ("=ge=", "=gt="):
                low = max(low, int(value) + (op == "=gt="))
            else:
                high = min(high, int(value) - (op == "=lt="))
        # createdTime has no zone in 8x8's objects: UTC, as the sample's startTime tag and createdTime agree
        objects = [o for o in self.server_state.served("eightbyeight", "recording_objects")
                   if region == "us-east" and (kind is None or o["type"] == kind)
                   and low <= unix(o["createdTime"] + "Z") * 1000 <= high]
        objects.sort(key=lambda o: (o["createdTime"], o["id"]), reverse=q.get("sortDirection") == "DESC")
        page_key, limit = int(q.get("pageKey", 0)), int(q.get("limit", 100))
        content = objects[page_key: page_key + limit]
        self._json(200, {"content": content, "lastPage": page_key + limit >= len(objects),
                         "pageKey": page_key + limit, "pageSize": len(content), "total": len(objects)})
