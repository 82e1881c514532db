"""What ``import toloka_ext`` and a v1-only script load (issue 21: import ≤ 2× httpx).

Not a timed test: each check runs a fresh interpreter and asserts which modules are *not*
loaded, so a change that pulls the v2 layer, the generated client or an optional
dependency back into the import fails here on any machine; ``make bench`` reports the time
ratio itself. Optional dependencies are blocked outright in the child (an import of them
raises and is recorded), since httpx would load some of them anyway where they are
installed.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import httpx
import pytest

import toloka_ext
import toloka_ext.types

ROOT = Path(__file__).resolve().parent.parent

# Never imported by the package unless asked for (rich: progress=True; pandas: a frame).
BLOCKED = ("rich", "click", "pygments", "typer", "pandas", "yaml", "toloka_pipeline_api")

# The Pipeline API layer a v1 user never needs.
V2_RESOURCES = ("_datasets", "_exports", "_pipelines", "_projects", "_resource", "_runs")
V2_RESOURCES += ("_uploads", "_workflows")
V2_LAYER = (
    "toloka_ext._v2._adapter",
    "toloka_ext._v2._journal",
    *(f"toloka_ext.{side}.{m}" for side in ("_sync", "_async") for m in V2_RESOURCES),
)

PRELUDE = """
import importlib.abc, json, sys

BLOCKED = {blocked!r}
attempts = []

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            attempts.append(name)
            raise ImportError(f"blocked in this test: {{name}}")
        return None

sys.meta_path.insert(0, Block())
import httpx  # its own optional CLI imports are blocked too, and it copes
attempts.clear()
"""

EPILOGUE = """
print(json.dumps({"modules": sorted(sys.modules), "attempts": attempts}))
"""

V1_TRANSPORT = """
import httpx

def handler(request):
    if request.method == "GET":  # the newest task of the pool, read before the first create
        return httpx.Response(200, json={"items": [], "has_more": False})
    tasks = json.loads(request.content)
    items = {str(i): {**t, "id": f"t{i}"} for i, t in enumerate(tasks)}
    return httpx.Response(201, json={"items": items})

OPTIONS = dict(api_key="k", v1_base_url="https://toloka.test/api/v1", tasks_per_minute=None)
TASKS = [{"pool_id": "p1", "input_values": {"n": i}, "overlap": 1} for i in range(3)]
"""


def run(code: str, blocked: tuple[str, ...] = BLOCKED) -> tuple[set[str], list[str]]:
    script = PRELUDE.format(blocked=blocked) + textwrap.dedent(code) + EPILOGUE
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return set(out["modules"]), out["attempts"]


def loaded(modules: set[str], *prefixes: str) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def test_import_toloka_ext_loads_no_client_and_no_v2_layer() -> None:
    modules, attempts = run("import toloka_ext")
    assert attempts == []
    assert "toloka_ext" in modules and "toloka_ext._exceptions" in modules  # not vacuous
    assert loaded(modules, "toloka_ext._sync", "toloka_ext._async", "toloka_ext._v1") == []
    assert loaded(modules, "toloka_ext.types", "toloka_ext.testing", "toloka_ext._cli") == []
    assert loaded(modules, *V2_LAYER, "toloka_ext._v2._workflow", "toloka_ext._v2._rows") == []


def test_a_v1_script_loads_no_v2_layer_and_no_optional_dependency() -> None:
    modules, attempts = run(
        V1_TRANSPORT
        + """
from toloka_ext import Task, Toloka
with Toloka(**OPTIONS, transport=httpx.MockTransport(handler)) as client:
    result = client.tasks.create_tasks(TASKS)
    assert sorted(result.task_ids) == [0, 1, 2], result
    client.operations
assert Task("p1", {"n": 1}, overlap=1).pool_id == "p1"
"""
    )
    assert attempts == []
    assert "toloka_ext._sync._tasks" in modules  # the v1 path ran
    assert loaded(modules, *V2_LAYER) == []
    assert loaded(modules, "toloka_ext.testing", "toloka_ext._cli", "sqlite3") == []


def test_the_async_client_too() -> None:
    modules, attempts = run(
        V1_TRANSPORT
        + """
import asyncio
from toloka_ext import AsyncToloka

async def main():
    async with AsyncToloka(**OPTIONS, transport=httpx.MockTransport(handler)) as client:
        return await client.tasks.create_tasks(TASKS)

