"""Every ``Example::`` in the docstrings of this layer's public entry points runs as written,
against a sandbox served over HTTP on 127.0.0.1 (the clients are built from the environment,
``TOLOKA_API_KEY``, ``TOLOKA_BASE_URL`` and ``TOLOKA_V1_BASE_URL``, exactly as in the
examples). The v1 ``client.tasks`` methods' own examples are run by ``tests/v1``."""

from __future__ import annotations

import ast
import asyncio
import importlib
import inspect
import json
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import toloka_ext
import toloka_ext.types
from toloka_ext import AsyncToloka, PollPolicy, Task, Toloka
from toloka_ext._journal import Journal
from toloka_ext._v2._rows import infer_fields, prepare_rows
from toloka_ext.testing import SandboxServer

ROWS = [{"url": f"https://img.example.com/{i}.jpg", "lang": "en"} for i in range(3)]
RESOURCES = ("projects", "datasets", "uploads", "pipelines", "runs", "exports")


def _layer() -> list[tuple[str, Any]]:
    """The public entry points of the layer: the package, the clients and their v2
    resources, the paginators, and the pure helpers for rows and journals."""
    objects: list[tuple[str, Any]] = [
        ("toloka_ext", toloka_ext),
        ("toloka_ext.types", toloka_ext.types),
        ("Toloka", Toloka),
        ("AsyncToloka", AsyncToloka),
        ("Paginator", toloka_ext.types.Paginator),
        ("AsyncPaginator", toloka_ext.types.AsyncPaginator),
        ("Journal", Journal),
        ("prepare_rows", prepare_rows),
        ("infer_fields", infer_fields),
    ]
    for client_cls in (Toloka, AsyncToloka):
        package = client_cls.__module__.rpartition(".")[0]  # toloka_ext._sync or ._async
        for resource in RESOURCES:
            # A property that builds the resource on first use: its return annotation names
            # the class, which its own module (`_<resource>`) defines.
            prop = inspect.getattr_static(client_cls, resource)
            name = inspect.get_annotations(prop.func)["return"]
            cls = getattr(importlib.import_module(f"{package}._{resource}"), name)
            objects.append((cls.__name__, cls))
    return objects


def _examples() -> Iterator[tuple[str, str]]:
    """(qualified name, example code) for the layer's public names and their methods."""
    seen: set[int] = set()
    for name, obj in _layer():
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


def _is_expression(text: str) -> bool:
    try:
        ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        return False
    return True


def _with_checks(code: str) -> str:
    """Turn ``expr  # value`` and ``expr`` + ``# value`` lines into assertions."""
    out: list[str] = []
    for line in code.splitlines():
        stripped = line.strip()
        if stripped.startswith("# ") and out and _is_expression(out[-1]):
            if _is_expression(stripped[2:]):
                indent = out[-1][: len(out[-1]) - len(out[-1].lstrip())]
                out[-1] = f"{indent}assert ({out[-1].strip()}) == ({stripped[2:]})"
                continue
        m = re.match(r"^(\s*)(.+?)\s+# (.+)$", line)
        if m and _is_expression(m[2]) and _is_expression(m[3]):
            line = f"{m[1]}assert ({m[2]}) == ({m[3]})"
        out.append(line)
    return "\n".join(out)


EXAMPLES = dict(_examples())


def test_the_public_entry_points_have_examples() -> None:
    for name in (
        "Toloka",
        "AsyncToloka",
        "Toloka.process_new_data",
        "AsyncToloka.process_new_data",
        "Datasets.add_items",
        "AsyncDatasets.add_items",
        "Runs.watch",
        "AsyncRuns.watch",
        "Paginator",
        "prepare_rows",
    ):
        assert name in EXAMPLES, sorted(EXAMPLES)


def test_checks_are_made_of_the_commented_values() -> None:
    code = _with_checks('x = 1\nx  # 1\nf(x)\n# 2\nwith a() as b:  # NAME\n    b  # "v"')
    assert code.splitlines() == [
        "x = 1",
        "assert (x) == (1)",
        "assert (f(x)) == (2)",
        "with a() as b:  # NAME",
        '    assert (b) == ("v")',
    ]


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    # Long-running objects finish at their first poll: the examples' own clients wait.
    with SandboxServer(run_polls=1, upload_polls=1, export_polls=1, operation_polls=1) as server:
        yield server


def _fast() -> PollPolicy:
    return PollPolicy(interval=0.01, max_interval=0.05)


@pytest.fixture
def env(server: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("TOLOKA_API_KEY", server.api_key)
    monkeypatch.setenv("TOLOKA_BASE_URL", server.v2_base_url)
    monkeypatch.setenv("TOLOKA_V1_BASE_URL", server.v1_base_url)
    monkeypatch.delenv("TOLOKA_OAUTH_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    for name in ("rows.jsonl", "new_rows.jsonl"):
        Path(name).write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    with Toloka(poll_policy=_fast()) as fast:
        return _objects(fast)


def _objects(fast: Toloka) -> dict[str, Any]:
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
        "dataset": dataset,
        "copy": copy,
        "run": run,
        "run_id": run.id,
        "export": export,
        "rows": ROWS,
        "tasks": [Task("pool-1", {"url": r["url"]}, overlap=1) for r in ROWS],
        "ids": {"ds-1": dataset.id, "prj-1": "prj-1"},
    }


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_runs_as_written(name: str, env: dict[str, Any]) -> None:
    code = _with_checks(EXAMPLES[name])
    for placeholder, real in env["ids"].items():
        code = code.replace(f'"{placeholder}"', f'"{real}"')
    namespace: dict[str, Any] = {
        **vars(toloka_ext),
        "Journal": Journal,
        "prepare_rows": prepare_rows,
        "infer_fields": infer_fields,
    }
    given = ("rows", "run", "run_id", "export", "copy", "dataset", "tasks")
    for key in given:
        namespace[key] = env[key]
    if "await " in code or "async " in code:
        # As at module level: the given names are the example's globals (`run = ...run.id`).
        body = f"global {', '.join(given)}\n{code}"
        source = "async def __example():\n" + textwrap.indent(body, "    ")
        exec(compile(source, name, "exec"), namespace)

        async def main() -> None:
            async with AsyncToloka(poll_policy=_fast()) as client:
                namespace["client"] = client
                await namespace["__example"]()

        asyncio.run(main())
    else:
        with Toloka(poll_policy=_fast()) as client:
            namespace["client"] = client
            exec(compile(code, name, "exec"), namespace)
