"""The 8x8 VCC page parsers against the vendor's own sample and hostile or broken pages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from uc_pipeline.providers.eightbyeight.parse import PageFormatError, parse_csv, parse_xml
from uc_pipeline.providers.eightbyeight.source import compact_utc, rate_headers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "eightbyeight"

SEED_RECORD = {
    "startDate": "2007-12-19T19:16:36-08:00",
    "agentID": "bill",
    "phoneNumber": "bill",
    "channel": "5027780",
    "caseID": "0",
    "duration": "27",
    "filename": "S20071220/R2007122003163601000.wav",
    "queueID": "fernandez~~queue~~phone~~102",
    "queueName": "phoneq1",
    "accountNumber": "0",
    "transactionID": "1",
    "extVar1": "0",
    "extVar2": "0",
    "outDialCode": "",
    "wrapUpCode": "",
}


def test_vendor_sample_parses_with_the_providers_field_names_and_values() -> None:
    records = parse_xml((FIXTURES / "seed_files_sample_fixed.xml").read_bytes())
    assert records == [SEED_RECORD]
    assert list(records[0]) == list(SEED_RECORD)  # document order kept


def test_vendor_sample_as_printed_is_not_well_formed_and_fails_clearly() -> None:
    with pytest.raises(PageFormatError, match="not well-formed XML"):
        parse_xml((FIXTURES / "seed_files_sample_verbatim.xml").read_bytes())


def test_csv_of_the_vendor_sample_gives_the_same_record() -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(SEED_RECORD), lineterminator="\r\n")
    writer.writeheader()
    writer.writerow(SEED_RECORD)
    assert parse_csv(out.getvalue().encode()) == [SEED_RECORD]


def test_empty_pages() -> None:
    assert parse_xml(b"<?xml version='1.0' encoding='UTF-8' ?>\n<recordings>\n</recordings>\n") == []
    assert parse_xml(b"<recordings/>") == []
    assert parse_csv(b"startDate,filename\r\n") == []


def test_values_are_kept_exactly_including_whitespace_and_escapes() -> None:
    body = ("<recordings><file><filename>a.wav</filename><queueName> Müller &amp; Söhne </queueName>"
            "<extVar1/></file></recordings>").encode()
    assert parse_xml(body) == [{"filename": "a.wav", "queueName": " Müller & Söhne ", "extVar1": ""}]


@pytest.mark.parametrize(
    "body, message",
    [
        (b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'x'>]><recordings/>", "DTD or entities"),
        (
            b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;&a;'>]>"
            b"<recordings><file><filename>&b;</filename></file></recordings>",
            "DTD or entities",
        ),
        (b"<?xml version='1.0'?><!DOCTYPE r SYSTEM 'http://example.invalid/x.dtd'><recordings/>", "DTD"),
        (b"<recordings><file><filename>x</filename>", "not well-formed"),
        (b'{"recordings": []}', "not well-formed"),
        (b"<html><body>Login</body></html>", "root element is <html>"),
        (b"<recordings><record><filename>x</filename></record></recordings>", "expected <file>"),
        (b"<recordings><file><duration>3</duration></file></recordings>", "no 'filename'"),
        (b"<recordings><file><filename>x</filename><filename>y</filename></file></recordings>", "twice"),
        (b"<recordings><file><filename><a/></filename></file></recordings>", "child elements"),
    ],
)
def test_hostile_or_broken_xml_is_refused(body: bytes, message: str) -> None:
    with pytest.raises(PageFormatError, match=message):
        parse_xml(body)


@pytest.mark.parametrize(
    "body, message",
    [
        (b"", "empty CSV page"),
        (b"startDate,agentID\r\n2026-01-01T00:00:00+00:00,bill\r\n", "lacks 'filename'"),
        (b"filename,duration\r\na.wav,3\r\nb.wav\r\n", "row 2 has 1 values"),
        (b'filename,duration\r\n"a.wav,3\r\n', "not valid CSV"),
        (b"filename,duration\r\n,3\r\n", "no 'filename'"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_broken_csv_is_refused(body: bytes, message: str) -> None:
    with pytest.raises(PageFormatError, match=message):
        parse_csv(body)


def test_compact_utc_form_of_window_bounds() -> None:
    assert compact_utc(datetime(2007, 8, 5, 13, 15, tzinfo=UTC)) == "20070805T1315Z"
    assert compact_utc(datetime(2007, 8, 5, 13, 15, 30, tzinfo=UTC)) == "20070805T131530Z"


def test_rate_headers_read_only_retry_after() -> None:
    def parse(headers: dict[str, str]) -> float | None:
        return rate_headers(httpx.Response(503, headers=headers)).retry_after

    assert parse({"Retry-After": "7"}) == 7.0
    assert parse({}) is None
    assert parse({"Retry-After": "soon"}) is None
    assert parse({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0  # a date in the past: no wait
