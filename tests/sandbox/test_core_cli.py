"""The sandbox command line: `--config` with its `profile:`, `seed:` and `now:`, the flags that override
them, and a served ground truth that does not move between runs with the same seed and moment."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from uc_pipeline.sandbox import SandboxConfigError, load_sandbox_config
from uc_pipeline.sandbox.standalone import build_sandbox, main

CONFIG = """\
profile: fast
seed: 3
now: 2026-02-01T00:00:00Z
connections:
  - {provider: aircall, connection_id: acme-aircall, calls_per_day: 40}
  - {provider: zendesk, connection_id: acme-zd, seed: 9, calls_per_day: 30}
"""
WINDOW = {"start": "2026-01-20T00:00:00Z", "end": "2026-01-21T00:00:00Z"}


def write_config(tmp_path: Path, text: str = CONFIG) -> Path:
    path = tmp_path / "sandbox.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_config_settings_apply_and_flags_override_them(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    sandbox = build_sandbox(config=config, default_profile="documented")
    assert sandbox.ctx.profile == "fast"
    assert {c.connection_id: c.seed for c in sandbox.connections} == {"acme-aircall": 3, "acme-zd": 9}
    assert sandbox.clock.frozen and sandbox.clock.now() == datetime(2026, 2, 1, tzinfo=UTC)
    moment = datetime(2026, 3, 1, 12, tzinfo=UTC)
    sandbox = build_sandbox(profile="documented", config=config, seed=5, now=moment)
    assert sandbox.ctx.profile == "documented"
    # A connection's own seed stays its own; the others take the flag's.
    assert {c.connection_id: c.seed for c in sandbox.connections} == {"acme-aircall": 5, "acme-zd": 9}
    assert sandbox.clock.now() == moment
    bare = write_config(tmp_path, "connections:\n  - {provider: aircall}\n")
    sandbox = build_sandbox(config=bare, default_profile="documented")
    assert sandbox.ctx.profile == "documented" and not sandbox.clock.frozen
    assert sandbox.connections[0].seed == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            CONFIG.replace("profile: fast", "profil: fast"),
            "unknown top-level key 'profil'. Fix: did you mean 'profile'?",
        ),
        (CONFIG.replace("profile: fast", "profile: quick"), "unknown profile 'quick'"),
        (CONFIG.replace("2026-02-01T00:00:00Z", "yesterday"), "now: 'yesterday' is not an ISO-8601 moment"),
        (CONFIG.replace("seed: 3", "seed: three"), "seed 'three' is not an integer"),
    ],
)
def test_bad_settings_are_refused_with_the_fix(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(SandboxConfigError) as excinfo:
        load_sandbox_config(write_config(tmp_path, text))
    assert expected in str(excinfo.value)


def test_bad_flags_exit_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["--now", "yesterday"])
    assert excinfo.value.code == 2 and "not an ISO-8601 moment" in capsys.readouterr().err
    bad = write_config(tmp_path, CONFIG.replace("profile: fast", "profile: quick"))
    assert main(["--config", str(bad), "--port", "0"]) == 2
    assert "unknown profile 'quick'" in capsys.readouterr().err


def served_truth(config: Path, *flags: str) -> tuple[dict, dict]:
    """(health, truth of acme-aircall over WINDOW) from `uc-pipeline sandbox --config ... <flags>`."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "uc_pipeline.cli", "sandbox", "--port", "0", "--config", str(config), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = proc.stdout.readline()
        match = re.search(r"serving at (http://127\.0\.0\.1:\d+)", banner)
        assert match, banner + proc.stdout.read()
        base = match.group(1)
        health = httpx.get(f"{base}/_sandbox/health", timeout=30).json()
        truth = httpx.get(f"{base}/_sandbox/truth/acme-aircall/calls", params=WINDOW, timeout=60).json()
        return health, truth
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_the_command_serves_the_configs_profile_and_a_ground_truth_that_stands_still(tmp_path: Path) -> None:
    config = write_config(tmp_path, CONFIG.replace("now: 2026-02-01T00:00:00Z\n", ""))
    health, first = served_truth(config, "--seed", "5", "--now", "2026-02-01T00:00:00Z")
    # The config says fast; without it the command's default is the documented quotas.
    assert health["profile"] == "fast"
    assert health["now"] == "2026-02-01T00:00:00+00:00"
    _, again = served_truth(config, "--seed", "5", "--now", "2026-02-01T00:00:00Z")
    assert first["count"] > 0 and again["records"] == first["records"]
    # The same as the Python API gives for that seed and moment; another seed is other data.
    moment = datetime(2026, 2, 1, tzinfo=UTC)
    start, end = datetime(2026, 1, 20, tzinfo=UTC), datetime(2026, 1, 21, tzinfo=UTC)
    same = build_sandbox(config=config, seed=5, now=moment).records("acme-aircall", "calls", start, end)
    other = build_sandbox(config=config, seed=6, now=moment).records("acme-aircall", "calls", start, end)
    assert [r["record"] for r in first["records"]] == same != other
