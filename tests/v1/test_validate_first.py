"""Bad input late in a generator: the error says what was already created, and
``validate_first=True`` checks every task before the first request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest

from toloka_ext import InvalidInputError
from toloka_ext.testing import Sandbox

BAD = 7012


def _task(i: int) -> dict[str, Any]:
    return {"pool_id": "pool-1", "input_values": {"n": i}, "overlap": 0 if i == BAD else 1}


def _tasks(n: int = 8000) -> Iterator[dict[str, Any]]:
    return (_task(i) for i in range(n))


async def _atasks(n: int = 8000) -> AsyncIterator[dict[str, Any]]:
    for i in range(n):
        yield _task(i)


@pytest.mark.parametrize("async_mode", [False, True])
def test_the_error_says_how_many_were_created_and_where(async_mode: bool) -> None:
    sandbox = Sandbox(operation_polls=1)
    with sandbox.client() as client, pytest.raises(InvalidInputError) as info:
        client.tasks.create_tasks(_tasks(), async_mode=async_mode)
    err = info.value
    assert (err.position, err.field) == (BAD, "overlap")
    assert "5000 task(s) before it were already created" in str(err)
    assert "partial_result" in str(err) and "validate_first=True" in str(err)
    assert sorted(err.partial_result.task_ids) == list(range(5000))
    assert len(sandbox.tasks()) == 5000


def test_a_bad_first_chunk_says_nothing_was_created() -> None:
    sandbox = Sandbox()
    with sandbox.client() as client, pytest.raises(InvalidInputError) as info:
        client.tasks.create_tasks(_tasks(BAD + 1), chunk_size=10_000 // 2 * 2)
    assert "already created" not in str(info.value)
    assert sandbox.tasks() == []


@pytest.mark.parametrize("async_mode", [False, True])
def test_validate_first_sends_nothing_unless_every_task_is_valid(async_mode: bool) -> None:
    sandbox = Sandbox(record_requests=True, operation_polls=1)
    with sandbox.client() as client:
        with pytest.raises(InvalidInputError) as info:
            client.tasks.create_tasks(_tasks(), async_mode=async_mode, validate_first=True)
        assert info.value.position == BAD and "already created" not in str(info.value)
        assert sandbox.requests_for("createTasks") == []
        good = (t for t in _tasks() if t["input_values"]["n"] != BAD)
        result = client.tasks.create_tasks(good, async_mode=async_mode, validate_first=True)
    assert result.ok and len(result.task_ids) == 7999
    assert len(sandbox.tasks()) == 7999


def test_validate_first_reads_an_async_iterable_too() -> None:
    sandbox = Sandbox(record_requests=True)

    async def go() -> None:
        async with sandbox.async_client() as client:
            with pytest.raises(InvalidInputError):
                await client.tasks.create_tasks(_atasks(), validate_first=True)
            assert sandbox.requests_for("createTasks") == []
            with pytest.raises(InvalidInputError, match="already created"):
                await client.tasks.create_tasks(_atasks())

    anyio.run(go)
    assert len(sandbox.tasks()) == 5000
