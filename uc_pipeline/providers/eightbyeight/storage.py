"""8x8 Cloud Storage Service: the contact-center recording objects of one UTC window (stream `recording_objects`),
the only 8x8 source of agent names this project extracts.

Facts (8x8's developer docs, GitHub 8x8Cloud/public-developer-docs, rendered at https://developer.8x8.com/;
providers.md 3d [E10][E11]):
- `docs/analytics/docs/cloud-storage-service-bulk-download.md`: the API lives under
  `https://api.8x8.com/storage/{region}/v3/`, data stays in its region and one request searches one region;
  `GET /storage/{any region}/v3/regions` lists the account's regions (`["us-east", "uk"]`).
  `GET .../objects?filter=<FIQL>&sortField=createdTime&sortDirection=ASC&pageKey=0&limit=100`: `pageKey` is the
  offset, 0 on the first page, and the answer's `pageKey` is the next request's; `lastPage: true` ends the
  walk (the answer's `pageKey` still advances then, so it is no end marker); `limit` defaults to 100. In FIQL
  `;` is AND. Only objects in state AVAILABLE are listed unless the filter asks for others.
- `docs/analytics/docs/cloud-storage-service-objects.md`: `createdTime`/`updatedTime` filters are epoch
  milliseconds, with `=ge=` and `=le=` in the documented example
  (`type==callcenterrecording;createdTime=ge=1725148800000;createdTime=le=1727740800000`); no `=lt=` example
  is documented, so the window `[start, end)` is asked as `ge=<start ms>;le=<end ms - 1>`. An object is
  `{id, type, mimeType, objectName, checksum, customerId, userId, storedBytes, createdTime, updatedTime,
  objectState, bucketId, tags: [{key, value}], shared}` (times without a zone); a `callcenterrecording`'s call
  metadata are string tags: `agentId`, `agentName`, `queueName`, `transactionId`, `callId`, `mediaUrl`,
  `startTime` (epoch ms), `duration` (ms), ... (vendor sample:
  `/work/shared/vendor-samples/eightbyeight/cloud_storage_callcenterrecording_object.json`).
- Auth: OAuth client credentials, `storage_auth.py`. Rate limits are not documented for this API; the
  default (10 requests / 60 s) is the figure 8x8 documents for its other analytics APIs (providers.md 3d [E12]).

Where: the option `storage_base_url` (default `https://api.8x8.com` for a connection whose `base_url` is an
8x8 VCC host; the connection's own `base_url` for anything else: the sandbox, or a proxy serving both) and
the option `storage_regions` (a list; default: the account's regions as `/regions` lists them, asked once per
process and connection). Objects are yielded verbatim, keyed by their `id`. The API reports no total, so
`reported_total` stays None.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from uc_pipeline.http import ApiClient, HttpSettings, MalformedResponseError, PagingGuard
from uc_pipeline.providers.base import ExtractStats, Record, Window
from uc_pipeline.providers.eightbyeight.storage_auth import KEY_FIELDS, TOKEN_PATH, StorageAuth
from uc_pipeline.providers.ringcentral.auth import cache_key

if TYPE_CHECKING:
    from uc_pipeline.connections import Connection
    from uc_pipeline.http import RateHeaderParser

STREAM = "recording_objects"
OBJECT_TYPE = "callcenterrecording"
PAGE_LIMIT = 100
DISCOVERY_REGION = "us-east"  # "pass any valid region in for the discovery process"
API_BASE = "https://api.8x8.com"
VCC_HOSTS = (".8x8.com", ".mycontactual.com", ".mycontactual.ca", ".mycontactual.co.uk")
# The account's regions as `/regions` listed them, for the process, by (connection, storage base, API key): the
# partitions one step extracts in turn (a backfill) ask once, under a quota of 10 requests a minute.
_REGIONS: dict[str, list[str]] = {}
_REGIONS_LOCK = threading.Lock()
REMEDY = (
    "Re-run the partition; if it fails again, the Cloud Storage Service's paging is broken for this window: "
    "report it to 8x8 with the figures above."
)


def storage_base(connection: Connection) -> str:
    """Where the token endpoint and `/storage/...` live for this connection (see the module docstring)."""
    explicit = connection.options.get("storage_base_url")
    if explicit:
        url = httpx.URL(str(explicit))
        if url.scheme not in ("http", "https") or not url.host or url.userinfo or url.query:
            raise ValueError(
                f"[{connection.connection_id}] options.storage_base_url must be a bare http(s) URL "
                "such as https://api.8x8.com (no credentials, no query string)"
            )
        return str(explicit).rstrip("/")
    host = httpx.URL(connection.base_url).host
    vcc = any(host.endswith(suffix) or host == suffix[1:] for suffix in VCC_HOSTS)
    return API_BASE if vcc else connection.base_url.rstrip("/")


def has_storage_credentials(connection: Connection) -> bool:
    """Both the API key and its secret are set: the stream is extracted (without either, it lands nothing)."""
    given = [f for f in KEY_FIELDS if connection.credentials.get(f)]
    if len(given) == 1:
        missing = next(f for f in KEY_FIELDS if f not in given)
        raise ValueError(
            f"[{connection.connection_id}] credential {given[0]!r} is set but {missing!r} is not: name "
            f"both under `credentials:` (the Admin Console API key and its secret), or neither"
        )
    return len(given) == 2


def window_filter(window: Window) -> str:
    """The FIQL filter of the window: recording objects created in `[start, end)`, both ends in epoch ms."""
    start_ms = int(window.start.timestamp() * 1000)
    last_ms = int((window.end - timedelta(milliseconds=1)).timestamp() * 1000)
    return f"type=={OBJECT_TYPE};createdTime=ge={start_ms};createdTime=le={last_ms}"


class RecordingObjects:
    """The Cloud Storage client of one connection (only built when it has an API key and secret)."""

    def __init__(
        self,
        connection: Connection,
        settings: HttpSettings,
        title: str,
        rate_headers: RateHeaderParser,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.connection = connection
        self.title = title
        base = storage_base(connection)
        regions = connection.options.get("storage_regions")
        if regions is not None and (
            not isinstance(regions, list)
            or not regions
            or not all(isinstance(r, str) and r.isascii() and r for r in regions)
        ):
            raise ValueError(
                f"[{connection.connection_id}] options.storage_regions must be a list of region names "
                "such as [us-east, uk] (or left out: the account's regions are listed)"
            )
        self.regions: list[str] | None = regions
        self._regions_key = hashlib.sha256(f"{cache_key(connection, KEY_FIELDS)}\0{base}".encode()).hexdigest()
        self.auth = StorageAuth(connection, settings, f"{base}{TOKEN_PATH}")
        quotas = {"default": connection.quota("storage"), "auth": connection.quota("storage_auth")}
        self.client = ApiClient(
            connection.connection_id,
            base,
            quotas=quotas,
            settings=settings,
            auth=self.auth,
            rate_headers=rate_headers,
            secrets=connection.secret_values,
            headers={"Accept": "application/json"},
            transport=transport,
        )
        self.auth.bind(self.client)

    def records(self, window: Window, stats: ExtractStats) -> Iterator[tuple[str, Record]]:
        guard = PagingGuard(self.title, self.connection, STREAM, window, remedy=REMEDY)
        flt = window_filter(window)
        for region in self.regions or self._regions():
            yield from self._region(region, flt, guard, stats)

    def _regions(self) -> list[str]:
        with _REGIONS_LOCK:
            known = _REGIONS.get(self._regions_key)
        if known is not None:
            return list(known)
        response = self.client.get(f"/storage/{DISCOVERY_REGION}/v3/regions")
        body = self.client.parse_json(response)
        if not isinstance(body, list) or not all(isinstance(r, str) and r for r in body):
            raise self._malformed(response, "the regions answer is not a list of region names")
        with _REGIONS_LOCK:
            _REGIONS[self._regions_key] = list(body)
        return body

    def _region(self, region: str, flt: str, guard: PagingGuard, stats: ExtractStats) -> Iterator[tuple[str, Record]]:
        page_key = 0
        while True:
            params = {
                "filter": flt,
                "sortField": "createdTime",
                "sortDirection": "ASC",
                "pageKey": str(page_key),
                "limit": str(PAGE_LIMIT),
            }
            response = self.client.get(f"/storage/{region}/v3/objects", params=params)
            content, last, next_key = self._page(response)
            stats.pages += 1
            cursor = f"region={region} pageKey={page_key} objects={len(content)}"
            guard.page((f"{region}/{obj['id']}" for obj in content), cursor, more=not last)
            for obj in content:
                yield obj["id"], obj
            if last:
                return
            if next_key <= page_key:
                raise guard.fail(f"the next pageKey {next_key} does not advance past {page_key}", cursor)
            page_key = next_key

    def _page(self, response: httpx.Response) -> tuple[list[dict[str, Any]], bool, int]:
        body = self.client.parse_json(response)
        if not isinstance(body, dict):
            raise self._malformed(response, "the answer is not a ResponsePage object")
        content, last, next_key = body.get("content"), body.get("lastPage"), body.get("pageKey")
        if not isinstance(content, list) or not isinstance(last, bool):
            raise self._malformed(response, "the page lacks `content` (a list) or `lastPage` (a boolean)")
        if not last and (isinstance(next_key, bool) or not isinstance(next_key, int)):
            raise self._malformed(response, "a page that is not the last lacks an integer `pageKey`")
        for index, obj in enumerate(content):
            if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
                raise self._malformed(response, f"object {index} of the page has no string `id`")
        return content, last, next_key if isinstance(next_key, int) else 0

    def _malformed(self, response: httpx.Response, problem: str) -> MalformedResponseError:
        url = response.request.url.copy_with(query=None)
        return MalformedResponseError(
            self.client.redact(
                f"[{self.connection.connection_id}] GET {url} answered HTTP {response.status_code}: {problem}. Nothing "
                "of this partition was landed. Check the option storage_base_url (default https://api.8x8.com) and "
                "re-run the partition; report it to 8x8 if it persists."
            ),
            connection_id=self.connection.connection_id,
            status=response.status_code,
        )

    def http_stats(self) -> dict[str, int]:
        return self.client.stats.as_dict()

    def close(self) -> None:
        self.client.close()