assert len(asyncio.run(main()).task_ids) == 3
"""
    )
    assert attempts == []
    assert "toloka_ext._async._tasks" in modules
    assert loaded(modules, *V2_LAYER) == []


def test_the_v2_layer_loads_when_used() -> None:
    """Not vacuous: the same child sees the v2 side arrive on first use."""
    modules, attempts = run(
        """
from toloka_ext import Toloka
from toloka_ext.types import Run
with Toloka(api_key="k") as client:
    client.datasets, client.exports, client.runs
""",
        blocked=tuple(b for b in BLOCKED if b != "toloka_pipeline_api"),
    )
    assert attempts == []
    assert "toloka_ext._v2._adapter" in modules
    assert "toloka_pipeline_api" in modules
    assert "toloka_ext._sync._datasets" in modules and "toloka_ext.types" in modules


# -- the lazy names ----------------------------------------------------------------------------


def _type_checking_imports(module: ModuleType) -> dict[str, str]:
    """name -> absolute module, from the ``if typing.TYPE_CHECKING:`` block of ``module``."""
    path = Path(module.__file__)
    package = module.__name__
    names: dict[str, str] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if not (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)):
            continue
        for stmt in node.body:
            assert isinstance(stmt, ast.ImportFrom)
            base = package.split(".")[: len(package.split(".")) - (stmt.level - 1)]
            source = ".".join([*base, *([stmt.module] if stmt.module else [])])
            for alias in stmt.names:
                names[alias.asname or alias.name] = source
    return names


@pytest.mark.parametrize("module", [toloka_ext, toloka_ext.types], ids=lambda m: m.__name__)
def test_what_mypy_sees_is_what_is_loaded(module: ModuleType) -> None:
    """The names imported for type checkers and the names loaded on first use are the
    same names from the same modules, and with the eager ones they are ``__all__``."""
    static = _type_checking_imports(module)
    lazy: dict[str, str] = {}
    for key, value in module._LAZY.items():
        if isinstance(value, tuple):  # toloka_ext.types: module -> its names
            lazy.update(dict.fromkeys(value, key))
        else:  # toloka_ext: name -> relative module
            lazy[key] = f"toloka_ext{value}"
    static.pop("types", None)  # the subpackage, loaded by import, not by _LAZY
    assert static == lazy
    eager = {n for n in module.__all__ if n not in lazy}
    if module is toloka_ext.types:
        assert eager == set()
    else:  # the errors only, loaded with the package
        assert eager and all(issubclass(getattr(module, n), toloka_ext.TolokaError) for n in eager)
    for name in module.__all__:
        value = getattr(module, name)
        assert value is vars(sys.modules[lazy.get(name, "toloka_ext._exceptions")])[name]
    assert set(module.__all__) <= set(dir(module))


def test_unknown_names_still_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        toloka_ext.Nope  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        toloka_ext.types.Nope  # noqa: B018
    assert not hasattr(toloka_ext, "PipelineClient")


def test_star_import_gives_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from toloka_ext import *", namespace)
    assert set(toloka_ext.__all__) <= set(namespace)


# -- what a client builds ------------------------------------------------------------------------


def test_the_storage_client_is_made_by_the_first_storage_request_only() -> None:
    """Presigned storage needs its own httpx client (an SSL context: tens of ms); a client
    that only creates tasks never makes it, a copy shares it, closing makes none."""
    from toloka_ext import Toloka
    from toloka_ext._sync._core import LazyClient

    def ok(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"stored")

    client = Toloka(api_key="k", transport=httpx.MockTransport(ok))
    holder = client._core._storage
    assert isinstance(holder, LazyClient) and holder._client is None
    copy = client.with_options(max_retries=0)
    response = copy._core.storage("GET", "https://storage.test/x?sig=1")
    assert response.read() == b"stored"
    assert holder._client is not None and copy._core.storage_http is client._core.storage_http
    client.close()
    assert holder._client.is_closed

    unused = Toloka(api_key="k", transport=httpx.MockTransport(ok))
    unused.close()
    assert unused._core._storage._client is None
    with pytest.raises(RuntimeError, match="closed"):
        unused._core.storage("GET", "https://storage.test/x?sig=1")


def test_a_storage_client_passed_in_is_used_and_not_closed() -> None:
    from toloka_ext import Toloka

    with httpx.Client() as storage:
        with Toloka(api_key="k", storage_client=storage) as client:
            assert client._core.storage_http is storage
        assert not storage.is_closed
