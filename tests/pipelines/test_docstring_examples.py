"""Every ``Example::`` in the docstrings of this layer's public entry points runs as written,
against a sandbox served over HTTP on 127.0.0.1 (the clients are built from the environment,
``TOLOKA_API_KEY`` and ``TOLOKA_V2_BASE_URL``, exactly as in the examples)."""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import toloka_ext._pipelines as pipelines
from toloka_ext._pipelines import AsyncPipelineClient, PipelineClient
from toloka_ext._pipelines._rows import prepare_rows
from toloka_ext.testing import SandboxServer

ROWS = [{"url": f"https://img.example.com/{i}.jpg", "lang": "en"} for i in range(3)]


def _examples() -> Iterator[tuple[str, str]]:
    """(qualified name, example code) for the public names of the layer and their methods."""
    seen: set[int] = set()
    objects: list[tuple[str, Any]] = [
        (name, getattr(pipelines, name)) for name in sorted(pipelines.__all__)
    ]
    objects.append(("prepare_rows", prepare_rows))
    for name, obj in objects:
        members = [(name, obj)]
        if inspect.isclass(obj):
            members += [
                (f"{name}.{m}", v)
                for m, v in vars(obj).items()
                if not m.startswith("_") and callable(v)
            ]
        for qual, member in members:
            doc = inspect.getdoc(member) or ""
            if id(member) in seen or "Example::" not in doc:
                continue
            seen.add(id(member))
            block = doc.split("Example::", 1)[1]
            lines = []
            for line in block.splitlines()[1:]:
                if line.strip() and not line.startswith(" "):
                    break  # the indented block ended (e.g. at "Raises:")
                lines.append(line)
            yield qual, textwrap.dedent("\n".join(lines)).strip()


def _with_checks(code: str) -> str:
    """Turn ``expr  # value`` and ``expr`` + ``# value`` lines into assertions."""
    out: list[str] = []
    for line in code.splitlines():
        stripped = line.strip()
        if stripped.startswith("# ") and out:
            out[-1] = f"assert ({out[-1].strip()}) == ({stripped[2:]})"
            continue
        m = re.match(r"^(\s*)(.+?)\s+# (.+)$", line)
        if m:
            try:
                ast.parse(m[3], mode="eval")
                line = f"{m[1]}assert ({m[2]}) == ({m[3]})"
            except SyntaxError:
                pass
        out.append(line)
    return "\n".join(out)


EXAMPLES = dict(_examples())


def test_the_public_entry_points_have_examples() -> None:
    for name in ("PipelineClient", "AsyncPipelineClient", "Datasets.add_items", "Runs.watch"):
        assert name in EXAMPLES


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def env(server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("TOLOKA_API_KEY", server.api_key)
    monkeypatch.setenv("TOLOKA_V2_BASE_URL", server.v2_base_url)
    monkeypatch.chdir(tmp_path)
    for name in ("rows.jsonl", "new_rows.jsonl"):
        Path(name).write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    with PipelineClient(poll_policy=_fast()) as fast:
        return _objects(fast)


def _objects(fast: PipelineClient) -> dict[str, Any]:
    project = fast.projects.create("examples")
    dataset = fast.datasets.create("prj-1", name="examples")
    fast.pipelines.export_to_file("pl-1", "signs.pipeline")
    copy = fast.pipelines.copy("pl-1", name="examples")
    fast.datasets.add_items(dataset.id, ROWS)
    fast.pipelines.attach(copy.id, dataset.id)
    run = fast.runs.start(copy.id)
    fast.runs.watch(run.id)
    export = fast.exports.wait(fast.exports.create(dataset.id).id)
    return {
        "project": project,
        "run": run,
        "export": export,
        "rows": ROWS,
        "ids": {"ds-1": dataset.id, "prj-1": "prj-1"},
    }


def _fast() -> Any:
    from toloka_ext import PollPolicy

    return PollPolicy(interval=0.01, max_interval=0.05)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs_as_written(name: str, env: dict[str, Any]) -> None:
    code = _with_checks(EXAMPLES[name])
    for placeholder, real in env["ids"].items():
        code = code.replace(f'"{placeholder}"', f'"{real}"')
    namespace: dict[str, Any] = {**pipelines.__dict__, "prepare_rows": prepare_rows}
    namespace["rows"] = env["rows"]
    namespace.update(run=env["run"], export=env["export"])
    if "await " in code or "async " in code:
        source = "async def __example():\n" + textwrap.indent(code, "    ")
        exec(compile(source, name, "exec"), namespace)

        async def main() -> None:
            async with AsyncPipelineClient(poll_policy=_fast()) as client:
                namespace["client"] = client
                await namespace["__example"]()

        asyncio.run(main())
    else:
        with PipelineClient(poll_policy=_fast()) as client:
            namespace["client"] = client
            exec(compile(code, name, "exec"), namespace)
