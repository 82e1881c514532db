"""``make api-check``: a break of the public API fails unless the version and the changelog
announce it; ``release_check``: a tag is published only when everything agrees.

The check runs as ``make test`` runs it, on copies of the package changed the way a
contributor might change it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import api_check, release_check

ROOT = Path(__file__).resolve().parent.parent


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(
        ROOT / "toloka_ext", root / "toloka_ext", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "api", root / "api")
    shutil.copy(ROOT / "CHANGELOG.md", root / "CHANGELOG.md")
    return root


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def _check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "api_check.py"), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_as_committed_passes() -> None:
    result = _check(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_break_fails_until_the_version_and_the_changelog_say_so(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    tasks = root / "toloka_ext" / "_sync" / "_tasks.py"
    _edit(tasks, "        resend_missing: bool = False,\n", "")  # create_tasks loses one
    _edit(root / "toloka_ext" / "testing" / "__init__.py", '    "ManualClock",\n', "")
    _edit(root / "toloka_ext" / "_cli" / "_tasks.py", '"--wait-for-quota"', '"--await-quota"')
    refused = _check(root)
    assert refused.returncode == 1, refused
    assert refused.stderr.splitlines()[1:4] == [
        "  Toloka.tasks.create_tasks(resend_missing): parameter was removed",
        "  testing.ManualClock: removed",
        "  tasks create --wait-for-quota: flag removed",
    ], refused.stderr
    assert "a break needs version 0.3.0 or later" in refused.stderr
    assert "CHANGELOG.md needs a section ## [0.2.0]" not in refused.stderr  # it has one
    assert "naming: Toloka.tasks.create_tasks(resend_missing)" in refused.stderr

    # The version moves, the changelog names two of the three: still refused.
    _edit(root / "toloka_ext" / "_version.py", '"0.2.0"', '"0.3.0"')
    changelog = root / "CHANGELOG.md"
    section = (
        "## [0.3.0] - unreleased\n\n### Removed\n\n- `Toloka.tasks.create_tasks(resend_missing=)`\n"
    )
    _edit(changelog, "## [0.2.0]", section + "- `testing.ManualClock`\n\n## [0.2.0]")
    partly = _check(root)
    assert partly.returncode == 1 and "a break needs version" not in partly.stderr
    assert partly.stderr.rstrip().endswith("## [0.3.0] naming: tasks create --wait-for-quota")

    _edit(
        changelog,
        "- `testing.ManualClock`\n",
        "- `testing.ManualClock`, `tasks create --wait-for-quota`\n",
    )
    announced = _check(root)
    assert announced.returncode == 0, announced.stderr
    assert "announced: version 0.3.0 and CHANGELOG.md say so" in announced.stdout


def test_additions_and_private_changes_pass(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    # A new optional parameter, a new flag, a new public name; a private helper removed.
    _edit(
        root / "toloka_ext" / "_sync" / "_tasks.py",
        "        resend_missing: bool = False,\n",
        "        resend_missing: bool = False,\n        note: str | None = None,\n",
    )
    _edit(
        root / "toloka_ext" / "_cli" / "_app.py",
        "    version: Annotated[",
        '    verbose: Annotated[bool, typer.Option("--verbose")] = False,\n    version: Annotated[',
    )
    _edit(
        root / "toloka_ext" / "__init__.py",
        '    "TolokaError",\n',
        '    "TolokaError",\n    "__version__",\n',
    )
    _edit(root / "toloka_ext" / "_progress.py", "def size(n: int)", "def _size(n: int)")
    _edit(root / "toloka_ext" / "_progress.py", "{size(", "{_size(")
    result = _check(root)
    assert result.returncode == 0, result.stderr
    assert "no break against the baseline of 0.2.0" in result.stdout


def test_a_new_required_option_and_a_lost_json_key_are_breaks(tmp_path: Path) -> None:
    old = api_check.cli_baseline()
    new = json.loads(json.dumps(old))
    new["commands"]["tasks list"]["--limit"]["required"] = True
    new["json"]["tasks create"].remove("unknown_positions")
    new["exit_codes"]["OUTCOME_UNKNOWN"] = 5
    assert [b.line() for b in api_check.cli_breaks(old, new)] == [
        "tasks list --limit: new required option",
        "exit code OUTCOME_UNKNOWN: was 4, now 5",
        "--json tasks create key unknown_positions: removed",
    ]


@pytest.mark.parametrize(
    ("version", "needed"), [("0.2.0", "0.3.0"), ("0.2.7", "0.3.0"), ("1.4.2", "2.0.0")]
)
def test_the_next_breaking_version(version: str, needed: str) -> None:
    assert str(api_check.next_breaking(version)) == needed


def test_the_changelog_section_and_the_names_it_may_use() -> None:
    text = "# Changelog\n\n## [0.3.0] - unreleased\n\n- `Toloka(timeout)`\n\n## [0.2.0]\n- x\n"
    assert api_check.changelog_section(text, "0.3.0") == "\n- `Toloka(timeout)`\n\n"
    assert api_check.changelog_section(text, "0.4.0") is None
    brk = api_check.Break("Toloka.__init__(timeout)", "parameter was removed")
    assert {"Toloka.__init__", "Toloka(", "toloka_ext.Toloka("} <= api_check.names(brk)
    assert api_check.unannounced([brk], "\n- `Toloka(timeout)`\n") == []


def test_release_check_names_everything_that_disagrees(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    shutil.copy(ROOT / "README.md", root / "README.md")
    (root / "README.md").write_text("toloka-ext is not on PyPI yet.\n")
    assert release_check.problems("v0.3.0", root) == [
        "the tag v0.3.0 is not v0.2.0 (toloka_ext/_version.py)",
        "CHANGELOG.md: ## [0.2.0] - unreleased is not dated (## [0.2.0] - YYYY-MM-DD)",
        "README.md still says the package is 'not on PyPI yet': update Install",
    ]
    _edit(root / "CHANGELOG.md", "## [0.2.0] - unreleased", "## [0.2.0] - 2026-12-24")
    (root / "README.md").write_text("pip install toloka-ext\n")
    assert release_check.problems("v0.2.0", root) == []
    _edit(root / "toloka_ext" / "_version.py", '"0.2.0"', '"0.2.1"')
    _edit(root / "CHANGELOG.md", "## [0.2.0] - 2026-12-24", "## [0.2.1] - 2026-12-30")
    assert release_check.problems("v0.2.1", root) == [
        "api/toloka_ext.json records 0.2.0, not 0.2.1: run make api-check ARGS=--write",
        "api/cli.json records 0.2.0, not 0.2.1: run make api-check ARGS=--write",
    ]
