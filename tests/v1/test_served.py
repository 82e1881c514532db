"""Lost answers over real HTTP: the sandbox served as a process (``SandboxServer``), the fault
passed in its ``faults=``. The server keeps its state in SQLite, read back after it stopped,
to count what it really created."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio

from toloka_ext import AsyncToloka
from toloka_ext.testing import Fault, FaultConfig, Sandbox, SandboxServer

from .conftest import FAST_POLL, POOL, Answers, task


def _server(db: Path, fault: Fault) -> SandboxServer:
    return SandboxServer(
        db_path=db,
        faults=FaultConfig(faults=[fault]),
        v1_pools={POOL: {"input_spec": {"n": "integer"}}},
        operation_polls=1,
    )


def _created(db: Path) -> tuple[list[dict[str, Any]], Any]:
    with Sandbox(db_path=db) as sandbox:
        return sandbox.tasks(), sandbox.counters


def test_sync_mode_lost_answer_is_settled_and_created_once(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    # The second chunk is applied, then the server drops the connection.
    with (
        _server(db, Fault("reset_after", route="createTasks", on_nth=(2,))) as server,
        server.client(poll_policy=FAST_POLL) as client,
    ):
        result = client.tasks.create_tasks((task(i) for i in range(30)), chunk_size=10)
        unsettled = client.tasks.create_tasks(
            (task(i) for i in range(30, 40)),
            chunk_size=10,
            resolve_unknown=False,
            raise_on_unknown=False,
        )
    assert result.ok and sorted(result.task_ids) == list(range(30))  # read back from the pool
    tasks, counters = _created(db)
    assert sorted(t["input_values"]["n"] for t in tasks) == list(range(40))  # each once
    assert counters.received["createTasks"] == 4  # the lost chunk was not re-sent
    assert counters.applied["createTasks"] == 4
    assert {t["id"] for t in tasks} >= set(result.task_ids.values())
    assert unsettled.unknown == [] and unsettled.ok  # nothing was lost the second time


def test_async_mode_lost_answer_is_recovered_from_the_409(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    answers = Answers()

    async def go(server: SandboxServer) -> Any:
        async with (
            answers.async_http_client() as http,
            server.async_client(http_client=http, poll_policy=FAST_POLL) as client,
        ):
            assert isinstance(client, AsyncToloka)
            return await client.tasks.create_tasks([task(i) for i in range(5)], async_mode=True)

    with _server(db, Fault("reset_after", route="createTasks", on_nth=(1,))) as server:
        result = anyio.run(go, server)
    assert result.ok and sorted(result.task_ids) == list(range(5))
    # The first answer was lost; the retry, with the same operation_id, got the conflict.
    assert answers.statuses("POST", "/tasks") == [(409, "OPERATION_ALREADY_EXISTS")]
    assert answers.statuses("GET", f"/operations/{result.operations[0].id}")[0] == (200, None)
    tasks, counters = _created(db)
    assert sorted(t["input_values"]["n"] for t in tasks) == list(range(5))  # each once
    assert sorted(t["id"] for t in tasks) == sorted(result.task_ids.values())
    assert counters.received["createTasks"] == 2
    assert counters.applied["createTasks"] == 1
