"""The connections file: valid entries load, every mistake fails at load time naming file, entry and fix."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from uc_pipeline.connections import ConnectionConfigError, load_connections

ENV = {"AC_ID": "id-1", "AC_TOKEN": "tok-secret-1", "ZD_EMAIL": "ops@example.com", "ZD_TOKEN": "zd-secret"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "connections.yaml"
    path.write_text(text, encoding="utf-8")
    return path


VALID = """
connections:
  - provider: aircall
    connection_id: acme-aircall
    base_url: http://127.0.0.1:9/aircall/
    credentials: {api_id: AC_ID, api_token: AC_TOKEN}
    quota: {requests: 30, per_seconds: 60}
    history_start: 2026-03-01
  - provider: zendesk
    connection_id: "0042"
    base_url: https://acme.zendesk.com
    credentials: {email: ZD_EMAIL, api_token: ZD_TOKEN}
"""


def test_valid_file_loads_with_quota_override_and_defaults(tmp_path: Path) -> None:
    aircall, zendesk = load_connections(write(tmp_path, VALID), ENV)
    assert aircall.base_url == "http://127.0.0.1:9/aircall"
    assert aircall.credentials["api_token"] == "tok-secret-1"
    assert aircall.quota().requests == 30 and aircall.quota().per_seconds == 60
    assert aircall.history_start == date(2026, 3, 1)
    assert zendesk.connection_id == "0042"
    assert zendesk.quota().requests == 10  # the documented incremental-export quota


def test_secrets_do_not_show_in_repr(tmp_path: Path) -> None:
    aircall, _ = load_connections(write(tmp_path, VALID), ENV)
    assert "tok-secret-1" not in repr(aircall)
    assert "tok-secret-1" not in repr(aircall.credentials)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            VALID.replace("provider: aircall", "provider: dialpad"),
            ["connections[0]", "unknown provider 'dialpad'", "Fix: use one of"],
        ),
        (
            VALID.replace("AC_TOKEN}", "AC_MISSING}"),
            ["connections[0] (acme-aircall)", "AC_MISSING", "export AC_MISSING="],
        ),
        (
            VALID.replace('"0042"', "acme-aircall"),
            ["connections[1] (acme-aircall)", "duplicate connection_id", "connections[0]"],
        ),
        (VALID.replace("api_token: AC_TOKEN", "token: AC_TOKEN"), ["'api_token' has no environment variable"]),
        (VALID.replace("2026-03-01", "March"), ["history_start 'March' is not a date", "YYYY-MM-DD"]),
        (VALID.replace("requests: 30", "requests: 0"), ["must be positive"]),
        (VALID.replace("http://127.0.0.1:9/aircall/", "ftp://x"), ["is not an http(s) URL"]),
        ("connections: {}", ["no `connections:` list"]),
        ("connections: [", ["not valid YAML"]),
    ],
)
def test_bad_config_fails_naming_file_entry_and_fix(tmp_path: Path, text: str, expected: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConnectionConfigError) as excinfo:
        load_connections(path, ENV)
    message = str(excinfo.value)
    assert str(path) in message
    for part in expected:
        assert part in message
    assert "tok-secret-1" not in message


def test_missing_file_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ConnectionConfigError, match="UC_CONNECTIONS_FILE"):
        load_connections(tmp_path / "nope.yaml", ENV)


def test_example_file_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "connections.yaml"
    env = {name: "x" for name in example.read_text().split() if name.isupper() and name.startswith("ACME_")}
    connections = load_connections(example, env)
    assert sorted(c.provider for c in connections) == ["aircall", "eightbyeight", "ringcentral", "zendesk"]
