"""The provider enum seeds (dbt_project/seeds/<provider>/<provider>_enums.csv): their shape, and the values
the vendors document that the models must know, old spellings included."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
PROVIDERS = ("aircall", "ringcentral", "zendesk", "eightbyeight")
GROUPS = {"NO_AGENT_AVAILABLE", "AGENT_NO_ANSWER", "ABANDONED_IN_QUEUE", "ABANDONED_IN_IVR", "SHORT_ABANDON",
          "OUT_OF_HOURS", "DECLINED", "OTHER"}
OUTCOMES = {"ANSWERED", "MISSED", "VOICEMAIL", "ABANDONED", "BUSY", "FAILED", "BLOCKED", "UNKNOWN"}


def rows(provider: str) -> list[dict[str, str]]:
    with (SEEDS / provider / f"{provider}_enums.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("provider", PROVIDERS)
def test_seed_shape(provider: str) -> None:
    seen = set()
    for row in rows(provider):
        assert list(row) == ["provider", "field", "value", "meaning", "missed_reason_group", "source"]
        assert row["provider"] == provider and row["field"] and row["value"] and row["meaning"] and row["source"], row
        key = (row["field"], row["value"])
        assert key not in seen, key
        seen.add(key)
        assert row["missed_reason_group"] in GROUPS | {""}, row


def values(provider: str, field: str) -> dict[str, tuple[str, str]]:
    return {r["value"]: (r["meaning"], r["missed_reason_group"]) for r in rows(provider) if r["field"] == field}


def test_aircall_missed_call_reasons_current_and_old() -> None:
    # providers.md, Aircall: the API reference's list and the current Smartflows article's `abandoned`
    reasons = values("aircall", "missed_call_reason")
    assert set(reasons) == {"out_of_opening_hours", "short_abandoned", "abandoned_in_ivr", "abandoned_in_classic",
                            "abandoned", "no_available_agent", "agents_did_not_answer"}
    assert reasons["abandoned"] == reasons["abandoned_in_classic"] == ("ABANDONED", "ABANDONED_IN_QUEUE")
    assert reasons["out_of_opening_hours"] == ("MISSED", "OUT_OF_HOURS")
    assert set(values("aircall", "status")) == {"initial", "answered", "done"}


def test_outcomes_are_unified_outcomes() -> None:
    for provider, field in (("aircall", "missed_call_reason"), ("ringcentral", "result"),
                            ("zendesk", "completion_status")):
        assert {m for m, _ in values(provider, field).values()} <= OUTCOMES, (provider, field)


def test_ringcentral_leg_roles() -> None:
    legs = values("ringcentral", "leg_type")
    assert legs["Accept"][0] == "AGENT" and legs["TransferCall"][0] == "TRANSFER"
    assert {m for m, _ in legs.values()} == {"AGENT", "TRANSFER", "OTHER"}
    assert values("ringcentral", "type")["Fax"][0] == "NOT_A_CALL"
