"""The query language of the emulated 8x8 VCC Recordings API: `d`, `tz`, `n`, `start-date`,
`finish-date` and field filters, parsed exactly as the vendor document describes them.

Owns parsing a request's query variables into a `Query` and applying it to rendered recordings.
Any syntax error is a `QueryError`, which the emulator answers with 400 ("the syntax of the
request was wrong").

Date points (`d` parts, `start-date`, `finish-date`):
- `2007-08-05` or `20070805`: midnight of that day in the query time zone;
- `2007-08-05 13:15[:30][Z|+hh:mm]`, `2007-08-05T13:15...` and compact `20070805T1315[30][Z|+hhmm]`:
  that instant (without a designator the time is in the query time zone);
- `today`, `today-Nd`: midnight of today, or N days ago, in the query time zone.
`d=a` alone means the day of `a` (from `a` to the next midnight); `d=a,b` means `[a, b)`.
The query time zone is `tz` (IANA) or, without it, the tenant's time zone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Output fields of a recording, in the documented order (also the CSV header order).
FIELDS: tuple[str, ...] = (
    "startDate", "agentID", "phoneNumber", "channel", "caseID", "duration", "filename", "queueID",
    "queueName", "accountNumber", "transactionID", "extVar1", "extVar2", "outDialCode", "wrapUpCode",
)
PAGE_SIZE = 50
TOLERANCE = timedelta(seconds=5)  # start-date / finish-date match within plus or minus 5 s
T = TypeVar("T")

_EXTENDED = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})(?:[ T](?P<time>\d{2}:\d{2}(?::\d{2})?)(?P<zone>Z|[+-]\d{2}:?\d{2})?)?"
)
_BASIC = re.compile(r"(?P<date>\d{8})(?:T(?P<time>\d{4}(?:\d{2})?)(?P<zone>Z|[+-]\d{4})?)?")
_RELATIVE = re.compile(r"today(?:-(?P<days>\d{1,5})d)?")


class QueryError(ValueError):
    """The request's query is not valid; the message says what is wrong."""


@dataclass(frozen=True)
class Query:
    start: datetime | None  # UTC, inclusive; None: from the first recording
    end: datetime | None  # UTC, exclusive; None: up to now
    near_start: datetime | None  # start-date
    near_finish: datetime | None  # finish-date (ignored when start-date is given)
    filters: dict[str, str] = field(default_factory=dict)
    offset: int = 1  # `n`, 1-based

    def matches_time(self, start: datetime, finish: datetime) -> bool:
        """Whether a recording that started and finished at these UTC instants is selected by `d`,
        start-date and finish-date."""
        if self.start is not None and start < self.start:
            return False
        if self.end is not None and start >= self.end:
            return False
        if self.near_start is not None:
            return abs(start - self.near_start) <= TOLERANCE
        return self.near_finish is None or abs(finish - self.near_finish) <= TOLERANCE

    def matches_fields(self, record: Mapping[str, str]) -> bool:
        return all(record.get(name) == value for name, value in self.filters.items())

    def fetch_range(self) -> tuple[datetime | None, datetime | None]:
        """The narrowest UTC range of recording starts that can match (None: unbounded)."""
        lo, hi = self.start, self.end
        if self.near_start is not None:
            lo = _later(lo, self.near_start - TOLERANCE)
            hi = _earlier(hi, self.near_start + TOLERANCE + timedelta(seconds=1))
        elif self.near_finish is not None:
            # A recording that finishes near the instant started at most a day before it.
            lo = _later(lo, self.near_finish - TOLERANCE - timedelta(days=1))
            hi = _earlier(hi, self.near_finish + TOLERANCE + timedelta(seconds=1))
        return lo, hi


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None else max(a, b)


def _earlier(a: datetime | None, b: datetime) -> datetime:
    return b if a is None else min(a, b)


