"""Zendesk directory streams: the agents, the groups calls are routed to, and the Talk lines, each listed whole.

- `users`: `GET /api/v2/users?role[]=agent&role[]=admin` (agents and admins: the people who answer calls;
  `role` filters "agent", "admin" or "end-user") with cursor pagination `page[size]=100` →
  `{users[], meta{has_more, after_cursor, before_cursor}, links{next, prev}}`
  (https://developer.zendesk.com/api-reference/ticketing/users/users/#list-users;
  https://developer.zendesk.com/api-reference/introduction/pagination/#using-cursor-pagination).
- `groups`: `GET /api/v2/groups`, same cursor pagination; a deleted group is listed with `deleted: true`
  (https://developer.zendesk.com/api-reference/ticketing/groups/groups/#list-groups).
- `phone_numbers`: `GET /api/v2/channels/voice/phone_numbers` (Talk lines: `id`, `number`,
  `display_number`, `name`, `nickname`, `default_group_id`, ...), offset pagination with `next_page`
  (https://developer.zendesk.com/api-reference/voice/talk-api/phone_numbers/#list-phone-numbers).
All three count against the account's Support API rate limit (the `api` rate group; Team plan 200
requests/min, https://developer.zendesk.com/api-reference/introduction/rate-limits/), not the 10/min of the
incremental exports. Records are yielded verbatim, keyed by `id`; a next link to another origin is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from uc_pipeline.http import ApiClient, MalformedResponseError
from uc_pipeline.providers.base import ExtractStats, Record, SourceConnection
from uc_pipeline.providers.directory_paging import DirectoryPage, page_directory

API_GROUP = "api"
PAGE_SIZE = 100
DIRECTORY_STREAMS: dict[str, str] = {
    "users": "Zendesk agents and admins (GET /api/v2/users?role[]=agent&role[]=admin), keyed by user id.",
    "groups": "Zendesk groups (GET /api/v2/groups): what Talk routes calls to, keyed by group id.",
    "phone_numbers": "Zendesk Talk lines (GET /api/v2/channels/voice/phone_numbers), keyed by phone number id.",
}
_FIRST: dict[str, tuple[str, dict[str, Any]]] = {
    "users": ("/api/v2/users", {"role[]": ["agent", "admin"], "page[size]": str(PAGE_SIZE)}),
    "groups": ("/api/v2/groups", {"page[size]": str(PAGE_SIZE)}),
    "phone_numbers": ("/api/v2/channels/voice/phone_numbers", {}),
}
REMEDY = ("Check that base_url points at the Zendesk account (https://<subdomain>.zendesk.com) and run the snapshot "
          "again; report the listing's paging to Zendesk if it fails again.")



class ListingSource(Protocol):
    """What the listing reads of the source (source.py imports this module, so it is declared here)."""

    title: str
    connection: SourceConnection
    _client: ApiClient

    def _malformed(self, url: str, problem: str) -> MalformedResponseError: ...


def directory_records(source: ListingSource, stream: str, stats: ExtractStats) -> Iterator[tuple[str, Record]]:
    if stream not in DIRECTORY_STREAMS:
        raise ValueError(f"zendesk has no directory stream {stream!r}; directory streams: {sorted(DIRECTORY_STREAMS)}")
    path, first_params = _FIRST[stream]
    origin = urlsplit(source.connection.base_url)[:2]

    def fetch(url: str, params: dict[str, Any]) -> DirectoryPage:
        response = source._client.get(url, params=params or None, group=API_GROUP)
        body = source._client.parse_json(response)
        if not isinstance(body, dict) or not isinstance(body.get(stream), list):
            raise source._malformed(url, f"expected a JSON object with a `{stream}` list")
        for entry in body[stream]:
            if not isinstance(entry, dict) or not isinstance(entry.get("id"), int) or isinstance(entry["id"], bool):
                raise source._malformed(url, f"a {stream} entry has no integer `id`")
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        links = body.get("links") if isinstance(body.get("links"), dict) else {}
        if meta.get("has_more") is True:
            link = links.get("next")  # cursor pagination
        elif "has_more" in meta:
            link = None
        else:
            link = body.get("next_page")  # offset pagination
        if link is not None and not isinstance(link, str):
            raise source._malformed(url, f"the next page link is {link!r}, expected a URL or null")
        count = body.get("count")
        return DirectoryPage(
            records=body[stream],
            next=_next(source, origin, link, path) if link else None,
            per_page=PAGE_SIZE,
            total=count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None,
        )

    yield from page_directory(
        source.title, source.connection, stream, (path, dict(first_params)), fetch, lambda e: e["id"], stats,
        remedy=REMEDY,
    )


def _next(source: ListingSource, origin: tuple[str, str], link: str, path: str) -> tuple[str, dict[str, Any]]:
    parts = urlsplit(link)
    if parts[:2] != origin:
        raise source._malformed(path, f"the next page link points to another origin than {source.connection.base_url}; "
                                "refusing to send the credentials there")
    params: dict[str, Any] = {}
    for key, value in parse_qsl(parts.query):
        if key in params:  # repeated keys (role[]=agent&role[]=admin) stay a list
            params[key] = [*params[key], value] if isinstance(params[key], list) else [params[key], value]
        else:
            params[key] = value
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), params
