"""The `uc-pipeline` command: the sandbox server prints ready-to-use connection entries."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from uc_pipeline.cli import main
from uc_pipeline.connections import load_connections
from uc_pipeline.sandbox import PROVIDER_IDS, Sandbox

# One `export` line per credential field of every provider's demo connection.
EXPORTS = sum(len(conn.credentials) for conn in Sandbox.default_connections(PROVIDER_IDS))


def test_sandbox_command_serves_and_prints_connection_entries(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "uc_pipeline.cli", "sandbox", "--port", "0", "--profile", "fast"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        lines: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("export ") and sum(x.startswith("export ") for x in lines) == EXPORTS:
                break
        text = "".join(lines)
        base = re.search(r"serving at (http://127\.0\.0\.1:\d+)", text).group(1)
        assert httpx.get(f"{base}/_sandbox/health", timeout=10).status_code == 200
        env = dict(re.findall(r"^export (\w+)=['\"]?([^'\"\n]+)", text, flags=re.M))
        yaml_text = text.split("---", 1)[1].split("\n", 1)[1].split("\nexport ")[0]
        path = tmp_path / "connections.yaml"
        path.write_text(yaml_text, encoding="utf-8")
        connections = load_connections(path, env)
        assert sorted(c.provider for c in connections) == sorted(PROVIDER_IDS)
        assert all(c.base_url.startswith(base) for c in connections)
        assert yaml.safe_load(yaml_text)["connections"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_check_connections_reports_a_bad_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("connections:\n  - provider: nosuchprovider\n    connection_id: x\n", encoding="utf-8")
    assert main(["check-connections", str(path)]) == 2
    assert "unknown provider 'nosuchprovider'" in capsys.readouterr().err
