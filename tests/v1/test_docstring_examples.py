"""The usage examples in the v1 docstrings run as written (against a mocked Toloka)."""

from __future__ import annotations

import inspect
import textwrap
from typing import Any

import anyio
import pytest

import toloka_ext as tx
from toloka_ext.testing import mock_toloka


def _example(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    _, found, rest = doc.partition("Example::\n")
    assert found, f"{obj!r} has no Example:: block"
    lines = []
    for line in rest.splitlines():
        if line and not line.startswith(" "):
            break
        lines.append(line)
    return textwrap.dedent("\n".join(lines))


@pytest.fixture
def user_env(monkeypatch: pytest.MonkeyPatch) -> Any:
    with mock_toloka(operation_polls=1) as sandbox:
        monkeypatch.delenv("TOLOKA_API_KEY", raising=False)
        monkeypatch.setenv("TOLOKA_OAUTH_TOKEN", sandbox.oauth_token)
        yield sandbox


URLS = [f"https://example.com/{i}.png" for i in range(7)]


def test_tasks_client_example(user_env: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code = _example(tx.TasksClient)
    exec(code, {"pool_id": "pool-1", "urls": URLS})  # noqa: S102
    assert capsys.readouterr().out.strip() == "7 {} []"
    assert len(user_env.tasks("pool-1")) == 7
    assert user_env.pool("pool-1")["status"] == "OPEN"  # open_pool=True


def test_async_tasks_client_example(user_env: Any) -> None:
    code = _example(tx.AsyncTasksClient)
    tasks = [tx.Task("pool-1", {"url": u}, overlap=3) for u in URLS]
    namespace: dict[str, Any] = {"AsyncTasksClient": tx.AsyncTasksClient, "tasks": tasks}
    wrapped = f"async def main():\n{textwrap.indent(code, '    ')}\n    return result"
    exec(wrapped, namespace)  # noqa: S102
    result = anyio.run(namespace["main"])
    assert result.ok and len(result.task_ids) == 7


def test_task_example() -> None:
    task = eval(_example(tx.Task), {"Task": tx.Task})  # noqa: S307
    assert task.to_dict() == {
        "pool_id": "1234",
        "input_values": {"image": "https://example.com/1.png"},
        "overlap": 3,
    }
