"""Each drift fixture through the change report: ``specdiff`` and ``pull_spec.py --dry-run``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scripts import pull_spec
from tests.contract._schemas import json_schema
from tests.drift.mutations import (
    FIXTURES,
    SNAPSHOT_PATH,
    DriftFixture,
    Spec,
    load_snapshot,
)
from toloka_ext._specdiff import RULES, diff_specs

IDS = [f.name for f in FIXTURES]


@pytest.fixture(scope="module")
def snapshot() -> Spec:
    return load_snapshot()


def test_fixtures_cover_the_issue_list() -> None:
    assert len(FIXTURES) == len(set(IDS)) == 10
    assert sum(f.breaking for f in FIXTURES) == 5
    for f in FIXTURES:
        assert all(rule in RULES for rule in f.rules), f.name
        assert (f.layer.outcome == "drift") == f.breaking, f.name
        assert f.layer.field if f.breaking else f.layer.field is None


def test_fixtures_leave_the_snapshot_alone(snapshot: Spec) -> None:
    before = json.dumps(snapshot, sort_keys=True)
    for f in FIXTURES:
        assert f.apply(snapshot) != snapshot, f.name
    assert json.dumps(snapshot, sort_keys=True) == before


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_mutated_spec_is_valid_and_its_examples_follow_it(
    fixture: DriftFixture, snapshot: Spec
) -> None:
    mutated = fixture.apply(snapshot)
    pull_spec.validate(mutated, fixture.name)  # raises PullError when invalid
    checked = 0
    for item in mutated["paths"].values():
        for op in item.values():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for status, response in op["responses"].items():
                media = (response.get("content") or {}).get("application/json")
                if not str(status).startswith("2") or not isinstance(media, dict):
                    continue
                validator = jsonschema.Draft7Validator(json_schema(mutated, media["schema"]))
                values = [media["example"]] if "example" in media else []
                values += [e["value"] for e in (media.get("examples") or {}).values()]
                for value in values:
                    errors = [e.message for e in validator.iter_errors(value)]
                    assert not errors, (fixture.name, op["operationId"], status, errors)
                    checked += 1
    assert checked >= 20


def _where(change: Any) -> str:
    return f"{change.method} {change.path} {change.location}".strip()


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_specdiff_classifies_the_change(fixture: DriftFixture, snapshot: Spec) -> None:
    report = diff_specs(snapshot, fixture.apply(snapshot))
    reported = {c.rule_id for c in report.changes}
    assert set(fixture.rules) <= reported, (fixture.name, reported)
    assert report.exit_code == fixture.exit_code
    assert bool(report.breaking) is fixture.breaking
    if fixture.breaking:
        # Nothing else is called breaking, and the rule names what changed.
        assert {c.rule_id for c in report.breaking} <= set(fixture.rules)
    named = [c for c in report.changes if c.rule_id == fixture.rules[0]]
    assert any(fixture.where == _where(c) for c in named), [_where(c) for c in named]
    markdown = report.to_markdown()
    assert fixture.rules[0] in markdown
    assert ("## Breaking" in markdown) is fixture.breaking


@pytest.mark.parametrize("fixture", FIXTURES, ids=IDS)
def test_pull_spec_dry_run_exit_code(
    fixture: DriftFixture,
    snapshot: Spec,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    mutated = tmp_path / "mutated.json"
    mutated.write_text(json.dumps(fixture.apply(snapshot)), encoding="utf-8")
    output = tmp_path / "v2-beta.yaml"
    shutil.copyfile(SNAPSHOT_PATH, output)
    report_json = tmp_path / "report.json"
    argv = ["--file", str(mutated), "--output", str(output), "--dry-run"]
    code = pull_spec.main([*argv, "--report-json", str(report_json)])
    out = capsys.readouterr().out
    assert code == fixture.exit_code, out
    assert output.read_bytes() == SNAPSHOT_PATH.read_bytes()  # dry run: untouched
    data = json.loads(report_json.read_text(encoding="utf-8"))
    assert data["status"] == "changed" and data["written"] is False
    assert {c["rule_id"] for c in data["changes"]} >= set(fixture.rules)
    assert ("[BREAKING]" in out) is fixture.breaking
