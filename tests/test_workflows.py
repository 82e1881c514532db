"""The hosting workflow files: schema-valid, and doing what .ci/run and make regenerate do."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = ROOT / "node_modules" / ".bin" / "action-validator"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS} == {"ci.yml", "docs.yml", "regenerate.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_is_schema_valid(path: Path) -> None:
    result = subprocess.run([str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validator_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: [push]\njobs:\n  a:\n    runs-onn: ubuntu-latest\n    steps: []\n")
    result = subprocess.run([str(VALIDATOR), str(broken)], capture_output=True, text=True)
    assert result.returncode != 0


def _steps(path: str) -> list[dict[str, object]]:
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / path).read_text())
    return [step for job in doc["jobs"].values() for step in job["steps"]]


def test_ci_runs_the_same_entry_point_as_local_ci() -> None:
    runs = [str(s.get("run", "")) for s in _steps("ci.yml")]
    assert any("bash .ci/run" in r for r in runs)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_regenerate_is_scheduled_and_opens_a_labelled_pr() -> None:
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / "regenerate.yml").read_text())
    triggers = doc[True]  # YAML 1.1 reads the key `on` as a boolean
    assert "schedule" in triggers and "workflow_dispatch" in triggers
    steps = _steps("regenerate.yml")
    assert any("scripts/regenerate.py" in str(s.get("run", "")) for s in steps)
    makefile = (ROOT / "Makefile").read_text()
    assert "scripts/regenerate.py" in makefile.split("\nregenerate:")[1].split("\n\n")[0]
    pr = next(
        s for s in steps if str(s.get("uses", "")).startswith("peter-evans/create-pull-request")
    )
    assert pr["with"]["body-path"] == "regenerate-summary.md"  # type: ignore[index]
    assert "label" in str(pr["with"]["labels"])  # type: ignore[index]


def test_docs_publishes_the_site_local_ci_builds() -> None:
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / "docs.yml").read_text())
    build, deploy = doc["jobs"]["build"], doc["jobs"]["deploy"]
    runs = [str(s.get("run", "")) for s in build["steps"]]
    assert "make docs" in runs  # the strict build .ci/run also runs
    assert "make docs" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    site_dir = makefile.split("\ndocs:")[1].split("--site-dir ")[1].split()[0]
    upload = next(s for s in build["steps"] if "upload-pages-artifact" in str(s.get("uses")))
    assert upload["with"]["path"] == site_dir
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert doc["permissions"] == {"contents": "read"}  # only the deploy job may write
    assert any("deploy-pages" in str(s.get("uses")) for s in deploy["steps"])
