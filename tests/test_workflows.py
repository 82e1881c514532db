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
    assert {p.name for p in WORKFLOWS} == {"ci.yml", "docs.yml", "regenerate.yml", "release.yml"}


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
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [line for line in lines if line.startswith("make ")]
    # Every push: the tests (with the public-API check), then what a release would publish,
    # built, checked and smoke-tested from clean virtualenvs.
    assert commands == ["make test", "make dist-check", "make docs"]
    makefile = (ROOT / "Makefile").read_text()
    assert "api-check" in makefile.split("\ntest:")[1].split("\n")[0]
    assert "scripts/api_check.py" in makefile.split("\napi-check:")[1].split("\n\n")[0]
    assert "scripts/dist_check.py" in makefile.split("\ndist-check:")[1].split("\n\n")[0]


def test_release_publishes_only_a_tag_and_only_what_was_checked() -> None:
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    triggers = doc[True]
    assert triggers["push"] == {"tags": ["v*"]}, triggers  # no branch push publishes
    assert doc["permissions"] == {"contents": "read"}
    check, publish, docs = doc["jobs"]["check"], doc["jobs"]["publish"], doc["jobs"]["docs"]
    runs = [str(s.get("run", "")) for s in check["steps"]]
    assert any("scripts/release_check.py" in r for r in runs)
    # The same commands as CI's entry point, in the same order.
    assert runs.index("make test") < runs.index("make dist-check")
    upload = next(s for s in check["steps"] if "upload-artifact" in str(s.get("uses")))
    assert upload["with"]["path"] == "dist/"
    # Publishing: after the checks, for a tag only, by trusted publishing (no stored token).
    assert publish["needs"] == "check"
    assert publish["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    uses = [str(s.get("uses")) for s in publish["steps"]]
    assert uses[0].startswith("actions/download-artifact") and "pypi-publish" in uses[-1]
    assert not any("password" in str(s.get("with", {})) for s in publish["steps"])
    # The docs of that version, once it is on PyPI.
    assert docs["needs"] == "publish" and docs["if"] == publish["if"]
    deploy = " ".join(str(s.get("run", "")) for s in docs["steps"])
    assert "make docs" in deploy and "mike deploy --push --update-aliases" in deploy


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
    (job,) = doc["jobs"].values()
    runs = [str(s.get("run", "")) for s in job["steps"]]
    assert "make docs" in runs  # the strict build .ci/run also runs, before mike deploys
    assert "make docs" in (ROOT / ".ci" / "run").read_text()
    assert runs.index("make docs") < next(i for i, r in enumerate(runs) if "mike deploy" in r)
    assert doc["permissions"] == {"contents": "read"}  # only the deploy job may write
    assert job["permissions"] == {"contents": "write"}
    assert "provider: mike" in (ROOT / "mkdocs.yml").read_text()
