"""The wheel a pip user gets: ``scripts/dist_check.py`` (``make dist-check``, which CI runs on
every push and the release workflow before publishing) builds it, checks it and runs the
README's quick starts from clean virtualenvs. These tests pin the pieces it relies on; the
whole run is here too, marked slow (it is CI's job, not the default suite's).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from scripts import dist_check

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_quick_starts_are_found_with_their_output() -> None:
    (code, output), (commands, shown) = dist_check.quick_start_blocks(
        (ROOT / "README.md").read_text(encoding="utf-8")
    )
    assert "Sandbox()" in code and output.startswith("completed 100 rows")
    lines = commands.splitlines()
    assert any(line.startswith("toloka-ext tasks create") for line in lines), commands
    assert not any("sandbox serve" in line for line in lines)  # the check serves it itself
    assert shown.splitlines()[0] == "acc-sandbox sandbox@example.com"


def test_fenced_blocks_pair_an_output_only_when_it_follows_directly() -> None:
    doc = "```sh\na\n```\n\n```text\nA\n```\nprose\n```text\nB\n```\n"
    assert dist_check.fenced_blocks(doc) == [
        ("sh", "a\n", False),
        ("text", "A\n", True),
        ("text", "B\n", False),
    ]


def test_the_closure_follows_the_extras_asked_for() -> None:
    requires = ["httpx>=0.23", 'typer>=0.26; extra == "cli"', 'uvicorn>=0.29; extra == "testing"']
    plain = {d.metadata["Name"].lower() for d in dist_check.runtime_closure(requires)}
    cli = {d.metadata["Name"].lower() for d in dist_check.runtime_closure(requires, ("cli",))}
    assert {"httpx", "httpcore", "h11"} <= plain and "typer" not in plain
    assert {"typer", "rich"} <= cli and "uvicorn" not in cli


def test_repack_tags_a_compiled_distribution_as_pip_recorded_it(tmp_path: Path) -> None:
    import importlib.metadata as md

    wheel = dist_check.repack(md.distribution("PyYAML"), tmp_path)
    assert wheel.name.startswith("pyyaml-") and "-cp311-" in wheel.name, wheel.name
    with zipfile.ZipFile(wheel) as whl:
        names = whl.namelist()
    assert any(n.startswith("yaml/") for n in names)
    assert any(n.endswith(".dist-info/RECORD") for n in names)


@pytest.mark.slow
def test_the_whole_dist_check_passes(tmp_path: Path) -> None:
    assert dist_check.main(["--out", str(tmp_path / "dist")]) == 0
