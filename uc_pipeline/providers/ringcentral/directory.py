"""RingCentral directory stream: the account's extensions (users, call queues, IVR menus, ...), listed whole.

`GET /restapi/v1.0/account/~/extension` ("List Extensions", permission ReadAccounts, usage plan group
**Medium**: 40 requests / 60 s, 60 s penalty) pages with `page` (1-based) and `perPage` (default 100),
answers `{uri, records[], paging{page, totalPages, perPage, totalElements, pageStart, pageEnd},
navigation{firstPage, nextPage, previousPage, lastPage: {uri}}}`; each record has `id` (int64),
`extensionNumber`, `name`, `type` (`User`, `Department` = a call queue in today's product, `IvrMenu`,
`Announcement`, `Voicemail`, `SharedLinesGroup`, `PagingOnly`, `ParkLocation`, `Limited`, ...), `status`
and `contact{firstName, lastName, company, email, businessPhone}`
(https://developers.ringcentral.com/api-reference/Extensions/listExtensions;
https://github.com/ringcentral/ringcentral-api-docs/blob/main/docs/account/extensions.md: "legacy
'Department' extension type corresponds to 'Call Queue' extensions"). Records are yielded verbatim, keyed
by `id`; `navigation.nextPage.uri` to another host is refused (the Bearer token would follow it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import httpx

from uc_pipeline.http import ApiClient, MalformedResponseError
from uc_pipeline.providers.base import ExtractStats, Record, SourceConnection
from uc_pipeline.providers.directory_paging import DirectoryPage, page_directory

EXTENSION_PATH = "/restapi/v1.0/account/~/extension"
PER_PAGE = 100
MEDIUM_GROUP = "medium"
DIRECTORY_STREAMS: dict[str, str] = {
    "extensions": "The account's extensions (GET /restapi/v1.0/account/~/extension): users, call queues "
    "(type Department), IVR menus and the rest, with name, number and type, keyed by extension id.",
}
REMEDY = ("Check that base_url is the RingCentral platform and that the app has the ReadAccounts permission, "
          "then run the snapshot again; report the listing's paging to RingCentral if it fails again.")



class ListingSource(Protocol):
    """What the listing reads of the source (source.py imports this module, so it is declared here)."""

    title: str
    connection: SourceConnection
    _client: ApiClient
    _origin: httpx.URL

    def _malformed(self, url: str, problem: str) -> MalformedResponseError: ...


def directory_records(
    source: ListingSource, stream: str, stats: ExtractStats
) -> Iterator[tuple[str, Record]]:
    if stream not in DIRECTORY_STREAMS:
        raise ValueError(
            f"ringcentral has no directory stream {stream!r}; directory streams: {sorted(DIRECTORY_STREAMS)}"
        )

    def fetch(url: str, params: dict[str, str]) -> DirectoryPage:
        response = source._client.get(url, params=params or None, group=MEDIUM_GROUP)
        body = source._client.parse_json(response)
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise source._malformed(url, "the body is not an extension list page (no `records` list)")
        records = body["records"]
        for record in records:
            if not isinstance(record, dict) or not isinstance(record.get("id"), int) or isinstance(record["id"], bool):
                raise source._malformed(url, "an extension has no integer `id`")
        paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
        next_page = (body.get("navigation") or {}).get("nextPage") if isinstance(body.get("navigation"), dict) else None
        next_uri = next_page.get("uri") if isinstance(next_page, dict) else None
        origin = source._origin
        nxt = None
        if next_uri is not None:
            target = httpx.URL(next_uri)
            if (target.scheme, target.host, target.port) != (origin.scheme, origin.host, origin.port):
                raise source._malformed(url, f"`navigation.nextPage.uri` leaves {origin.host}: {target.host}")
            nxt = (next_uri, {})
        total = paging.get("totalElements")
        return DirectoryPage(
            records=records,
            next=nxt,
            per_page=PER_PAGE,
            total=total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else None,
        )

    first = (EXTENSION_PATH, {"page": "1", "perPage": str(PER_PAGE)})
    yield from page_directory(
        source.title, source.connection, stream, first, fetch, lambda record: record["id"], stats, remedy=REMEDY
    )
