"""Every code block of README.md, CONTRIBUTING.md and docs/ runs as written, against the sandbox.

* A ```` ```python ```` block runs in a fresh interpreter, in a temporary directory that holds
  ``rows.jsonl``, ``rows.csv`` and ``tasks.jsonl``, with ``TOLOKA_API_KEY``,
  ``TOLOKA_BASE_URL`` and ``TOLOKA_V1_BASE_URL`` pointing at one served sandbox (so
  ``Toloka()`` "against Toloka" talks to it) and ``TOLOKA_PIPELINE_ID=pl-1``,
  ``TOLOKA_POOL_ID=pool-1``. A block that defines ``test_*`` functions runs under pytest,
  where the package's plugin provides its fixtures.
* A runnable block followed directly by a ```` ```text ```` block must print exactly that text.
* A ```` ```sh ```` block of ``toloka-ext ...`` commands (and ``printf`` to write its input,
  ``head`` to show its output: :data:`SHELL_HELPERS`) runs in bash the same way,
  against a fresh served sandbox of its own, so it may name the ids it creates (skipped,
  with the reason, while the command line is not installed). Other shell blocks
  (``pip install``, ``make``) are instructions, not examples, and are not run.
* A block may opt out only with ``<!-- not-run: reason -->`` on the line right before its
  fence; opt-outs are counted and capped (:data:`MAX_NOT_RUN`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DOC_FILES = sorted(
    [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").rglob("*.md")],
    key=lambda p: p.relative_to(ROOT).as_posix(),
)
MAX_NOT_RUN = 8
"""More opt-outs than this means the docs drifted from what runs: fix the blocks instead."""
BLOCK_TIMEOUT = 120

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>```+|~~~+)(?P<info>[^`\n]*)$")
_NOT_RUN = re.compile(r"^\s*<!--\s*not-run:\s*(?P<reason>.*?)\s*-->\s*$")
_SHELL = {"sh", "bash", "shell", "console"}
SHELL_HELPERS = frozenset({"printf", "head"})
"""Commands a toloka-ext shell example may also use: to write its input, to show its output."""


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    lang: str
    code: str
    not_run: str | None
    expected_output: str | None = None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"

    @property
    def commands(self) -> list[str]:
        """The command lines of a shell block (comments and blanks dropped)."""
        lines = [ln.strip() for ln in self.code.splitlines()]
        return [ln.removeprefix("$ ") for ln in lines if ln and not ln.startswith("#")]

    @property
    def is_cli_example(self) -> bool:
        """``toloka-ext`` commands, with only file-making helpers (:data:`SHELL_HELPERS`)."""
        first = [c.split()[0] for c in self.commands]
        return "toloka-ext" in first and set(first) <= {"toloka-ext", *SHELL_HELPERS}


def parse_blocks(path: Path) -> list[Block]:
    """The fenced code blocks of a Markdown file, with their opt-out markers."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        lang = opening["info"].strip().split(" ")[0].lower()
        end = i + 1
        while end < len(lines) and not (
            lines[end].strip().startswith(fence) and lines[end].strip().strip(fence[0]) == ""
        ):
            end += 1
        if end == len(lines):
            raise AssertionError(f"{path}:{i + 1}: unclosed code fence")
        body = [ln[indent:] if ln[:indent].strip() == "" else ln for ln in lines[i + 1 : end]]
        marker = _NOT_RUN.match(lines[i - 1]) if i > 0 else None
        blocks.append(
            Block(
                path=path,
                line=i + 1,
                lang=lang,
                code=textwrap.dedent("\n".join(body)) + "\n",
                not_run=marker["reason"] if marker else None,
            )
        )
        i = end + 1
    return _with_outputs(path, lines, blocks)


def _with_outputs(path: Path, lines: list[str], blocks: list[Block]) -> list[Block]:
    """Attach a ```text block that directly follows a runnable block as its expected output."""
    out: list[Block] = []
    for n, block in enumerate(blocks):
        following = blocks[n + 1] if n + 1 < len(blocks) else None
        runs = block.lang == "python" or (block.lang in _SHELL and block.is_cli_example)
        if runs and following is not None and following.lang == "text":
            end_of_block = block.line + len(block.code.splitlines()) + 1
            between = lines[end_of_block : following.line - 1]
            if all(not ln.strip() for ln in between):
                block = Block(**{**block.__dict__, "expected_output": following.code})
        out.append(block)
    return out


ALL_BLOCKS = [b for p in DOC_FILES if p.exists() for b in parse_blocks(p)]
PYTHON_BLOCKS = [b for b in ALL_BLOCKS if b.lang == "python"]
CLI_BLOCKS = [b for b in ALL_BLOCKS if b.lang in _SHELL and b.is_cli_example]
RUNNABLE = [b for b in [*PYTHON_BLOCKS, *CLI_BLOCKS] if b.not_run is None]
NOT_RUN = [b for b in [*PYTHON_BLOCKS, *CLI_BLOCKS] if b.not_run is not None]
# The same example in two places (the README and the docs' home page) runs once.
_FIRST: dict[tuple[str, str, str | None], Block] = {}
for _block in RUNNABLE:
    _FIRST.setdefault((_block.lang, _block.code, _block.expected_output), _block)
UNIQUE = list(_FIRST.values())


def _cli_installed() -> bool:
    return (BIN / "toloka-ext").exists()


ROWS = [{"image": f"https://example.com/img-{i}.jpg", "lang": "en"} for i in range(20)]


