"""The README tells the truth: its examples type-check under ``mypy --strict`` (they run, too:
tests/test_docs_examples.py), its links lead to files of this repository, its install
section names the wheel this version builds, and what it says about the v2-beta snapshot
matches the snapshot."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.test_docs_examples import parse_blocks

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")


def _version() -> str:
    found = re.search(
        r'^__version__ = "([^"]+)"', (ROOT / "toloka_ext/_version.py").read_text(), re.M
    )
    assert found
    return found[1]


def test_every_python_example_type_checks_under_mypy_strict(tmp_path: Path) -> None:
    blocks = [b for b in parse_blocks(README) if b.lang == "python"]
    assert len(blocks) >= 8
    files = []
    for block in blocks:
        path = tmp_path / f"readme_line_{block.line}.py"
        path.write_text(block.code)
        files.append(str(path))
    config = tmp_path / "mypy.ini"
    # pandas ships no type information: its example is checked with pandas as Any.
    config.write_text("[mypy]\nstrict = True\n\n[mypy-pandas.*]\nignore_missing_imports = True\n")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--no-error-summary"]
        + ["--cache-dir", str(ROOT / ".mypy_cache" / "readme"), *files],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_links_lead_to_files_of_the_repository() -> None:
    links = re.findall(r"\]\(([^)\s]+)\)", TEXT)
    assert links
    for link in links:
        if link.startswith("https://"):
            assert "toloka-ext.github.io" not in link and "github.com/toloka-ext" not in link, (
                f"{link}: a placeholder address (the project's public home is not settled)"
            )
            continue
        target, _, anchor = link.partition("#")
        if target:
            assert (ROOT / target).exists(), link
        if anchor and not target:  # a section of the README itself
            headings = {
                re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-")
                for h in re.findall(r"^#+ (.+)$", TEXT, re.M)
            }
            assert anchor in headings, link
    assert "toloka-ext.github.io" not in TEXT


def test_the_install_section_builds_and_names_this_version() -> None:
    section = TEXT.split("\n## Install", 1)[1].split("\n## ", 1)[0]
    assert "not on PyPI yet" in section  # until the first release (release_check.py)
    assert f"dist/toloka_ext-{_version()}-py3-none-any.whl[cli,testing]" in section
    assert "pip install '.[cli,testing]'" in section and "python3 -m venv" in section


def test_what_it_says_about_the_snapshot_is_what_the_snapshot_is() -> None:
    snapshot = yaml.safe_load((ROOT / "openapi" / "v2-beta.yaml").read_text(encoding="utf-8"))
    marked: list[dict[str, object]] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("x-guess") is True:
                marked.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(snapshot)
    assert snapshot["info"]["x-snapshot"]["mode"] == "reconstructed", (
        "the snapshot is live now: rewrite the README's section on it"
    )
    assert marked and all(m.get("x-guess-reason") for m in marked)  # each says why
    assert f"{len(marked)} places carry `x-guess: true`" in TEXT, len(marked)
    assert f"({len(marked)} of them;" in (ROOT / "docs" / "drift.md").read_text()
    assert "`info.x-snapshot.mode: reconstructed`" in TEXT
