"""Parsing 8x8 VCC Recordings API pages (XML and CSV) into records with the provider's field names.

Owns turning one page body into a list of `dict[str, str]`: one per `<file>` element (XML) or
data row (CSV), keyed by the provider's own field names, values exactly as served (an empty
element is ""). XML is parsed with defusedxml: a DTD, an entity declaration or an external
reference in a page is refused, so no entity expansion or external fetch can happen. Anything
that is not the documented shape raises `PageFormatError` with what was found.
"""

from __future__ import annotations

import csv
import io
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

ROOT = "recordings"
ITEM = "file"
ID_FIELD = "filename"


class PageFormatError(ValueError):
    """A page body is not the documented XML/CSV shape; the message says what was found."""


def parse_xml(body: bytes) -> list[dict[str, str]]:
    """The records of an XML page `<recordings><file>...</file>...</recordings>`."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise PageFormatError(f"the XML page declares a DTD or entities, never sent by this API ({exc!r})") from None
    except ParseError as exc:
        raise PageFormatError(f"not well-formed XML ({exc})") from None
    if root.tag != ROOT:
        raise PageFormatError(f"root element is <{root.tag}>, expected <{ROOT}>")
    records: list[dict[str, str]] = []
    for index, item in enumerate(root, start=1):
        if item.tag != ITEM:
            raise PageFormatError(f"element {index} under <{ROOT}> is <{item.tag}>, expected <{ITEM}>")
        record: dict[str, str] = {}
        for child in item:
            if len(child):
                raise PageFormatError(f"field <{child.tag}> of record {index} has child elements")
            if child.tag in record:
                raise PageFormatError(f"field <{child.tag}> appears twice in record {index}")
            record[child.tag] = child.text or ""
        records.append(_checked(record, index))
    return records


def parse_csv(body: bytes) -> list[dict[str, str]]:
    """The records of a CSV page: a header row of field names, then one row per record."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PageFormatError(f"CSV page is not UTF-8 ({exc})") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise PageFormatError(f"not valid CSV ({exc})") from None
    if not rows:
        raise PageFormatError("empty CSV page; expected at least the header row")
    header = rows[0]
    if ID_FIELD not in header or len(set(header)) != len(header):
        raise PageFormatError(f"CSV header {header[:20]!r} lacks {ID_FIELD!r} or repeats a column")
    records: list[dict[str, str]] = []
    for index, row in enumerate(rows[1:], start=1):
        if len(row) != len(header):
            raise PageFormatError(f"CSV row {index} has {len(row)} values for {len(header)} columns")
        records.append(_checked(dict(zip(header, row, strict=True)), index))
    return records


def _checked(record: dict[str, str], index: int) -> dict[str, str]:
    if not record.get(ID_FIELD):
        raise PageFormatError(f"record {index} has no {ID_FIELD!r}, which identifies a recording")
    return record
