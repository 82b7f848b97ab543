"""The connections file: valid entries load, every mistake fails at load time naming file, entry and fix."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from uc_pipeline.assets.partitions import earliest_history_start
from uc_pipeline.connections import (
    DEFAULT_HISTORY_START,
    ConnectionConfigError,
    load_connections,
    read_connections_file,
)

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
            VALID.replace("provider: aircall", "provider: nosuchprovider"),
            ["connections[0]", "unknown provider 'nosuchprovider'", "Fix: use one of"],
        ),
        (
            VALID.replace("AC_TOKEN}", "AC_MISSING}"),
            ["connections[0] (acme-aircall)", "AC_MISSING", "export AC_MISSING="],
        ),
        (
            VALID.replace('"0042"', "acme-aircall"),
            ["connections[1] (acme-aircall)", "duplicate connection_id", "connections[0]"],
        ),
        (
            VALID.replace("api_token: AC_TOKEN", "token: AC_TOKEN"),
            ["connections[0] (acme-aircall)", "unknown credential field 'token'", "did you mean 'api_token'"],
        ),
        (
            VALID.replace("AC_TOKEN}", "}"),
            ["'api_token' has no environment variable", "api_token: ACME_AIRCALL_API_TOKEN"],
        ),
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


def test_misspelled_keys_are_errors_with_the_likely_fix(tmp_path: Path) -> None:
    text = VALID.replace("    quota: {requests: 30", "    quotaa: {requests: 30").replace(
        '    connection_id: "0042"', '    connecton_id: "0042"'
    )
    with pytest.raises(ConnectionConfigError) as excinfo:
        load_connections(write(tmp_path, text), ENV)
    message = str(excinfo.value)
    assert "2 problems" in message
    assert "connections[0] (acme-aircall): unknown key 'quotaa'. Fix: did you mean 'quota'?" in message
    assert "connections[1] (0042): unknown key 'connecton_id'. Fix: did you mean 'connection_id'?" in message
    assert "connection_id is missing" not in message and "connection_id ''" not in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("requests: 30, per_seconds: 60", "requests: 30, per_second: 60", "unknown key 'per_second' in quota"),
        ("requests: 30, per_seconds: 60", "requets: 30, per_seconds: 60", "did you mean 'requests'"),
        ("connections:", "conections:", "unknown key 'conections'. Fix: did you mean 'connections'?"),
        ("provider: aircall", "provider: AirCall", "unknown provider 'AirCall'. Fix: did you mean 'aircall'?"),
        ("history_start: 2026-03-01", "history_stat: 2026-03-01", "did you mean 'history_start'?"),
    ],
)
def test_misspelled_quota_and_top_level_keys(tmp_path: Path, old: str, new: str, expected: str) -> None:
    with pytest.raises(ConnectionConfigError) as excinfo:
        load_connections(write(tmp_path, VALID.replace(old, new)), ENV)
    assert expected in str(excinfo.value)


def test_options_are_those_the_provider_reads(tmp_path: Path) -> None:
    good = VALID.replace("credentials: {email: ZD_EMAIL, api_token: ZD_TOKEN}",
                         "credentials: {email: ZD_EMAIL, api_token: ZD_TOKEN}\n"
                         "    options: {page_size: 500, max_partition_seconds: 600}")
    _, zendesk = load_connections(write(tmp_path, good), ENV)
    assert zendesk.options == {"page_size": 500, "max_partition_seconds": 600}
    with pytest.raises(ConnectionConfigError) as err:
        load_connections(write(tmp_path, good.replace("page_size", "pagesize")), ENV)
    assert "connections[1] (0042): unknown option 'pagesize'. Fix: did you mean 'page_size'?" in str(err.value)


def test_ids_equal_but_for_case_are_refused(tmp_path: Path) -> None:
    text = VALID.replace('"0042"', "ACME-Aircall")
    with pytest.raises(ConnectionConfigError) as excinfo:
        load_connections(write(tmp_path, text), ENV)
    message = str(excinfo.value)
    assert "connections[1] (ACME-Aircall): connection_id differs only in case from connections[0] (acme-aircall)" in (
        message
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://ops:hunter2-Pa55@acme.zendesk.com",
        "https://hunter2-Pa55@acme.zendesk.com/api",
        "https://acme.zendesk.com/?token=hunter2-Pa55",
    ],
)
def test_credentials_inside_base_url_are_refused_and_never_printed(tmp_path: Path, url: str) -> None:
    path = write(tmp_path, VALID.replace("https://acme.zendesk.com", url))
    with pytest.raises(ConnectionConfigError) as excinfo:
        read_connections_file(path)
    message = str(excinfo.value)
    assert "connections[1] (0042): base_url" in message and "acme.zendesk.com" in message
    assert "hunter2" not in message and "ops" not in message.replace(str(path), "")
    # The operator command prints the same message, and nothing else of the URL.
    proc = subprocess.run(
        [sys.executable, "-m", "uc_pipeline.cli", "check-connections", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, **ENV},
        timeout=120,
    )
    assert proc.returncode == 2 and "base_url" in proc.stderr
    assert "hunter2" not in proc.stdout + proc.stderr


def test_every_missing_variable_is_reported_at_once(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "connections.yaml"
    names = [name for name in example.read_text().split() if name.isupper() and name.startswith("ACME_")]
    assert len(names) == 11
    with pytest.raises(ConnectionConfigError) as excinfo:
        load_connections(example, {})
    message = str(excinfo.value)
    assert "11 problems" in message
    for name in names:
        assert f"environment variable {name} " in message and f"export {name}=..." in message


@pytest.mark.parametrize(
    "pasted",
    ["4f3c2b1a-9d8e-4c7b-a6f5-0e1d2c3b4a59", "tokT0pS3cr3tValue9x8y7z6w", "'12345'", "acme/token:Xy9"],
)
def test_a_value_pasted_where_a_variable_name_belongs_is_never_printed(tmp_path: Path, pasted: str) -> None:
    path = write(tmp_path, VALID.replace("api_token: AC_TOKEN", f"api_token: {pasted}"))
    with pytest.raises(ConnectionConfigError) as excinfo:
        load_connections(path, ENV)
    message = str(excinfo.value)
    assert "connections[0] (acme-aircall): credential 'api_token' holds a value that is not an environment" in message
    assert "export ACME_AIRCALL_API_TOKEN=<the secret>" in message
    assert pasted.strip("'") not in message


def test_the_structure_is_checked_without_the_environment(tmp_path: Path) -> None:
    entries = read_connections_file(write(tmp_path, VALID))
    assert [(e.connection_id, e.history_start) for e in entries] == [
        ("acme-aircall", date(2026, 3, 1)),
        ("0042", date(2026, 1, 1)),
    ]
    assert entries[0].credential_env == {"api_id": "AC_ID", "api_token": "AC_TOKEN"}


def test_partitions_start_at_the_earliest_history_or_fail_with_the_files_error(tmp_path: Path) -> None:
    assert earliest_history_start(tmp_path / "none-yet.yaml") == DEFAULT_HISTORY_START
    # The entry without history_start starts at the default.
    assert earliest_history_start(write(tmp_path, VALID)) == DEFAULT_HISTORY_START
    assert earliest_history_start(write(tmp_path, VALID + "    history_start: 2026-04-01\n")) == date(2026, 3, 1)
    assert earliest_history_start(write(tmp_path, VALID + "    history_start: 2025-12-01\n")) == date(2025, 12, 1)
    # A malformed file never moves the partitions: loading the code location fails with the file's error.
    for broken in (VALID.replace("quota:", "quotaa:"), "connections: [", VALID.replace("2026-03-01", "March")):
        with pytest.raises(ConnectionConfigError, match="connections.yaml"):
            earliest_history_start(write(tmp_path, broken))
