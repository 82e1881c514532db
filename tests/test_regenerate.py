"""``scripts/regenerate.py`` end to end, in a temporary copy of the repository, a local HTTP
server playing the live ``/doc`` and a small test selection (``TESTS``, against Prism)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from toloka_pipeline_api._snapshot import OPERATIONS

from scripts.public_usage import methods_by_operation
from scripts.pull_spec import load_text
from tests._http import RouteServer
from tests.drift.mutations import Spec, load_snapshot, required_property_removed, response_examples

pytestmark = pytest.mark.prism

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = Path("openapi/v2-beta.yaml")
PACKAGE = Path("generated/toloka_pipeline_api")
TESTS = "tests/test_generated_client.py"


def pipeline_version_added(spec: Spec) -> Spec:
    """A compatible change: pipelines report their ``version`` (optional integer)."""
    properties = spec["components"]["schemas"]["Pipeline"]["properties"]
    properties["version"] = {"minimum": 1, "type": "integer"}
    for pipeline in response_examples(spec, "Pipeline"):
        pipeline["version"] = 4
    return spec


@pytest.fixture
def server() -> Iterator[RouteServer]:
    with RouteServer() as srv:
        yield srv


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A copy of the parts of the repository the job reads (never the real one)."""
    copy = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("openapi", "scripts", "generated", "toloka_ext"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copyfile(ROOT / "pyproject.toml", copy / "pyproject.toml")
    (copy / "tests").mkdir()
    for name in ("conftest.py", "test_generated_client.py"):
        shutil.copyfile(ROOT / "tests" / name, copy / "tests" / name)
    for name in (".venv", "node_modules"):
        (copy / name).symlink_to((ROOT / name).resolve(), target_is_directory=True)
    return copy


def tree(root: Path) -> dict[str, bytes]:
    """Every file of the snapshot and the generated package, by relative path."""
    files = {str(SNAPSHOT): (root / SNAPSHOT).read_bytes()}
    for path in sorted((root / PACKAGE).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[str(path.relative_to(root))] = path.read_bytes()
    return files


@dataclass
class Job:
    code: int
    summary: str
    stdout: str
    stderr: str


def regenerate(repo: Path, *args: str) -> Job:
    summary = repo.parent / "summary.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    script = str(repo / "scripts" / "regenerate.py")
    argv = ["--summary", str(summary), "--pytest-args", f"{TESTS} -q", "--date", "2026-11-24"]
    cmd = [sys.executable, script, *argv, *args]
    proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=240)
    text = summary.read_text(encoding="utf-8") if summary.exists() else ""
    return Job(proc.returncode, text, proc.stdout, proc.stderr)


def test_help_documents_the_exit_codes() -> None:
    cmd = [sys.executable, str(ROOT / "scripts" / "regenerate.py"), "--help"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    for line in ("0  no change", "1  error", "3  compatible", "4  breaking", "5  the tests fail"):
        assert line in proc.stdout


def test_no_change_exits_0_and_writes_nothing(repo: Path, server: RouteServer) -> None:
    server.set(load_snapshot(repo / SNAPSHOT))
    before = tree(repo)
    job = regenerate(repo, "--url", server.url())
    assert job.code == 0, job.stderr
    assert tree(repo) == before
    assert job.summary.startswith("# Toloka Pipeline API v2-beta: no change (exit 0)")
    assert "nothing to do" in job.summary


def test_compatible_change_exits_3_and_installs(repo: Path, server: RouteServer) -> None:
    before = tree(repo)
    server.set(pipeline_version_added(load_snapshot(repo / SNAPSHOT)))
    job = regenerate(repo, "--url", server.url())
    assert job.code == 3, job.summary + job.stderr

    snapshot = load_text((repo / SNAPSHOT).read_text(encoding="utf-8"))
    assert "version" in snapshot["components"]["schemas"]["Pipeline"]["properties"]
    stamp = snapshot["info"]["x-snapshot"]
    assert (stamp["source"], stamp["mode"], stamp["date"]) == (server.url(), "live", "2026-11-24")
    model = (repo / PACKAGE / "models" / "pipeline.py").read_text(encoding="utf-8")
    assert "version: int | Unset" in model
    assert stamp["sha256"] in (repo / PACKAGE / "_snapshot.py").read_text(encoding="utf-8")
    after = tree(repo)
    assert after != before and not (repo / "generated" / ".toloka_pipeline_api.outgoing").exists()
    # What was installed is exactly what the generator makes from the new snapshot.
    cmd = ["bash", str(repo / "scripts" / "check_generated.sh")]
    check = subprocess.run(cmd, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    s = job.summary
    assert s.startswith("# Toloka Pipeline API v2-beta: compatible change (exit 3)")
    assert f"- Source: `{server.url()}`" in s
    assert "Breaking for clients: **no**" in s
    assert (
        "| response-optional-property-added | POST /pipelines/{pipelineId}/copy "
        "| response 201 body .version |" in s
    )
    assert f"Tests (`pytest {TESTS} -q`): pass;" in s and " 0 failed" in s
    assert "## What to do" in s and "review the diff and merge" in s
    assert "Updated: `openapi/v2-beta.yaml` and `generated/toloka_pipeline_api/`" in s


def test_breaking_change_with_failing_tests_exits_5_and_says_both(
    repo: Path, server: RouteServer
) -> None:
    server.set(required_property_removed(load_snapshot(repo / SNAPSHOT)))
    job = regenerate(repo, "--url", server.url())
    assert job.code == 5, job.summary + job.stderr  # the tests fail: that decides the code
    s = job.summary
    assert s.startswith(
        "# Toloka Pipeline API v2-beta: BREAKING change, and the tests fail (exit 5)"
    )
    # Which public calls of toloka_ext the removed Run.status reaches:
    assert "## Who is affected" in s
    affected = next(line for line in s.splitlines() if line.startswith("| `getRun` |"))
    for call in ("client.runs.get", "client.runs.watch", "client.process_new_data"):
        assert f"`{call}`" in affected, affected
    assert "Breaking for clients: **yes**" in s
    assert "## Breaking (3)" in s
    row = "| response-required-property-removed | GET /runs/{runId} | response 200 body .status |"
    assert row in s
    # The suite pins Run.status: its failures are named.
    assert "Failed:" in s
    assert f"- `{TESTS}::test_named_examples_parse`" in s
    assert "raise `ApiDriftError`" in s and "`GET /runs/{runId}`" in s
    # Breaking changes are still installed: the pull request carries them, labelled.
    snapshot = load_text((repo / SNAPSHOT).read_text(encoding="utf-8"))
    assert "status" not in snapshot["components"]["schemas"]["Run"]["properties"]
    assert "status" not in (repo / PACKAGE / "models" / "run.py").read_text(encoding="utf-8")


def test_compatible_change_with_failing_tests_exits_5(repo: Path, server: RouteServer) -> None:
    spec = load_snapshot(repo / SNAPSHOT)
    spec["paths"]["/runs/{runId}/cancel"] = load_text("""
parameters: [{$ref: '#/components/parameters/RunId'}]
post:
  operationId: cancelRun
  responses:
    '200':
      content: {application/json: {schema: {$ref: '#/components/schemas/Run'}}}
      description: The run, cancelling.
  tags: [runs]
""")
    server.set(spec)
    job = regenerate(repo, "--url", server.url())
    assert job.code == 5, job.summary + job.stderr
    s = job.summary
    assert "compatible change, and the tests fail (exit 5)" in s
    assert "| endpoint-added | POST /runs/{runId}/cancel |" in s
    assert "Breaking for clients: **no**" in s
    # The suite checks that every operation is exercised: the new one is not yet.
    assert f"- `{TESTS}::test_every_operation_is_covered`" in s
    assert "**1 failed**" in s
    assert (repo / PACKAGE / "api" / "runs" / "cancel_run.py").is_file()


def _generator_explodes(repo: Path) -> Spec:
    (repo / "scripts" / "generate.sh").write_text("echo 'generator exploded' >&2\nexit 1\n")
    return pipeline_version_added(load_snapshot(repo / SNAPSHOT))


@pytest.mark.parametrize(
    ("serve", "status", "stage", "message"),
    [
        (lambda _: {"openapi": "3.0.3", "paths": {}}, 200, "validate", "invalid"),  # no info
        (lambda _: b"<html>upstream error</html>", 500, "pull", "HTTP 500"),
        (_generator_explodes, 200, "generate", "generator exploded"),
    ],
    ids=["invalid-document", "http-500", "generation-fails"],
)
def test_error_exits_1_and_leaves_the_repo_untouched(
    repo: Path, server: RouteServer, serve: Any, status: int, stage: str, message: str
) -> None:
    server.set(serve(repo), status=status)
    before = tree(repo)
    job = regenerate(repo, "--url", server.url())
    assert job.code == 1
    assert tree(repo) == before
    assert "error, nothing changed (exit 1)" in job.summary
    assert f"## Error ({stage})" in job.summary and message in job.summary
    assert "are as they were" in job.summary
    assert f"error ({stage})" in job.stderr


def test_file_source_and_dry_run(repo: Path, tmp_path: Path) -> None:
    spec = tmp_path / "new.json"
    spec.write_text(json.dumps(pipeline_version_added(load_snapshot(repo / SNAPSHOT))))
    before = tree(repo)
    job = regenerate(repo, "--file", str(spec), "--dry-run")
    assert job.code == 3, job.summary + job.stderr
    assert tree(repo) == before
    assert "Dry run: the repository was not updated" in job.summary


@pytest.mark.parametrize(
    ("breaking", "tests_ok", "code"),
    [(False, True, 3), (True, True, 4), (False, False, 5), (True, False, 5)],
)
def test_failing_tests_decide_the_exit_code_whatever_the_change(
    breaking: bool, tests_ok: bool, code: int
) -> None:
    from scripts.regenerate import TestRun, exit_code_for
    from toloka_ext._specdiff import Change, Report

    level = "breaking" if breaking else "info"
    report = Report([Change("r", level, "GET", "/runs/{runId}", "response 200 body .x", "d")])
    tests = TestRun(command=["pytest"], returncode=0 if tests_ok else 1)
    if not tests_ok:
        tests.failed.append("tests/x.py::test_y")
    assert exit_code_for(report, tests) == code


def test_public_usage_is_derived_from_the_code() -> None:
    usage = methods_by_operation()
    assert "client.exports.download" in usage["getExport"]
    assert "client.process_new_data" in usage["startRun"]
    assert usage["getMe"] == ["client.me"]
    assert set(OPERATIONS) == set(usage)  # every operation is reached by some public call
