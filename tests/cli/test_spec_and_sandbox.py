"""``spec diff|pull`` (exit codes of scripts/pull_spec.py) and ``sandbox serve``."""

from __future__ import annotations

import copy
import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import yaml

from toloka_ext.testing import SandboxServer

from .conftest import CLI, Cli, base_env, run_command

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT = ROOT / "openapi" / "v2-beta.yaml"


def _snapshot() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(SNAPSHOT.read_text(encoding="utf-8"))
    return doc


def _write(path: Path, doc: dict[str, Any]) -> str:
    path.write_text(json.dumps(doc, default=str))
    return str(path)


def test_spec_diff_and_pull_exit_codes(cli: Cli, tmp_path: Path) -> None:
    base = _snapshot()
    compatible = copy.deepcopy(base)
    compatible["paths"]["/me"]["get"]["parameters"] = [
        {"name": "verbose", "in": "query", "required": False, "schema": {"type": "boolean"}}
    ]
    breaking = copy.deepcopy(base)
    del breaking["paths"]["/runs/{runId}"]
    (tmp_path / "garbage.yaml").write_text("- just\n- a list\n")
    same, compat, broken, garbage, pulled, pulled_broken, full = cli.many(
        ["spec", "diff", str(SNAPSHOT), str(SNAPSHOT)],
        ["spec", "diff", str(SNAPSHOT), _write(tmp_path / "compatible.json", compatible),
         "--format", "markdown"],
        ["--json", "spec", "diff", str(SNAPSHOT), _write(tmp_path / "breaking.json", breaking)],
        ["spec", "diff", str(SNAPSHOT), "garbage.yaml"],
        ["spec", "pull", "--file", str(SNAPSHOT)],
        ["spec", "pull", "--file", str(tmp_path / "breaking.json")],
        ["--json", "spec", "pull", "--file", "compatible.json", "--against", str(SNAPSHOT)],
    )  # fmt: skip
    assert (same.code, same.out.splitlines()[0]) == (0, "No API changes.")
    assert compat.code == 3, compat
    assert compat.out.startswith("# API change report")
    assert "new-optional-request-parameter" in compat.out
    assert broken.code == 4
    (change,) = broken.json()["changes"]
    assert (change["rule_id"], change["path"]) == ("api-path-removed-without-deprecation",
                                                   "/runs/{runId}")  # fmt: skip
    assert garbage.code == 2 and "not an OpenAPI document" in garbage.err
    # pull: the snapshot the installed client was generated from is the baseline.
    assert pulled.code == 0, pulled
    assert "against snapshot v2-beta@" in pulled.err
    assert pulled_broken.code == 4 and "GET /runs/{runId}" in pulled_broken.out
    assert full.code == 3 and full.json()["scope"] == "full"


def test_spec_pull_that_cannot_fetch_exits_1(server: SandboxServer, cli: Cli) -> None:
    # The sandbox serves no OpenAPI document: a 404, the failure of any unreachable URL.
    result = cli("spec", "pull", "--url", f"{server.v2_base_url}/doc")
    assert result.code == 1, result
    (line,) = result.err_lines()
    assert line.startswith("toloka-ext: error: GET ") and "404" in line


def test_sandbox_serve_prints_its_banner_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [str(CLI), "sandbox", "serve", "--port", "0", "--api-key", "serve-test-key-31"],
        cwd=tmp_path,
        env=base_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert banner.startswith("Toloka sandbox on http://127.0.0.1:")
        url = banner.split()[3]
        me = httpx.get(
            f"{url}/api/v2-beta/me", headers={"Authorization": "ApiKey serve-test-key-31"}
        )
        assert me.status_code == 200
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err  # Ctrl-C is how a sandbox is stopped
    assert "Traceback" not in err


def test_sandbox_serve_without_uvicorn_names_the_testing_extra(tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "uvicorn"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        'raise ModuleNotFoundError("No module named \'uvicorn\'", name="uvicorn")\n'
    )
    env = base_env({"PYTHONPATH": str(tmp_path / "shadow")})
    result = run_command([str(CLI), "sandbox", "serve", "--port", "0"], env=env, cwd=tmp_path)
    assert result.code == 2
    assert result.err_lines() == [
        "toloka-ext: error: the sandbox server needs uvicorn: pip install 'toloka-ext[testing]'"
    ]
