"""schemathesis against Prism serving each contract: the specs are self-consistent.

Prism answers every request from the spec's own examples and validates what it receives,
so this run proves the examples conform to their schemas, that requests valid by the
schema are accepted, and that the document is something a real server can implement.
Each run gets its own Prism, because a crash (see below) must not take down the shared one.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts.mockserver import SPECS, PrismServer

pytestmark = pytest.mark.prism

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
COMMON = [
    "--checks",
    "all",
    # ignored_auth: Prism checks that an Authorization header is present, not its value.
    # unsupported_method: Prism answers 405 without an Allow header.
    "--exclude-checks",
    "ignored_auth,unsupported_method",
    "-m",
    "positive",
    "-n",
    "20",
    "--generation-deterministic",
    "-w",
    "1",
]

RUNS = {
    "v1": ("v1", "OAuth test", []),
    "v2-beta": ("v2-beta", "ApiKey test", ["--exclude-operation-id", "importPipeline"]),
    # Prism 5.14.2's multipart parser (parse-multipart-data) crashes the whole process on
    # fuzzed multipart bodies, so the one multipart operation runs the example and coverage
    # phases only; the sandbox's schemathesis run fuzzes it fully.
    "v2-beta-import": (
        "v2-beta",
        "ApiKey test",
        ["--include-operation-id", "importPipeline", "--phases", "examples,coverage"],
    ),
}


@pytest.mark.parametrize("run", sorted(RUNS))
def test_schemathesis_against_prism(run: str, tmp_path: Path) -> None:
    spec, auth, extra = RUNS[run]
    with PrismServer(SPECS[spec]) as prism:
        result = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                str(SPECS[spec]),
                "--url",
                prism.url,
                "-H",
                f"Authorization: {auth}",
                *COMMON,
                *extra,
            ],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,
        )
        crashed = prism._proc is None or prism._proc.poll() is not None
    assert not crashed, "Prism died during the run"
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout
