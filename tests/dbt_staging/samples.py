"""Vendor sample payloads (tests/fixtures/dbt/, verbatim copies) turned into landed partitions."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from uc_pipeline.landing import write_partition

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dbt"
CONNECTION = "acme"


def fixture_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def aircall_calls() -> list[dict[str, Any]]:
    """REST Call objects: the `data` of the webhook samples; the last event of a call wins."""
    names = ["created_outbound", "ended_outbound", "unsuccessful_transfer_inbound", "commented_inbound",
             "ended_inbound", "voicemail_left_inbound"]
    return [fixture_json(f"aircall_webhook_call_{n}.json")["data"] for n in names]


def ringcentral_records() -> list[dict[str, Any]]:
    page = fixture_json("ringcentral_call_log_list_simple_view.json")
    detailed_text = (FIXTURES / "ringcentral_call_log_list_detailed_view_partial.jsonc").read_text(encoding="utf-8")
    # The vendor example elides its second record with a bare `...`: drop that record.
    detailed_text = re.sub(r",\s*\{\s*\"uri\"[^{}]*\"id\": \"ASaoSC9FIMaOF24\",\s*\.\.\.\s*\}", "", detailed_text)
    detailed = json.loads(detailed_text)
    single = fixture_json("ringcentral_call_log_record_simple.json")
    return [*page["records"], *detailed["records"], single]


def eightbyeight_recordings() -> list[dict[str, str]]:
    text = (FIXTURES / "eightbyeight_recordings_files_seed_sample.xml").read_text(encoding="utf-8")
    text = text.replace("<queueName>phoneq1</>", "<queueName>phoneq1</queueName>")
    text = text.replace("%lt;/recordings>", "</recordings>")
    root = ET.fromstring(text.encode())
    return [{child.tag: (child.text or "") for child in file} for file in root.iter("file")]


def land(data_dir: Path, provider: str, stream: str, day: date, records: list[tuple[str, Any]],
         *, extracted_at: datetime | None = None, connection: str = CONNECTION) -> None:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    write_partition(data_dir, provider, stream, connection, day, records, window_start=start,
                    window_end=start + timedelta(days=1),
                    extracted_at=extracted_at or start + timedelta(days=1, hours=1))


def land_all_samples(data_dir: Path) -> None:
    """Every provider stream, from the vendor samples, each on the UTC day of its own times."""
    calls = aircall_calls()
    # A later event of a call replaces the earlier one within a partition (the last one seen wins).
    land(data_dir, "aircall", "calls", date(2022, 3, 4), [(str(c["id"]), c) for c in calls])
    rc = ringcentral_records()
    by_day: dict[date, list[tuple[str, Any]]] = {}
    for r in rc:
        by_day.setdefault(datetime.fromisoformat(r["startTime"]).date(), []).append((r["id"], r))
    for day, recs in by_day.items():
        land(data_dir, "ringcentral", "call_log", day, recs)
    recs8 = eightbyeight_recordings()
    land(data_dir, "eightbyeight", "recordings", date(2007, 12, 20), [(r["filename"], r) for r in recs8])
    call = fixture_json("zendesk_talk_incremental_call_object.json")
    land(data_dir, "zendesk", "calls", date(2020, 10, 15), [(str(call["id"]), call)])
    leg = fixture_json("zendesk_talk_incremental_leg_object.json")
    land(data_dir, "zendesk", "legs", date(2019, 1, 16), [(str(leg["id"]), leg)])
