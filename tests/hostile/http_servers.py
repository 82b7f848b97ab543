"""Hostile providers on loopback for the HTTP layer's tests: each answers every request in one bad way
(a 100 MB page, an HTML maintenance page, JSON nested 100,000 deep, a 401 or a 5xx echoing the
credentials it was sent) and counts what it received. RingCentral's token endpoint is served
honestly, so that run-time bearer and refresh tokens exist to be echoed."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MB = 1024 * 1024
MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>Maintenance</title><style>h1{{font:2em serif}}</style></head>"
    "<body><h1>Down for scheduled maintenance</h1><p>Back at 04:00 UTC. Ref {ref}</p></body></html>"
)


@dataclass
class Seen:
    """What the server received and sent, for the assertions and the figures."""

    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    tokens_issued: list[str] = field(default_factory=list)  # access and refresh tokens handed out
    authorizations: list[str] = field(default_factory=list)  # Authorization values received, newest first
    bytes_sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, path_part: str = "") -> int:
        with self.lock:
            return sum(1 for _, path in self.requests if path_part in path)


def fake_jwt() -> str:
    """A token shaped like RingCentral's (a JWT): header.payload.signature in base64url."""
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part({'sub': secrets.token_hex(8)})}.{secrets.token_urlsafe(32)}"


def _variants(authorization: str) -> list[str]:
    """An Authorization value as servers log it: whole, bare, and a Basic pair decoded and re-encoded
    URL-safe and without padding."""
    scheme, _, credential = authorization.partition(" ")
    found = [authorization, credential]
    if scheme.lower() == "basic":
        raw = base64.b64decode(credential)
        found += [raw.decode(), base64.urlsafe_b64encode(raw).decode(), base64.b64encode(raw).decode().rstrip("=")]
    return found


def _echo(handler: BaseHTTPRequestHandler, body: str, seen: Seen) -> str:
    """What a careless server echoes: every credential it has received (this request's and earlier
    ones', e.g. the client pair of a token request) in several encodings, the tokens it issued, the
    form body and every header."""
    with seen.lock:
        received, issued = list(seen.authorizations), list(seen.tokens_issued)
    credentials = [v for auth in received for v in _variants(auth)]
    # The credentials first: an error message shows only the start of a body.
    return json.dumps({"credentials": credentials, "issued": issued, "form": body,
                       "headers": dict(handler.headers.items())})


Behaviour = Callable[[BaseHTTPRequestHandler, str, Seen], None]


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, ctype: str, seen: Seen) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
    with seen.lock:
        seen.bytes_sent += len(body)


def huge_page(size: int = 100 * MB) -> Behaviour:
    """A 200 JSON page of `size` bytes, streamed without Content-Length (ends at close), as a proxy would."""
    record = json.dumps({"id": 1, "direction": "inbound", "pad": "x" * 200}).encode() + b","
    chunk = record * (MB // len(record))

    def behave(handler: BaseHTTPRequestHandler, body: str, seen: Seen) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.end_headers()
        sent = 0
        try:
            handler.wfile.write(b'{"calls": [')
            while sent < size:
                handler.wfile.write(chunk)
                sent += len(chunk)
            handler.wfile.write(b'{"id": 2}], "meta": {"total": 1, "next_page_link": null}}')
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped reading
        with seen.lock:
            seen.bytes_sent += sent

    return behave


def maintenance_page(handler: BaseHTTPRequestHandler, body: str, seen: Seen) -> None:
    _send(handler, 200, MAINTENANCE_PAGE.format(ref=secrets.token_hex(4)).encode(), "text/html; charset=utf-8", seen)


def nested_json(handler: BaseHTTPRequestHandler, body: str, seen: Seen) -> None:
    depth = 100_000
    _send(handler, 200, b'{"calls": ' + b"[" * depth + b"]" * depth + b"}", "application/json", seen)


def echo_401(handler: BaseHTTPRequestHandler, body: str, seen: Seen) -> None:
    _send(handler, 401, _echo(handler, body, seen).encode(), "application/json", seen)


def echo_503(handler: BaseHTTPRequestHandler, body: str, seen: Seen) -> None:
    _send(handler, 503, _echo(handler, body, seen).encode(), "application/json", seen)


def ringcentral_tokens(then: Behaviour) -> Behaviour:
    """RingCentral's token endpoint answered honestly (fresh access and refresh tokens on every grant);
    every other request gets `then`."""
    def behave(handler: BaseHTTPRequestHandler, body: str, seen: Seen) -> None:
        if not handler.path.endswith("/restapi/oauth/token"):
            then(handler, body, seen)
            return
        access, refresh = fake_jwt(), secrets.token_urlsafe(24)
        with seen.lock:
            seen.tokens_issued += [access, refresh]
        grant = {"access_token": access, "token_type": "bearer", "expires_in": 3600, "refresh_token": refresh,
                 "refresh_token_expires_in": 604800, "scope": "ReadCallLog"}
        _send(handler, 200, json.dumps(grant).encode(), "application/json", seen)
    return behave


@contextmanager
def hostile_server(behave: Behaviour) -> Iterator[tuple[str, Seen]]:
    """Serve `behave` on a loopback port; yields (base URL, what was seen) and stops the server after."""
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            with seen.lock:
                seen.requests.append((self.command, self.path.split("?", 1)[0]))
                if self.headers.get("Authorization"):
                    seen.authorizations.insert(0, self.headers["Authorization"])
            behave(self, body, seen)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            pass  # no request lines on the test's stderr

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
