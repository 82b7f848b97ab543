"""8x8 agent names from Cloud Storage recording objects over two days: an agent (one VCC login) renamed
between them keeps every call on one user id; uc_user shows the latest name and uc_user_history the name of
each day, the boundary being the first recording under the new name.

The landed records are the vendor samples (the VCC `<file>` sample and the Cloud Storage
`callcenterrecording` object, tests/fixtures/) with only the fields that tie them together changed: the
object's `mediaUrl` tag is the recording's file name without its `S<day>/` folder.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tests.dbt_staging import dbtrun, samples

OBJECT_SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "eightbyeight"
    / ("cloud_storage_callcenterrecording_object.json")
)
DAY1, DAY2 = date(2021, 3, 10), date(2021, 3, 11)
LOGIN = "kglynn"
USER_ID = f"eightbyeight:{samples.CONNECTION}:{LOGIN}"
NAME1, NAME2 = "Khang Glynn", "Khang Glynn-Ortiz"
START1 = datetime(2021, 3, 10, 17, 40, 42, tzinfo=UTC)
START2 = datetime(2021, 3, 11, 16, 0, 0, tzinfo=UTC)
SELECT = "staging raw uc_user uc_contact uc_queue uc_user_history"


def window(day: date) -> dict[str, str]:
    return {"uc_start_date": day.isoformat(), "uc_end_date": day.isoformat()}


def recording(start: datetime, transaction_id: str) -> dict[str, str]:
    """The VCC `<file>` sample as the agent's recording of `start` (UTC; the API gives local time)."""
    (record,) = samples.eightbyeight_recordings()
    local = start.astimezone(datetime.fromisoformat(record["startDate"]).tzinfo)
    record.update(
        startDate=local.isoformat(),
        agentID=LOGIN,
        transactionID=transaction_id,
        filename=f"S{start:%Y%m%d}/R{start:%Y%m%d%H%M%S}0001.wav",
    )
    return record


def recording_object(rec: dict[str, str], start: datetime, object_id: str, agent_name: str) -> dict[str, Any]:
    """The Cloud Storage object sample as the object of `rec`, naming its agent `agent_name`."""
    obj = copy.deepcopy(json.loads(OBJECT_SAMPLE.read_text(encoding="utf-8")))
    tags = {
        "mediaUrl": rec["filename"].split("/", 1)[1],
        "agentName": agent_name,
        "transactionId": rec["transactionID"],
        "startTime": str(int(start.timestamp() * 1000)),
    }
    for tag in obj["tags"]:
        tag["value"] = tags.get(tag["key"], tag["value"])
    obj.update(id=object_id, createdTime=f"{start:%Y-%m-%d}T23:00:00")
    return obj


def land_day(data_dir: Path, day: date, start: datetime, transaction_id: str, object_id: str, name: str) -> None:
    rec = recording(start, transaction_id)
    samples.land(data_dir, "eightbyeight", "recordings", day, [(rec["filename"], rec)])
    obj = recording_object(rec, start, object_id, name)
    samples.land(data_dir, "eightbyeight", "recording_objects", day, [(obj["id"], obj)])


def test_renamed_agent_keeps_old_calls_attributed(data_dir: Path) -> None:
    land_day(data_dir, DAY1, START1, "10733", "6cf3260a-d4f2-4fba-8240-000000000001", NAME1)
    dbtrun.build(data_dir, SELECT, vars=window(DAY1))
    assert dbtrun.query(data_dir, "select name from uc.uc_user where id = ?", [USER_ID]) == [{"name": NAME1}]

    land_day(data_dir, DAY2, START2, "10734", "6cf3260a-d4f2-4fba-8240-000000000002", NAME2)
    dbtrun.build(data_dir, SELECT, vars=window(DAY2))
    # one user, the latest name; both calls on it
    assert dbtrun.query(data_dir, "select name from uc.uc_user where provider = 'eightbyeight'") == [{"name": NAME2}]
    calls = dbtrun.query(data_dir, "select source_id, user_id from staging.stg_eightbyeight__uc_call order by 1")
    assert calls == [{"source_id": "10733", "user_id": USER_ID}, {"source_id": "10734", "user_id": USER_ID}]
    history = dbtrun.query(
        data_dir,
        "select version, name, valid_from, valid_to, is_current from uc.uc_user_history where id = ? order by 1",
        [USER_ID],
    )
    assert history == [
        {"version": 1, "name": NAME1, "valid_from": None, "valid_to": START2, "is_current": False},
        {"version": 2, "name": NAME2, "valid_from": START2, "valid_to": None, "is_current": True},
    ]
    # each call's agent as named at the time of the call
    then = dbtrun.query(
        data_dir,
        "select c.source_id, h.name from staging.stg_eightbyeight__uc_call c join uc.uc_user_history h "
        "on h.id = c.user_id and (h.valid_from is null or c.start_at >= h.valid_from) "
        "and (h.valid_to is null or c.start_at < h.valid_to) order by 1",
    )
    assert then == [{"source_id": "10733", "name": NAME1}, {"source_id": "10734", "name": NAME2}]


def test_an_object_landed_the_day_after_its_recording_names_the_agent(data_dir: Path) -> None:
    # a recording that ends just before midnight: its object is created after it ends, so the next day's
    # partition lands it (the sandbox creates objects 15 s after the recording's end, 8x8 some time after)
    start = datetime(2021, 3, 10, 23, 58, 0, tzinfo=UTC)
    rec = recording(start, "10735")
    samples.land(data_dir, "eightbyeight", "recordings", DAY1, [(rec["filename"], rec)])
    samples.land(data_dir, "eightbyeight", "recording_objects", DAY1, [])
    dbtrun.build(data_dir, SELECT, vars=window(DAY1))
    assert dbtrun.query(data_dir, "select name from uc.uc_user where id = ?", [USER_ID]) == [{"name": None}]

    obj = recording_object(rec, start, "6cf3260a-d4f2-4fba-8240-000000000003", NAME1)
    obj["createdTime"] = "2021-03-11T00:20:05"
    samples.land(data_dir, "eightbyeight", "recordings", DAY2, [])
    samples.land(data_dir, "eightbyeight", "recording_objects", DAY2, [(obj["id"], obj)])
    dbtrun.build(data_dir, SELECT, vars=window(DAY2))
    assert dbtrun.query(data_dir, "select name from uc.uc_user where id = ?", [USER_ID]) == [{"name": NAME1}]
    calls = dbtrun.query(data_dir, "select source_id, user_id from staging.stg_eightbyeight__uc_call")
    assert calls == [{"source_id": "10735", "user_id": USER_ID}]
