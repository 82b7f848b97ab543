"""8x8 Virtual Contact Center (VCC): the extraction source, recording metadata per UTC window.

Streams: `recording_objects`, the Cloud Storage Service's contact-center recording objects (storage.py; they
name the agent: `agentName`), extracted only for a connection with the optional credentials `api_key` and
`api_secret` (an Admin Console API key); without them it lands an empty partition, so a connection without
them works as before. The stream is always declared because the assets are one per (provider, stream) for
every connection, and an empty partition is what "no records" already means to the landing zone and dbt.

The stream `recordings`: `GET <base>/api/recordings/files.xml` (or `files.csv` with the
connection option `format: csv`), HTTP Basic with the tenant name and the Data Request Token,
`d=<start>,<end>` in the compact UTC form (`20260105T0000Z,20260106T0000Z`; the end is exclusive)
with `tz=UTC`, and `n` (1-based record offset) paging by 50 until a short page; a full page that holds no recording
not already seen (a server ignoring `n`) fails the partition (`PagingGuard`). The base URL is
the tenant's VCC platform (e.g. `https://vcc-na4.8x8.com`); it differs per tenant, so there is
no default.

Records are yielded verbatim: the provider's field names, every value the string served. The
record id is `filename`: it names the stored audio file and is unique per recording (it embeds
the recording's start time and a sequence number), while `transactionID` identifies the call,
which may have more than one recording. The API reports no total, so `reported_total` stays None.

Quota: the API documents none; the default (10 requests / 60 s) is the conservative figure 8x8
documents for its other data APIs. Overload shows as 503 "Server busy", which the shared HTTP
layer retries, honouring `Retry-After` when sent. This API sends no other rate headers.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

import httpx

from uc_pipeline.http import ApiClient, AuthError, MalformedResponseError, Quota, RateHeaders
from uc_pipeline.http.paging import PagingGuard
from uc_pipeline.providers.base import ExtractStats, ProviderSource, Record, Window
from uc_pipeline.providers.eightbyeight import storage
from uc_pipeline.providers.eightbyeight.parse import ID_FIELD, PageFormatError, parse_csv, parse_xml

if TYPE_CHECKING:
    from uc_pipeline.connections import Connection
    from uc_pipeline.http import HttpSettings

STREAM = "recordings"
PAGE_SIZE = 50
FORMATS = ("xml", "csv")
REMEDY = (
    "Check that base_url is the tenant's VCC platform (e.g. https://vcc-na4.8x8.com) and re-run the partition; "
    "if it fails again, the Recordings API does not honour the record offset `n`: report it to 8x8 support."
)


def rate_headers(response: httpx.Response) -> RateHeaders:
    """The only rate information this API can send: a standard `Retry-After` (seconds or HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return RateHeaders()
    value = value.strip()
    try:
        return RateHeaders(retry_after=max(float(value), 0.0))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return RateHeaders()
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return RateHeaders(retry_after=max(when.timestamp() - time.time(), 0.0))


def compact_utc(instant: datetime) -> str:
    """`20070805T1315Z` (seconds only when not zero), the documented compact form, in UTC."""
    utc = instant.astimezone(UTC)
    return utc.strftime("%Y%m%dT%H%M%SZ" if utc.second else "%Y%m%dT%H%MZ")


class EightByEightSource(ProviderSource):
    """Recording metadata of one VCC tenant."""

    provider_id: ClassVar[str] = "eightbyeight"
    title: ClassVar[str] = "8x8 Virtual Contact Center"
    default_base_url: ClassVar[str | None] = None
    credential_fields: ClassVar[tuple[str, ...]] = ("tenant", "token")
    # The Cloud Storage Service's API key (storage_auth.py): optional, both or neither.
    optional_credential_fields: ClassVar[tuple[str, ...]] = storage.KEY_FIELDS
    option_names: ClassVar[tuple[str, ...]] = (
        *ProviderSource.option_names,
        "format",
        "storage_base_url",
        "storage_regions",
    )
    default_quotas: ClassVar[Mapping[str, Quota]] = {
        "default": Quota(requests=10, per_seconds=60.0),
        # Cloud Storage and its token endpoint: no documented limit; the same conservative figure.
        "storage": Quota(requests=10, per_seconds=60.0),
        "storage_auth": Quota(requests=5, per_seconds=60.0),
    }
    streams: ClassVar[Mapping[str, str]] = {
        STREAM: "8x8 VCC call recordings (metadata of every recorded call: agent, queue, channel, times), "
        "from the Recordings API, by recording start",
        storage.STREAM: "8x8 Cloud Storage Service contact-center recording objects (tags: agentId, agentName, "
        "queueName, transactionId, mediaUrl, startTime), by object creation; only for a connection with the "
        "optional credentials api_key and api_secret",
    }

    def __init__(self, connection: Connection, settings: HttpSettings) -> None:
        super().__init__(connection, settings)
        fmt = str(connection.options.get("format", "xml")).lower()
        if fmt not in FORMATS:
            raise ValueError(
                f"[{connection.connection_id}] option format={fmt!r} is not supported; "
                "set `options: {format: xml}` (the default) or `{format: csv}` in the connections file"
            )
        self.format = fmt
        self.client = ApiClient(
            connection.connection_id,
            connection.base_url,
            quotas={"default": connection.quota("default")},
            settings=settings,
            auth=httpx.BasicAuth(str(connection.credentials["tenant"]), str(connection.credentials["token"])),
            rate_headers=rate_headers,
            secrets=connection.secret_values,
            headers={"Accept": "text/csv" if fmt == "csv" else "application/xml"},
        )
        # Built on the first request of its stream: the recordings stream never needs a token.
        self.objects: storage.RecordingObjects | None = None

    @property
    def path(self) -> str:
        return f"/api/recordings/files.{self.format}"

    def records(self, stream: str, window: Window, stats: ExtractStats) -> Iterator[tuple[str, Record]]:
        if stream == storage.STREAM:
            if not storage.has_storage_credentials(self.connection):
                stats.notes.append("no api_key/api_secret: Cloud Storage recording objects not extracted")
                return
            if self.objects is None:
                self.objects = storage.RecordingObjects(self.connection, self.settings, self.title, rate_headers)
            yield from self.objects.records(window, stats)
            return
        if stream != STREAM:
            raise ValueError(f"{self.provider_id} has no stream {stream!r}; it has {sorted(self.streams)}")
        d = f"{compact_utc(window.start)},{compact_utc(window.end)}"
        guard = PagingGuard(self.title, self.connection, stream, window, remedy=REMEDY)
        offset = 1
        while True:
            page = self._page(d, offset)
            stats.pages += 1
            # Pages hold 50 records; a shorter one is the last (offset paging has no other end marker).
            full = len(page) >= PAGE_SIZE
            # A full page of recordings already landed means `n` was ignored: the next one would be the same.
            guard.page((record[ID_FIELD] for record in page), f"d={d} n={offset} records={len(page)}", more=full)
            for record in page:
                yield record[ID_FIELD], record
            if not full:
                return
            offset += len(page)

    def _page(self, d: str, offset: int) -> list[dict[str, str]]:
        try:
            response = self.client.get(self.path, params={"d": d, "tz": "UTC", "n": str(offset)})
        except AuthError as exc:
            raise AuthError(
                f"{exc} For 8x8 VCC the user is the tenant name and the password the Data Request Token "
                "(Configuration Manager > Integration > API Token); generating a new token revokes the old one.",
                connection_id=exc.connection_id,
                status=exc.status,
            ) from None
        try:
            return parse_csv(response.content) if self.format == "csv" else parse_xml(response.content)
        except PageFormatError as exc:
            url = response.request.url.copy_with(query=None)
            raise MalformedResponseError(
                self.client.redact(
                    f"[{self.connection.connection_id}] GET {url} (d={d}, n={offset}) answered HTTP "
                    f"{response.status_code} with a page that is not the documented {self.format.upper()} "
                    f"recordings list: {exc}. Nothing of this partition was landed. Check that base_url "
                    "is the tenant's VCC platform (e.g. https://vcc-na4.8x8.com), then re-run the partition; "
                    "report it if it persists."
                ),
                connection_id=self.connection.connection_id,
                status=response.status_code,
            ) from None

    def http_stats(self) -> Mapping[str, int]:
        counts = dict(self.client.stats.as_dict())
        for name, value in (self.objects.http_stats() if self.objects else {}).items():
            counts[name] = counts.get(name, 0) + value
        return counts

    def close(self) -> None:
        self.client.close()
        if self.objects is not None:
            self.objects.close()


SOURCE = EightByEightSource
