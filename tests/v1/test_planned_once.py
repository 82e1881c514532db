"""A list given to ``create_tasks`` is checked before the first request and then sent as
checked: each task is read and encoded once, not once to check and again to send (the
requests planned while checking are kept, up to ``KEPT_PLAN_BYTES``; past that they are
planned again while sending, which costs CPU instead of memory). Either way the requests
are the same, byte for byte, with the same operation ids."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from toloka_ext import Toloka
from toloka_ext._v1 import _logic
from toloka_ext.testing import Sandbox

from .conftest import POOL, task

CALL_ID = uuid.UUID("7e6d3c52-8f0a-4b9e-9a57-0c2f4d1e6b7a")


class Counted(Mapping[str, Any]):
    """A task that counts how often ``create_tasks`` reads it."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.reads = 0

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        self.reads += 1
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


@pytest.mark.parametrize("async_mode", [False, True])
def test_each_task_of_a_list_is_read_once(
    client: Toloka, sandbox: Sandbox, async_mode: bool
) -> None:
    tasks = [Counted(task(i)) for i in range(7)]
    result = client.tasks.create_tasks(tasks, chunk_size=3, async_mode=async_mode)
    assert sorted(result.task_ids) == list(range(7))
    assert [t.reads for t in tasks] == [1] * 7


@pytest.mark.parametrize("async_mode", [False, True])
def test_a_list_over_the_memory_budget_sends_the_same_requests(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, async_mode: bool
) -> None:
    def run(budget: int) -> tuple[list[bytes], list[str], list[int]]:
        monkeypatch.setattr(_logic, "KEPT_PLAN_BYTES", budget)
        tasks = [Counted(task(i)) for i in range(7)]
        before = len(sandbox.requests_for("createTasks"))
        with sandbox.client() as client:
            client.tasks.create_tasks(
                tasks,
                chunk_size=3,
                async_mode=async_mode,
                operation_id=CALL_ID if async_mode else None,
                open_pool=True,
            )
        sent = sandbox.requests_for("createTasks")[before:]
        return (
            [r.body for r in sent],
            [f"{r.params.get('operation_id')} {r.params.get('open_pool')}" for r in sent],
            [t.reads for t in tasks],
        )

    kept_bodies, kept_params, kept_reads = run(64 * 1024 * 1024)
    sandbox.reset()
    sandbox.add_pool(POOL, input_spec={"n": "integer"}, default_overlap=2)
    replanned_bodies, replanned_params, replanned_reads = run(0)
    assert len(kept_bodies) == 3
    assert replanned_bodies == kept_bodies and replanned_params == kept_params
    assert kept_reads == [1] * 7 and replanned_reads == [2] * 7


@pytest.mark.parametrize(("count", "last"), [(6, 2), (7, 3), (3, 1), (1, 1)])
@pytest.mark.parametrize("async_mode", [False, True])
def test_the_pool_opens_with_the_last_request_of_a_list(
    client: Toloka, sandbox: Sandbox, count: int, last: int, async_mode: bool
) -> None:
    """Whether the list fills its last chunk exactly or not, ``open_pool`` rides on the
    last request only."""
    client.tasks.create_tasks(
        [task(i) for i in range(count)], chunk_size=3, async_mode=async_mode, open_pool=True
    )
    opened = [r.params.get("open_pool") for r in sandbox.requests_for("createTasks")]
    assert opened == [None] * (last - 1) + ["true"]


def test_the_budget_counts_every_request_kept(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """7 small tasks in requests of 3 weigh about 2 KiB kept (bodies plus their dicts):
    each request fits in 1,500 bytes, all of them do not, so the list is planned again."""
    monkeypatch.setattr(_logic, "KEPT_PLAN_BYTES", 1_500)
    tasks = [Counted(task(i)) for i in range(7)]
    with sandbox.client() as client:
        assert len(client.tasks.create_tasks(tasks, chunk_size=3).task_ids) == 7
    assert [t.reads for t in tasks] == [2] * 7
    monkeypatch.setattr(_logic, "KEPT_PLAN_BYTES", 4_000)
    tasks = [Counted(task(i)) for i in range(7, 14)]
    with sandbox.client() as client:
        assert len(client.tasks.create_tasks(tasks, chunk_size=3).task_ids) == 7
    assert [t.reads for t in tasks] == [1] * 7
