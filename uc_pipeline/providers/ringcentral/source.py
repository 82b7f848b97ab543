"""RingCentral extraction: the company call log (`GET /restapi/v1.0/account/~/call-log`,
`view=Detailed`, `perPage=1000`, or the connection's `options.per_page`) of one UTC window,
following `navigation.nextPage.uri`.

Owns the RingCentral source (`SOURCE`): OAuth through `auth.RingCentralAuth`, the
Heavy ("default") and Auth ("auth") rate groups and the parser of their `X-Rate-Limit-*` and
`Retry-After` headers, the checks that every page is a call-log page, and yielding each record
verbatim keyed by its `id`. The call log is served newest first, so records that appear while
paging push older ones onto the next page: a record may be seen twice (the landing zone keeps the
last), never skipped. The largest `paging.totalElements` of the pages is the reported total (calls
logged while paging raise it). Every page goes through a `PagingGuard`: a page announcing another
with no record not seen before, a next page already read, more pages than `totalElements` justifies
or more distinct records than it reports fail the partition.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import httpx

from uc_pipeline.http import ApiClient, AuthError, HttpSettings, MalformedResponseError, Quota, RateHeaders
from uc_pipeline.http.paging import PagingGuard
from uc_pipeline.providers.base import ExtractStats, ProviderSource, Record, Window
from uc_pipeline.providers.ringcentral.auth import TOKEN_PATH, RingCentralAuth, TokenGrantError

if TYPE_CHECKING:
    from uc_pipeline.connections import Connection

CALL_LOG_PATH = "/restapi/v1.0/account/~/call-log"
PER_PAGE = 1000
STREAM = "call_log"
REMEDY = ("Check that base_url is the RingCentral platform and re-run the partition; if it fails again, the "
          "call log's paging is broken for this window: report it to RingCentral with the figures above.")
DEFAULT_PENALTY_S = 60.0  # RingCentral's documented 429 penalty, when neither Retry-After nor a window is sent


def iso_ms(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def parse_retry_after(text: str | None) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date), or None."""
    seconds = _number(text)
    if seconds is not None or not text:
        return seconds
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _page_key(url: httpx.URL) -> tuple[str, tuple[tuple[str, str], ...]]:
    return url.path, tuple(sorted(url.params.multi_items()))


def rate_headers(response: httpx.Response, penalty_s: float | None = None) -> RateHeaders:
    """What a RingCentral response says about its rate group. On a 429 without `Retry-After`, the
    penalty is the group's window (RingCentral's penalty equals it by default), else `penalty_s`."""
    h = response.headers
    limit = _number(h.get("X-Rate-Limit-Limit"))
    remaining = _number(h.get("X-Rate-Limit-Remaining"))
    window = _number(h.get("X-Rate-Limit-Window"))
    retry_after = parse_retry_after(h.get("Retry-After"))
    if response.status_code == 429 and retry_after is None:
        retry_after = window or penalty_s or DEFAULT_PENALTY_S
    return RateHeaders(limit=int(limit) if limit is not None else None,
                       remaining=int(remaining) if remaining is not None else None,
                       retry_after=retry_after, window=window)


