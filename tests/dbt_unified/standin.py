"""Stand-in staging for the unified-model tests: seeded synthetic rows in the exact staging contract
(dbt_project/README.md), written as Parquet, plus stand-in `stg_<provider>__uc_*` models that read
them and coverage seeds that say which columns each provider leaves NULL.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from uc_pipeline.providers import PROVIDER_IDS

from .harness import DbtProject

# Every registered provider gets stand-in rows: the unified models union them all (dbt var `providers`).
PROVIDERS = PROVIDER_IDS
MODELS = ("uc_call", "uc_recording", "uc_contact", "uc_comment", "uc_user", "uc_queue", "uc_user_snapshot")
# Models without a coverage seed entry: the snapshots are the history behind uc_user_history.
NO_COVERAGE = ("uc_user_snapshot",)
# The unified `uc` relations that are one row per staging row (the snapshots become uc_user_history).
UNIFIED_MODELS = tuple(m for m in MODELS if m not in NO_COVERAGE)

_TS = pa.timestamp("us", tz="UTC")
_TYPES = {"varchar": pa.string(), "timestamptz": _TS, "date": pa.date32(), "integer": pa.int32(), "boolean": pa.bool_(),
          "emails": pa.list_(pa.struct([("email", pa.string()), ("type", pa.string())])),
          "telephones": pa.list_(pa.struct([("telephone", pa.string()), ("type", pa.string())]))}

CONTRACT: dict[str, list[tuple[str, str]]] = {
    "uc_call": [
        ("id", "varchar"),
        ("provider", "varchar"),
        ("connection_id", "varchar"),
        ("source_id", "varchar"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
        ("start_at", "timestamptz"),
        ("answered_at", "timestamptz"),
        ("end_at", "timestamptz"),
        ("call_date", "date"),
        ("type", "varchar"),
        ("telephone", "varchar"),
        ("user_id", "varchar"),
        ("user_name", "varchar"),
        ("user_phone", "varchar"),
        ("contact_id", "varchar"),
        ("is_private", "boolean"),
        ("outcome", "varchar"),
        ("missed_reason", "varchar"),
        ("missed_reason_group", "varchar"),
        ("queue_id", "varchar"),
        ("queue_name", "varchar"),
        ("wait_s", "integer"),
        ("talk_s", "integer"),
        ("hold_s", "integer"),
        ("wrap_up_s", "integer"),
        ("duration_s", "integer"),
        ("has_recording", "boolean"),
        ("transfer_count", "integer"),
        ("record_source", "varchar"),
        ("_extracted_at", "timestamptz"),
    ],
    "uc_recording": [
        ("id", "varchar"),
        ("provider", "varchar"),
        ("connection_id", "varchar"),
        ("source_id", "varchar"),
        ("call_id", "varchar"),
        ("contact_id", "varchar"),
        ("user_id", "varchar"),
        ("user_name", "varchar"),
        ("start_at", "timestamptz"),
        ("end_at", "timestamptz"),
        ("duration_s", "integer"),
        ("type", "varchar"),
        ("kind", "varchar"),
        ("web_url", "varchar"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
        ("_extracted_at", "timestamptz"),
    ],
    "uc_contact": [
        ("id", "varchar"),
        ("provider", "varchar"),
        ("connection_id", "varchar"),
        ("source_id", "varchar"),
        ("name", "varchar"),
        ("first_name", "varchar"),
        ("last_name", "varchar"),
        ("title", "varchar"),
        ("company", "varchar"),
        ("email", "varchar"),
        ("telephone", "varchar"),
        ("emails", "emails"),
        ("telephones", "telephones"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
        ("_extracted_at", "timestamptz"),
    ],
    "uc_comment": [
        ("id", "varchar"),
        ("provider", "varchar"),
        ("connection_id", "varchar"),
        ("source_id", "varchar"),
        ("call_id", "varchar"),
        ("content", "varchar"),
        ("user_id", "varchar"),
        ("created_at", "timestamptz"),
        ("updated_at", "timestamptz"),
        ("_extracted_at", "timestamptz"),
    ],
    "uc_user": [
        ("id", "varchar"),
        ("provider", "varchar"),
        ("connection_id", "varchar"),
        ("source_id", "varchar"),
        ("name", "varchar"),
        ("email", "varchar"),
        ("phone", "varchar"),
        ("extension", "varchar"),
        ("role", "varchar"),
        ("_extracted_at", "timestamptz"),
    ],
    "uc_user_snapshot": [
        ("id", "varchar"),
        ("provider", "varchar"),
        ("connection_id", "varchar"),
        ("source_id", "varchar"),
        ("name", "varchar"),
        ("email", "varchar"),
        ("phone", "varchar"),
        ("extension", "varchar"),
        ("role", "varchar"),
        ("snapshot_at", "timestamptz"),
    ],
    "uc_queue": [
        ("id", "varchar"),
        ("provider", "varchar"),
        ("connection_id", "varchar"),
        ("source_id", "varchar"),
        ("name", "varchar"),
        ("kind", "varchar"),
        ("number", "varchar"),
        ("extension", "varchar"),
        ("first_seen_at", "timestamptz"),
        ("last_seen_at", "timestamptz"),
        ("is_current", "boolean"),
        ("_extracted_at", "timestamptz"),
    ],
}

# Columns each stand-in provider leaves NULL (shaped after what the real APIs lack).
UNAVAILABLE: dict[str, dict[str, set[str]]] = {
    "aircall": {"uc_call": {"hold_s", "wrap_up_s", "user_phone", "is_private"}},
    "ringcentral": {"uc_call": {"wrap_up_s", "hold_s"}, "uc_contact": {"title", "company"}},
    "eightbyeight": {"uc_call": {"answered_at", "wait_s"}, "uc_contact": {"title"}},
    "zendesk": {"uc_contact": {"title"}},
}
DERIVED = {"call_date", "duration_s", "outcome", "type", "talk_s", "wait_s"}

_OUTCOMES = ("ANSWERED",) * 6 + ("MISSED", "ABANDONED", "ABANDONED", "VOICEMAIL", "BUSY", "FAILED")
_REASONS = {"MISSED": "no_available_agent", "ABANDONED": "abandoned_in_queue", "VOICEMAIL": None, "BUSY": "busy"}
# the group each stand-in reason belongs to (as a provider's enum seed would say); OTHER without a reason
_GROUPS = {"no_available_agent": "NO_AGENT_AVAILABLE", "abandoned_in_queue": "ABANDONED_IN_QUEUE",
           "busy": "NO_AGENT_AVAILABLE", None: "OTHER"}


@dataclass
class StandinData:
    """All stand-in rows, by model, as dicts keyed by contract column."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {m: [] for m in MODELS})

    def calls(self, provider: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.rows["uc_call"] if provider is None or r["provider"] == provider]