def zone(name: str) -> ZoneInfo:
    """An IANA time zone, or QueryError."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise QueryError(f"unknown time zone tz={name!r}; use an IANA name such as America/New_York") from None


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def parse_point(text: str, tz: ZoneInfo, now: datetime) -> tuple[datetime, bool]:
    """A date point as a UTC instant, and whether it carried a time of day."""
    text = text.strip()
    rel = _RELATIVE.fullmatch(text)
    if rel:
        today = now.astimezone(tz).date()
        return _midnight(today - timedelta(days=int(rel["days"] or 0)), tz), False
    m = _EXTENDED.fullmatch(text) or _BASIC.fullmatch(text)
    if not m:
        raise QueryError(
            f"bad date {text!r}; use 2007-08-05, '2007-08-05 13:15Z', 20070805T1315Z, today or today-7d"
        )
    digits = m["date"].replace("-", "")
    try:
        day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise QueryError(f"bad date {text!r}: no such day") from None
    if not m["time"]:
        return _midnight(day, tz), False
    clock = m["time"].replace(":", "")
    hour, minute, second = int(clock[:2]), int(clock[2:4]), int(clock[4:6] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise QueryError(f"bad time in {text!r}")
    tzinfo: timezone | ZoneInfo = tz
    if m["zone"] == "Z":
        tzinfo = UTC
    elif m["zone"]:
        off = m["zone"].replace(":", "")
        sign = -1 if off[0] == "-" else 1
        tzinfo = timezone(sign * timedelta(hours=int(off[1:3]), minutes=int(off[3:5])))
    local = datetime.combine(day, time(hour, minute, second), tzinfo=tzinfo)
    return local.astimezone(UTC), True


def _next_midnight(instant: datetime, tz: ZoneInfo) -> datetime:
    return _midnight(instant.astimezone(tz).date() + timedelta(days=1), tz)


def parse_query(params: Sequence[tuple[str, str]], default_tz: str, now: datetime) -> Query:
    """The `Query` of a request's query variables (QueryError on any mistake)."""
    values: dict[str, str] = {}
    for name, value in params:
        if name in values:
            raise QueryError(f"query variable {name!r} is given more than once")
        values[name] = value
    if "startDate" in values:
        raise QueryError("use start-date instead of startDate (query variables are case-sensitive)")
    known = {"d", "tz", "n", "start-date", "finish-date", *FIELDS}
    unknown = sorted(set(values) - known)
    if unknown:
        raise QueryError(
            f"unknown query variable(s) {', '.join(unknown)}; variables are case-sensitive: "
            f"d, tz, n, start-date, finish-date or an output field ({', '.join(FIELDS[1:])})"
        )
    tz = zone(values.get("tz") or default_tz)
    start = end = None
    if "d" in values:
        parts = values["d"].split(",")
        if len(parts) > 2 or not all(p.strip() for p in parts):
            raise QueryError(f"bad date range d={values['d']!r}; use one date or two separated by a comma")
        start, _ = parse_point(parts[0], tz, now)
        end = parse_point(parts[1], tz, now)[0] if len(parts) == 2 else _next_midnight(start, tz)
        if end <= start:
            raise QueryError(f"empty date range d={values['d']!r}: the end must be after the start")
    near_start = parse_point(values["start-date"], tz, now)[0] if "start-date" in values else None
    near_finish = parse_point(values["finish-date"], tz, now)[0] if "finish-date" in values else None
    offset = 1
    if "n" in values:
        if not re.fullmatch(r"\d{1,9}", values["n"]) or int(values["n"]) < 1:
            raise QueryError(f"bad offset n={values['n']!r}; n is the 1-based number of the first record")
        offset = int(values["n"])
    filters = {k: v for k, v in values.items() if k in FIELDS}
    return Query(start, end, near_start, near_finish, filters, offset)


def page_of(items: Sequence[T], offset: int) -> list[T]:
    """The page starting at the 1-based record `offset`: at most 50 items."""
    return list(items[offset - 1 : offset - 1 + PAGE_SIZE])