class RingCentralSource(ProviderSource):
    provider_id = "ringcentral"
    title = "RingCentral"
    default_base_url = "https://platform.ringcentral.com"
    credential_fields = ("client_id", "client_secret", "jwt")
    option_names = (*ProviderSource.option_names, "per_page")
    default_quotas: Mapping[str, Quota] = {
        "default": Quota(requests=10, per_seconds=60.0, penalty_seconds=60.0),  # the Heavy group
        "auth": Quota(requests=5, per_seconds=60.0, penalty_seconds=60.0),
    }
    streams = {STREAM: "Company call log, Detailed view: one record per call session, with its legs."}

    def __init__(
        self, connection: Connection, settings: HttpSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        """`transport` replaces the network (tests)."""
        super().__init__(connection, settings)
        missing = [f for f in self.credential_fields if not connection.credentials.get(f)]
        if missing:
            raise ValueError(f"[{connection.connection_id}] RingCentral needs the credential(s) {missing}; "
                             "name their environment variables under `credentials:` in the connections file")
        self._quotas = {group: connection.quota(group) for group in self.default_quotas}
        self._auth = RingCentralAuth(connection, settings)
        self._client = ApiClient(
            connection.connection_id, connection.base_url, quotas=self._quotas, settings=settings,
            auth=self._auth, rate_headers=self._rate_headers, secrets=connection.secret_values,
            headers={"Accept": "application/json"}, transport=transport,
        )
        self._auth.bind(self._client)
        self._origin = httpx.URL(connection.base_url)
        self._per_page = self._page_size(connection)

    @staticmethod
    def _page_size(connection: Connection) -> int:
        raw = connection.options.get("per_page", PER_PAGE)
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= PER_PAGE:
            raise ValueError(f"[{connection.connection_id}] options.per_page must be an integer from 1 to {PER_PAGE} "
                             f"(RingCentral's largest page), got {raw!r}")
        return raw

    def _rate_headers(self, response: httpx.Response) -> RateHeaders:
        group = "auth" if response.request.url.path.endswith(TOKEN_PATH) else "default"
        return rate_headers(response, self._quotas[group].penalty_seconds)

    def records(self, stream: str, window: Window, stats: ExtractStats) -> Iterator[tuple[str, Record]]:
        if stream != STREAM:
            raise ValueError(f"ringcentral has no stream {stream!r}; streams: {sorted(self.streams)}")
        url: str = CALL_LOG_PATH
        params: dict[str, str] | None = {"dateFrom": iso_ms(window.start), "dateTo": iso_ms(window.end),
                                         "view": "Detailed", "perPage": str(self._per_page)}
        fetched: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        guard = PagingGuard(self.title, self.connection, stream, window, remedy=REMEDY)
        outside, top_total = 0, None
        while True:
            body, requested = self._page(url, params)
            fetched.add(_page_key(requested))
            stats.pages += 1
            records, paging, next_uri = self._check_page(body, url)
            cursor = f"page={paging.get('page', stats.pages)} perPage={self._per_page}"
            total = paging.get("totalElements")
            if isinstance(total, int) and not isinstance(total, bool) and total >= 0:
                # Calls logged while paging raise totalElements on later pages: the largest figure counts.
                top_total = max(top_total or 0, total)
                cursor += f" totalElements={total}"
            if next_uri is not None and not records:
                raise self._malformed(url, "a page with no records announces a next page")
            guard.page((record["id"] for record in records), cursor, more=next_uri is not None)
            if top_total is not None:
                guard.pages_justified(top_total, self._per_page, stats.pages, cursor)
                guard.not_above_total(len(guard.seen), top_total, cursor)
            for record in records:
                started = self._start_time(record, url)
                if not window.start <= started < window.end:
                    # The API's dateTo may be inclusive: a record at the window's end belongs to the next day.
                    outside += 1
                    continue
                yield record["id"], record
            if next_uri is None:
                break
            url, params = self._follow(next_uri, url, fetched), None
        stats.reported_total = top_total
        if outside:
            stats.notes.append(f"{outside} record(s) outside the window were left to their own day")

    def _page(self, url: str, params: dict[str, str] | None) -> tuple[Any, httpx.URL]:
        try:
            response = self._client.get(url, params=params)
        except TokenGrantError:
            raise
        except AuthError as exc:
            raise AuthError(
                f"{exc} A freshly issued token was refused: check that the connection's `jwt` belongs to an "
                "administrator of this account and that the app has the ReadCallLog permission.",
                connection_id=exc.connection_id, status=exc.status,
            ) from None
        return self._client.parse_json(response), response.request.url

    def _check_page(self, body: Any, url: str) -> tuple[list[Record], dict[str, Any], str | None]:
        if not isinstance(body, dict) or not isinstance(body.get("records"), list):
            raise self._malformed(url, "the body is not a call-log page (no `records` list)")
        paging = body.get("paging", {})
        navigation = body.get("navigation", {})
        if not isinstance(paging, dict) or not isinstance(navigation, dict):
            raise self._malformed(url, "`paging` or `navigation` is not an object")
        for record in body["records"]:
            if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not record["id"]:
                raise self._malformed(url, "a record has no string `id`")
        next_page = navigation.get("nextPage")
        if next_page is None:
            return body["records"], paging, None
        if not isinstance(next_page, dict) or not isinstance(next_page.get("uri"), str):
            raise self._malformed(url, "`navigation.nextPage` has no `uri`")
        return body["records"], paging, next_page["uri"]

    def _start_time(self, record: Record, url: str) -> datetime:
        raw = record.get("startTime")
        try:
            value = datetime.fromisoformat(str(raw))
        except ValueError:
            raise self._malformed(url, f"record {record['id']} has an unreadable startTime {raw!r}") from None
        if value.tzinfo is None:
            raise self._malformed(url, f"record {record['id']} has a startTime without a time zone {raw!r}")
        return value

    def _follow(self, next_uri: str, current: str, fetched: set[tuple[str, tuple[tuple[str, str], ...]]]) -> str:
        target = httpx.URL(next_uri)
        if (target.scheme, target.host, target.port) != (self._origin.scheme, self._origin.host, self._origin.port):
            # The link would carry our Bearer token to another host.
            raise self._malformed(current, f"`navigation.nextPage.uri` leaves {self._origin.host}: {target.host}")
        if _page_key(target) in fetched:
            raise self._malformed(current, "`navigation.nextPage.uri` points back at a page already read")
        return next_uri

    def _malformed(self, url: str, problem: str) -> MalformedResponseError:
        where = httpx.URL(url).copy_with(query=None)
        return MalformedResponseError(
            self._client.redact(f"[{self.connection.connection_id}] {where}: unexpected call-log page: {problem}. "
                                "Nothing of this partition was landed; check that base_url is the RingCentral "
                                "platform, re-run, and report it if it persists."),
            connection_id=self.connection.connection_id,
        )

    def http_stats(self) -> Mapping[str, int]:
        return self._client.stats.as_dict()

    def close(self) -> None:
        self._client.close()


SOURCE = RingCentralSource
