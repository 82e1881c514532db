"""The usage examples of the v1 entry points run as written, against ``mock_toloka``: the
clients are built from the environment, as in the examples, and their requests to
``toloka.dev`` / ``platform.toloka.ai`` are answered by an in-process sandbox."""

from __future__ import annotations

import inspect
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import toloka_ext as tx
from toloka_ext._async._tasks import AsyncTasks
from toloka_ext._sync._tasks import Tasks
from toloka_ext.testing import Sandbox, mock_toloka


def _example(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    _, found, rest = doc.partition("Example::\n")
    assert found, f"{obj!r} has no Example:: block"
    lines = []
    for line in rest.splitlines():
        if line and not line.startswith(" "):
            break
        lines.append(line)
    code = textwrap.dedent("\n".join(lines)).strip()
    assert code, f"{obj!r} has an empty Example:: block"
    return code


def _in_async_def(code: str, result: str) -> str:
    return f"async def main():\n{textwrap.indent(code, '    ')}\n    return {result}"


URLS = [f"https://example.com/{i}.png" for i in range(7)]
ROWS = [{"url": f"https://x/{i}.jpg"} for i in range(3)]


@pytest.fixture
def user_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Sandbox]:
    """A user's environment: an API key, the default URLs, files in the working directory."""
    for name in ("TOLOKA_OAUTH_TOKEN", "TOLOKA_BASE_URL", "TOLOKA_V1_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    Path("rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    # Everything finishes on its first poll, so the examples' default polling never waits.
    polls = {"operation_polls": 1, "upload_polls": 1, "run_polls": 1, "export_polls": 1}
    with mock_toloka(record_requests=True, **polls) as sandbox:
        sandbox.add_pool("1234")
        monkeypatch.setenv("TOLOKA_API_KEY", sandbox.api_key)
        yield sandbox


def _tasks(pool_id: str = "pool-1") -> list[tx.Task]:
    return [tx.Task(pool_id, {"url": u}, overlap=3) for u in URLS]


def test_create_tasks_example(user_env: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code = _example(Tasks.create_tasks)
    assert "client.tasks.create_tasks(" in code
    with tx.Toloka() as client:
        exec(code, {"client": client, "Task": tx.Task, "pool_id": "pool-1", "urls": URLS})  # noqa: S102
    assert capsys.readouterr().out.strip() == "7 {} []"
    assert [t["input_values"]["url"] for t in user_env.tasks("pool-1")] == URLS
    assert user_env.pool("pool-1")["status"] == "OPEN"  # open_pool=True
    assert all(r.params["async_mode"] == "true" for r in user_env.requests_for("createTasks"))


def test_async_create_tasks_example(user_env: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code = _example(AsyncTasks.create_tasks)
    assert "await client.tasks.create_tasks(" in code

    async def main() -> Any:
        async with tx.AsyncToloka() as client:
            namespace = {"client": client, "Task": tx.Task, "pool_id": "pool-1", "urls": URLS}
            exec(_in_async_def(code, "result"), namespace)  # noqa: S102
            return await namespace["main"]()

    result = anyio.run(main)
    assert capsys.readouterr().out.strip() == "7 {} []"
    assert result.ok and len(result.task_ids) == 7
    assert sorted(result.task_ids.values()) == sorted(t["id"] for t in user_env.tasks("pool-1"))
    assert user_env.pool("pool-1")["status"] == "OPEN"


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_create_task_example(user_env: Sandbox, kind: str) -> None:
    u = URLS[0]
    if kind == "sync":
        code = _example(Tasks.create_task)
        with tx.Toloka() as client:
            namespace = {"client": client, "Task": tx.Task, "u": u}
            exec(code, namespace)  # noqa: S102
        created = namespace["task"]
    else:
        code = _example(AsyncTasks.create_task)

        async def main() -> Any:
            async with tx.AsyncToloka() as client:
                namespace = {"client": client, "Task": tx.Task, "u": u}
                exec(_in_async_def(code, "task"), namespace)  # noqa: S102
                return await namespace["main"]()

        created = anyio.run(main)
    (stored,) = user_env.tasks("1234")
    assert created.id == stored["id"] and created.input_values == {"url": u}
    assert stored["overlap"] == 3


def test_client_example(user_env: Sandbox) -> None:
    code = _example(tx.Toloka)
    namespace: dict[str, Any] = {"tasks": _tasks()}
    exec(code, namespace)  # noqa: S102
    assert namespace["created"].ok and len(namespace["created"].task_ids) == 7
    assert len(user_env.tasks("pool-1")) == 7
    assert len(namespace["result"].rows()) == len(ROWS)
    assert Path("b7.journal").exists()


def test_async_client_example(user_env: Sandbox) -> None:
    code = _example(tx.AsyncToloka)
    namespace: dict[str, Any] = {"tasks": _tasks()}
    exec(_in_async_def(code, "result, created"), namespace)  # noqa: S102
    result, created = anyio.run(namespace["main"])
    assert created.ok and len(created.task_ids) == 7
    assert len(user_env.tasks("pool-1")) == 7
    assert len(result.rows()) == len(ROWS)


def test_task_example() -> None:
    task = eval(_example(tx.Task), {"Task": tx.Task})  # noqa: S307
    assert task.to_dict() == {
        "pool_id": "1234",
        "input_values": {"image": "https://example.com/1.png"},
        "overlap": 3,
    }
