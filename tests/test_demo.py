"""The README's main command works with no credentials (against the local sandbox)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_runs_the_whole_job_against_the_sandbox(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"TOLOKA_API_KEY", "TOLOKA_OAUTH_TOKEN", "TOLOKA_BASE_URL"}
    }
    env["TOLOKA_DEMO_OUT"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "local sandbox" in result.stdout
    rows = re.search(r"v2-beta: (\d+) rows .* run \S+ completed, (\d+) result rows", result.stdout)
    assert rows and rows.group(1) == rows.group(2) == "2000", result.stdout
    tasks = re.search(r"v1: (\d+) tasks created .* 0 invalid, 0 unknown", result.stdout)
    assert tasks and tasks.group(1) == "12000", result.stdout
    assert "sandbox-key" not in result.stdout + result.stderr
    # It ends by saying where the results are, and they are there.
    done = re.search(r"done: results and journal in (\S+)", result.stdout)
    assert done, result.stdout
    out = Path(done.group(1))
    assert out.parent == tmp_path and (out / "results.jsonl").is_file()
    assert len((out / "results.jsonl").read_text().splitlines()) == 2000
    # Progress bars go to stderr: the rows, the run, the download and the tasks.
    for stage in ("rows", "run", "download", "tasks"):
        assert stage in result.stderr, result.stderr