def _gid(provider: str, conn: str, source: object) -> str:
    return f"{provider}:{conn}:{source}"


def generate(days: list[date], calls_per_day: int = 40, seed: int = 7, hours: range = range(24)) -> StandinData:
    """Seeded calls (and their recordings, comments, contacts, users) for every stand-in provider."""
    rng = random.Random(seed)
    data = StandinData()
    for provider in PROVIDERS:
        conn = f"{provider[:3]}-main"
        extracted = datetime.combine(days[-1], datetime.min.time(), UTC) + timedelta(days=1, hours=1)
        agents = [_gid(provider, conn, f"u{i}") for i in range(4)]
        contacts = [_gid(provider, conn, f"c{i}") for i in range(6)]
        for i, agent in enumerate(agents):
            data.rows["uc_user"].append(
                {
                    "id": agent,
                    "provider": provider,
                    "connection_id": conn,
                    "source_id": f"u{i}",
                    "name": f"Agent {i} ({provider})",
                    "email": f"a{i}@example.com",
                    "phone": f"+3311100{i}",
                    "extension": str(100 + i),
                    "role": "agent",
                    "_extracted_at": extracted,
                }
            )
            snapshot = {k: v for k, v in data.rows["uc_user"][-1].items() if k != "_extracted_at"}
            data.rows["uc_user_snapshot"].append({**snapshot, "snapshot_at": extracted, "_landed_date": days[-1]})
        data.rows["uc_queue"].append(
            {
                "id": _gid(provider, conn, "q1"),
                "provider": provider,
                "connection_id": conn,
                "source_id": "q1",
                "name": "Support",
                "kind": "queue",
                "number": "+33100000001",
                "extension": "500",
                "first_seen_at": extracted,
                "last_seen_at": extracted,
                "is_current": True,
                "_extracted_at": extracted,
            }
        )
        for i, contact in enumerate(contacts):
            data.rows["uc_contact"].append(
                {
                    "id": contact,
                    "provider": provider,
                    "connection_id": conn,
                    "source_id": f"c{i}",
                    "name": f"Contact {i}",
                    "first_name": "Contact",
                    "last_name": str(i),
                    "title": "CTO",
                    "company": "Acme",
                    "email": f"c{i}@example.com",
                    "telephone": f"+4420000{i}",
                    "emails": [{"email": f"c{i}@example.com", "type": "WORK"}],
                    "telephones": [{"telephone": f"+4420000{i}", "type": None}],
                    "created_at": extracted - timedelta(days=30),
                    "updated_at": extracted - timedelta(days=3),
                    "_extracted_at": extracted,
                }
            )
        serial = 0
        for day in days:
            for _ in range(calls_per_day):
                serial += 1
                start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                    hours=rng.choice(list(hours)), minutes=rng.randrange(60), seconds=rng.randrange(60)
                )
                direction = rng.choice(("INBOUND", "INBOUND", "INBOUND", "OUTBOUND", "INTERNAL"))
                outcome = rng.choice(_OUTCOMES)
                answered = outcome == "ANSWERED"
                wait = rng.randrange(0, 60) if direction == "INBOUND" else 0
                talk = rng.randrange(30, 600) if answered else 0
                hold = rng.randrange(0, 60) if answered else 0
                end = start + timedelta(seconds=wait + talk + hold)
                call = {
                    "id": _gid(provider, conn, serial),
                    "provider": provider,
                    "connection_id": conn,
                    "source_id": str(serial),
                    "created_at": start,
                    "updated_at": end,
                    "start_at": start,
                    "answered_at": start + timedelta(seconds=wait) if answered else None,
                    "end_at": end,
                    "call_date": start.date(),
                    "type": direction,
                    "telephone": f"+4470000{serial:04d}",
                    "user_id": rng.choice(agents) if answered or direction != "INBOUND" else None,
                    "user_name": None,
                    "user_phone": "+331110000",
                    "contact_id": rng.choice([None, *contacts]),
                    "is_private": False,
                    "outcome": outcome,
                    "missed_reason": _REASONS.get(outcome),
                    "missed_reason_group": None if answered else _GROUPS[_REASONS.get(outcome)],
                    "queue_id": _gid(provider, conn, "q1") if direction == "INBOUND" else None,
                    "queue_name": "Support" if direction == "INBOUND" else None,
                    "wait_s": wait,
                    "talk_s": talk,
                    "hold_s": hold,
                    "wrap_up_s": rng.randrange(0, 90) if answered else 0,
                    "duration_s": wait + talk + hold,
                    "has_recording": answered,
                    "transfer_count": 0,
                    "record_source": "call_log",
                    "_extracted_at": extracted,
                }
                if call["user_id"]:
                    call["user_name"] = f"Agent {call['user_id'].rsplit('u', 1)[1]} ({provider})"
                data.rows["uc_call"].append(call)
                if answered:
                    data.rows["uc_recording"].append(
                        {
                            "id": _gid(provider, conn, f"r{serial}"),
                            "provider": provider,
                            "connection_id": conn,
                            "source_id": f"r{serial}",
                            "call_id": call["id"],
                            "contact_id": call["contact_id"],
                            "user_id": call["user_id"],
                            "user_name": call["user_name"],
                            "start_at": start + timedelta(seconds=wait),
                            "end_at": end,
                            "duration_s": talk + hold,
                            "type": direction,
                            "kind": "recording",
                            "web_url": f"https://example.com/r/{serial}",
                            "created_at": end,
                            "updated_at": end,
                            "_extracted_at": extracted,
                        }
                    )
                if answered and serial % 3 == 0:
                    data.rows["uc_comment"].append(
                        {
                            "id": _gid(provider, conn, f"n{serial}"),
                            "provider": provider,
                            "connection_id": conn,
                            "source_id": f"n{serial}",
                            "call_id": call["id"],
                            "content": "Call back tomorrow",
                            "user_id": call["user_id"],
                            "created_at": end + timedelta(hours=2),
                            "updated_at": end + timedelta(hours=2),
                            "_extracted_at": extracted,
                        }
                    )
    for model, rows in data.rows.items():
        for row in rows:
            for column in UNAVAILABLE.get(row["provider"], {}).get(model, set()):
                row[column] = None
    return data


def _landed_date(row: dict[str, Any]) -> date:
    """The landing day a stand-in row came from: its own `_landed_date` when a test sets one (a
    record re-landed with a later partition), else the day of the call or of the row itself."""
    if row.get("_landed_date"):
        return row["_landed_date"]
    if row.get("call_date"):
        return row["call_date"]
    return (row.get("start_at") or row.get("created_at") or row["_extracted_at"]).date()


def write_rows(project: DbtProject, data: StandinData) -> None:
    """(Re)write the Parquet files the stand-in staging models read."""
    folder = project.data_dir / "standin"
    folder.mkdir(exist_ok=True)
    for provider in PROVIDERS:
        for model in MODELS:
            columns = [(name, _TYPES[kind]) for name, kind in CONTRACT[model]]
            schema = pa.schema([*columns, ("_landed_date", pa.date32())])
            rows = [{**r, "_landed_date": _landed_date(r)} for r in data.rows[model] if r["provider"] == provider]
            table = pa.Table.from_pylist(rows, schema=schema)
            pq.write_table(table, folder / f"{provider}__{model}.parquet")


def install(project: DbtProject, data: StandinData, unavailable: dict[str, dict[str, set[str]]] | None = None) -> None:
    """Stand-in staging models and coverage seeds in the project copy, and their Parquet rows."""
    unavailable = UNAVAILABLE if unavailable is None else unavailable
    models = project.project_dir / "models" / "staging" / "standin"
    models.mkdir(parents=True)
    seeds = project.project_dir / "seeds" / "coverage"
    seeds.mkdir(parents=True)
    for provider in PROVIDERS:
        for model in MODELS:
            path = project.data_dir / "standin" / f"{provider}__{model}.parquet"
            # Like the real per-provider tables: incremental by id, a run writes the rows of the
            # landing days it reads (all of them without a window), stamped with its start; calls
            # keep the days they left.
            rows = ("select * exclude (_landed_date), {{ staging_loaded_at() }} as _loaded_at\n"
                    f"from read_parquet('{path}')\n"
                    "where {{ landing_window_filter('_landed_date') }}\n")
            if model == "uc_user_snapshot":  # every snapshot, whatever the window: a history, not a day
                rows = f"select * exclude (_landed_date) from read_parquet('{path}')\n"
                (models / f"stg_{provider}__{model}.sql").write_text(
                    "{{ config(materialized='ephemeral') }}\n" + rows
                )
                continue
            if model == "uc_call":
                rows = rows.replace(" as _loaded_at\n", " as _loaded_at,\n"
                                    "cast(null as struct(field varchar, value varchar)[]) as _unknown_enums\n", 1)
                rows = f"with rebuilt as (\n{rows})\n{{{{ staging_previous_call_dates('rebuilt') }}}}\n"
            (models / f"stg_{provider}__{model}.sql").write_text(
                "{{ config(materialized='incremental', unique_key='id', incremental_strategy='delete+insert',"
                " tags=['partitioned']) }}\n" + rows
            )
        with (seeds / f"{provider}_field_coverage.csv").open("w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["provider", "model", "column_name", "coverage", "note"])
            for model in UNIFIED_MODELS:
                for column, _ in CONTRACT[model]:
                    missing = unavailable.get(provider, {}).get(model, set())
                    coverage = "unavailable" if column in missing else "derived" if column in DERIVED else "native"
                    writer.writerow([provider, model, column, coverage, "stand-in"])
    write_rows(project, data)
