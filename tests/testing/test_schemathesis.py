"""schemathesis checks the sandbox against both contracts (all checks, both modes).

It runs against the sandbox's ASGI app served by uvicorn (a SandboxServer), so the run
also covers the served mode. Per-operation expectations that differ from schemathesis'
defaults are in ``schemathesis.toml`` next to this file, each with its reason.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from toloka_ext.testing import SandboxServer

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")

RUNS = {
    "v2-beta": ("openapi/v2-beta.yaml", "/api/v2-beta", "v2"),
    "v1": ("openapi/v1.yaml", "/api/v1", "v1"),
}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_sandbox_conforms_to_contract(name: str, tmp_path: Path) -> None:
    spec, prefix, api = RUNS[name]
    with SandboxServer() as server:
        auth = server.auth_headers(api)["Authorization"]
        result = subprocess.run(
            [
                str(SCHEMATHESIS),
                "--config-file",
                str(CONFIG),
                "run",
                str(ROOT / spec),
                "--url",
                server.url + prefix,
                "-H",
                f"Authorization: {auth}",
                "--checks",
                "all",
                "-m",
                "all",
                "-n",
                "20",
                "--generation-deterministic",
                "-w",
                "1",
            ],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,
        )
        assert server.running, "the sandbox died during the run"
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", result.stdout)
    assert counts is not None and counts[1] == counts[2] and int(counts[1]) > 0, result.stdout[
        -3000:
    ]