def _env_for(server: Any) -> dict[str, str]:
    """This process's environment, less any real Toloka settings, pointed at ``server``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOLOKA_")}
    env.pop("PYTEST_ADDOPTS", None)
    env.update(
        TOLOKA_API_KEY=server.api_key,
        TOLOKA_BASE_URL=server.v2_base_url,
        TOLOKA_V1_BASE_URL=server.v1_base_url,
        TOLOKA_PIPELINE_ID="pl-1",
        TOLOKA_POOL_ID="pool-1",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONDONTWRITEBYTECODE="1",
        NO_COLOR="1",
    )
    return env


@pytest.fixture(scope="module")
def shared_server() -> Iterator[Any]:
    """One served sandbox for the python blocks (each creates what it uses)."""
    from toloka_ext.testing import SandboxServer

    with SandboxServer() as server:
        yield server


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory with the sample files the examples name."""
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    (tmp_path / "rows.csv").write_text(
        "image,lang\n" + "".join(f"{r['image']},{r['lang']}\n" for r in ROWS)
    )
    tasks = [
        {"pool_id": "pool-1", "input_values": {"image": r["image"]}, "overlap": 1} for r in ROWS
    ]
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks))
    return tmp_path


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


def _describe(block: Block, result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"{block.id} exited {result.returncode}\n--- code ---\n{block.code}"
        f"--- stdout ---\n{result.stdout}--- stderr ---\n{result.stderr}"
    )


@pytest.mark.parametrize("block", UNIQUE, ids=[b.id for b in UNIQUE])
def test_block_runs(block: Block, shared_server: Any, workdir: Path) -> None:
    under_pytest = bool(re.search(r"^(async )?def test_", block.code, re.MULTILINE))
    if block.lang == "python":
        script = workdir / ("test_block.py" if under_pytest else "block.py")
        script.write_text(block.code)
        if under_pytest:
            cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", script.name]
        else:
            cmd = [sys.executable, script.name]
        result = _run(cmd, cwd=workdir, env=_env_for(shared_server))
    else:
        if not _cli_installed():
            pytest.skip("the toloka-ext command line is not installed in this environment")
        from toloka_ext.testing import SandboxServer

        # A fresh sandbox: a shell block may name the ids it creates ("-> ds-1").
        with SandboxServer() as server:
            cmd = ["bash", "-euo", "pipefail", "-c", block.code]
            result = _run(cmd, cwd=workdir, env=_env_for(server))
    assert result.returncode == 0, _describe(block, result)
    if block.lang == "python" and under_pytest:
        assert re.search(r"\b\d+ passed\b", result.stdout), _describe(block, result)
    if block.expected_output is not None:
        assert result.stdout.rstrip() == block.expected_output.rstrip(), _describe(block, result)
    assert "sandbox-key" not in result.stderr, "a credential reached stderr"


def test_opt_outs_are_few_and_explained() -> None:
    summary = (
        f"{len(RUNNABLE)} blocks run ({len(UNIQUE)} distinct; {len(PYTHON_BLOCKS)} python, "
        f"{len(CLI_BLOCKS)} toloka-ext shell), {len(NOT_RUN)} opted out: "
        + "; ".join(f"{b.id} ({b.not_run})" for b in NOT_RUN)
    )
    print(summary)
    assert all(b.not_run for b in NOT_RUN), summary
    assert len(NOT_RUN) <= MAX_NOT_RUN, summary


def test_every_marker_sits_on_a_block() -> None:
    """A marker not directly above a fence would silently opt out nothing (or the wrong one)."""
    stray = []
    for path in DOC_FILES:
        if not path.exists():
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines):
            if _NOT_RUN.match(line) and not (n + 1 < len(lines) and _FENCE.match(lines[n + 1])):
                stray.append(f"{path.relative_to(ROOT)}:{n + 1}")
    assert not stray, f"not-run markers not directly above a code fence: {stray}"


def test_the_readme_quick_start_is_run_and_checked() -> None:
    """The extraction itself: the README's quick start is found, run and its output compared."""
    readme = [b for b in RUNNABLE if b.path.name == "README.md" and b.lang == "python"]
    assert len(readme) >= 5, [b.id for b in readme]
    quick = readme[0]
    assert "Sandbox()" in quick.code and quick.expected_output, quick.id


def test_parse_blocks_reads_markers_fences_and_outputs(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text(
        "intro\n\n```python\nprint(1)\n```\n\n```text\n1\n```\n\n"
        "<!-- not-run: needs a live key -->\n```python\nraise SystemExit(1)\n```\n\n"
        "- item\n\n  ```sh\n  toloka-ext whoami  # indented in a list\n  ```\n"
        "```sh\npip install toloka-ext\n```\n"
        "```sh\nprintf '{}\\n' > rows.jsonl\ntoloka-ext whoami\n```\n```text\nacc\n```\n"
    )
    blocks = parse_blocks(doc)
    assert [(b.lang, b.not_run) for b in blocks] == [
        ("python", None),
        ("text", None),
        ("python", "needs a live key"),
        ("sh", None),
        ("sh", None),
        ("sh", None),
        ("text", None),
    ]
    assert blocks[0].expected_output == "1\n"
    assert blocks[2].expected_output is None
    assert blocks[3].is_cli_example and blocks[3].commands == [
        "toloka-ext whoami  # indented in a list"
    ]
    assert not blocks[4].is_cli_example
    assert blocks[5].is_cli_example and blocks[5].expected_output == "acc\n"
