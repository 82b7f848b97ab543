"""Aircall directory streams: the company's users, teams, numbers (lines) and contacts, each listed whole.

Endpoints (Aircall Public API, Basic auth, the same company-wide quota of 60 requests/min as the calls):
`GET /v1/users`, `/v1/teams`, `/v1/numbers`, `/v1/contacts`, each paged like `/v1/calls` with `page`
(1-based) and `per_page` (max 50), the list under the resource's plural name and `meta`
(`total`, `per_page`, `current_page`, `next_page_link`, `previous_page_link`)
(https://developer.aircall.io/api-references/#pagination; the resources: https://developer.aircall.io/api-references/#user,
#team, #number, #contact). Records are yielded verbatim, keyed by their `id`; a `next_page_link` to another
origin is refused (the credentials would follow it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from uc_pipeline.http import ApiClient, MalformedResponseError
from uc_pipeline.providers.base import ExtractStats, Record, SourceConnection
from uc_pipeline.providers.directory_paging import DirectoryPage, page_directory

PER_PAGE = 50
DIRECTORY_STREAMS: dict[str, str] = {
    "users": "Aircall users (GET /v1/users): the agents, with name and email, keyed by user id.",
    "teams": "Aircall teams (GET /v1/teams), keyed by team id.",
    "numbers": "Aircall numbers (GET /v1/numbers): the lines calls come in on, keyed by number id.",
    "contacts": "Aircall contacts (GET /v1/contacts): the shared contact book, keyed by contact id.",
}
REMEDY = (
    "Check that the connection's base_url points at the Aircall Public API (https://api.aircall.io) and run the "
    "snapshot again; if it fails again, report the listing's paging to Aircall support with the figures above."
)



class ListingSource(Protocol):
    """What the listing reads of the source (source.py imports this module, so it is declared here)."""

    title: str
    connection: SourceConnection
    client: ApiClient
    _origin: tuple[str, str]

    def _fail(self, url: str, problem: str) -> MalformedResponseError: ...


def directory_records(source: ListingSource, stream: str, stats: ExtractStats) -> Iterator[tuple[str, Record]]:
    """Every entry of the directory stream `stream` (`users`, `teams`, `numbers`, `contacts`)."""
    if stream not in DIRECTORY_STREAMS:
        raise ValueError(f"aircall has no directory stream {stream!r}; directory streams: {sorted(DIRECTORY_STREAMS)}")
    path = f"/v1/{stream}"

    def fetch(url: str, params: dict[str, str]) -> DirectoryPage:
        body = source.client.parse_json(source.client.get(url, params=params))
        where = f"{path} page {params.get('page', '?')}"
        if not (isinstance(body, dict) and isinstance(body.get(stream), list) and isinstance(body.get("meta"), dict)):
            raise source._fail(where, f"expected a JSON object with a `{stream}` list and a `meta` object")
        for entry in body[stream]:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), int) or isinstance(entry["id"], bool):
                raise source._fail(where, f"a {stream} entry has no integer `id`")
        meta: dict[str, Any] = body["meta"]
        total = meta.get("total")
        link = meta.get("next_page_link")
        if link is not None and not isinstance(link, str):
            raise source._fail(where, f"meta.next_page_link is {link!r}, expected a URL or null")
        return DirectoryPage(
            records=body[stream],
            next=_next(source, link, path) if link else None,
            per_page=PER_PAGE,
            total=total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None,
        )

    first = (path, {"page": "1", "per_page": str(PER_PAGE), "order": "asc"})
    yield from page_directory(
        source.title, source.connection, stream, first, fetch, lambda entry: entry["id"], stats, remedy=REMEDY
    )


def _next(source: ListingSource, link: str, path: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(link)
    if parts[:2] != source._origin:
        raise source._fail(path, f"next_page_link points to another origin than {source.connection.base_url}; "
                           "refusing to send the credentials there")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), dict(parse_qsl(parts.query))
