"""Zoom Phone's paging and daily quota in the emulator.

`PageTokens`: `next_page_token`s are opaque strings the server remembers with the query and the offset they
continue; a token lives 15 minutes of the sandbox clock (providers.md section 7 [ZM2]: "expires after 15
minutes"), an empty string ends the walk. Option `expire_page_tokens: N` makes the first N tokens presented
answer as expired (a slow walk, without waiting), `page_token_ttl_s` changes the lifetime.

`DailyBook`: the daily quota of a category pool (Heavy and Resource-intensive share one, [ZM3]), counted per
connection and UTC day of the sandbox clock; a request over it is refused with the Daily-limit 429 whose
`Retry-After` is the next UTC midnight (Zoom's example: `2020-05-31T00:00:00Z`).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

TOKEN_TTL_S = 900.0
_MAX_TOKENS = 20_000


@dataclass(frozen=True)
class PagePlace:
    query: tuple[str, ...]  # the query the walk pages (without the token)
    offset: int
    issued: datetime


class PageTokens:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: OrderedDict[str, PagePlace] = OrderedDict()
        self._expire_next: dict[str, int] = {}

    def issue(self, query: tuple[str, ...], offset: int, now: datetime) -> str:
        token = secrets.token_urlsafe(26)[:35]
        with self._lock:
            self._tokens[token] = PagePlace(query, offset, now)
            while len(self._tokens) > _MAX_TOKENS:
                self._tokens.popitem(last=False)
        return token

    def redeem(self, connection_id: str, token: str, query: tuple[str, ...], now: datetime, ttl_s: float,
               expire_first: int) -> int | None:
        """The offset `token` continues, or None when it is unknown, of another query or expired."""
        with self._lock:
            place = self._tokens.get(token)
            if place is None or place.query != query:
                return None
            spent = self._expire_next.get(connection_id, 0)
            if spent < expire_first:
                self._expire_next[connection_id] = spent + 1
                return None
            if (now - place.issued).total_seconds() > ttl_s:
                return None
            return place.offset


def next_midnight(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), tzinfo=UTC)


class DailyBook:
    """Requests counted per (connection, pool, UTC day); only requests let through count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._used: dict[tuple[str, str, date], int] = {}

    def take(self, connection_id: str, pool: str, limit: int, now: datetime) -> bool:
        key = (connection_id, pool, now.astimezone(UTC).date())
        with self._lock:
            used = self._used.get(key, 0)
            if used >= limit:
                return False
            self._used[key] = used + 1
            return True

    def used(self, connection_id: str, pool: str, now: datetime) -> int:
        with self._lock:
            return self._used.get((connection_id, pool, now.astimezone(UTC).date()), 0)
