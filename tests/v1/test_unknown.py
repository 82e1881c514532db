"""No unknown left behind: lost answers are settled by reading the pool back."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import toloka_ext as tx
from toloka_ext.testing import Fault, FaultConfig, Sandbox

POOL = "pool-1"


def _task(i: int, **extra: Any) -> dict[str, Any]:
    return {"pool_id": POOL, "input_values": {"n": i}, "overlap": 1, **extra}


def _sandbox(*faults: Fault) -> Sandbox:
    return Sandbox(record_requests=True, operation_polls=1, faults=FaultConfig(faults=faults))


def _by_content(sandbox: Sandbox) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for t in sandbox.tasks(POOL):
        out.setdefault(t["input_values"]["n"], []).append(t["id"])
    return out


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_lost_answer_after_apply_is_settled_created(flavour: str) -> None:
    sandbox = _sandbox(Fault("reset_after", route="createTasks", on_nth=(2,)))
    tasks = [_task(i) for i in range(30)]
    if flavour == "sync":
        with sandbox.client() as client:
            result = client.tasks.create_tasks(tasks, chunk_size=10)
    else:

        async def go() -> tx.types.TaskCreateResult:
            async with sandbox.async_client() as client:
                return await client.tasks.create_tasks(tasks, chunk_size=10)

        result = anyio.run(go)
    assert result.ok and result.unknown == []
    assert {p: [i] for p, i in result.task_ids.items()} == _by_content(sandbox)
    assert result.created[12].id == result.task_ids[12]
    assert sandbox.counters.applied["createTasks"] == 3  # never re-sent


def test_a_lost_request_before_apply_is_settled_not_created() -> None:
    sandbox = _sandbox(Fault("reset_before", route="createTasks", on_nth=(2,)))
    with sandbox.client(max_retries=0) as client:
        result = client.tasks.create_tasks([_task(i) for i in range(30)], chunk_size=10)
    assert result.unknown == []
    assert sorted(result.task_ids) == list(range(10)) + list(range(20, 30))
    assert set(result.errors) == set(range(10, 20))
    assert {e[""].code for e in result.errors.values()} == {"NOT_CREATED"}
    assert "resend_missing=True" in result.errors[10][""].message
    assert len(sandbox.tasks(POOL)) == 20  # nothing re-sent unasked


def test_resend_missing_sends_them_once_more_and_settles_again() -> None:
    sandbox = _sandbox(
        Fault("reset_before", route="createTasks", on_nth=(2,)),
        Fault("reset_after", route="createTasks", on_nth=(4,)),  # the resend lost, applied
    )
    with sandbox.client(max_retries=0) as client:
        result = client.tasks.create_tasks(
            [_task(i) for i in range(30)], chunk_size=10, resend_missing=True
        )
    assert result.ok and result.errors == {} and result.unknown == []
    assert {p: [i] for p, i in result.task_ids.items()} == _by_content(sandbox)
    assert sandbox.counters.applied["createTasks"] == 3  # chunks 0 and 2, then the resend


def test_duplicate_contents_in_one_batch_stay_unknown_and_raise() -> None:
    sandbox = _sandbox(Fault("reset_after", route="createTasks", on_nth=(1,)))
    same = [_task(7), _task(7), _task(8)]
    with sandbox.client() as client:
        with pytest.raises(tx.OutcomeUnknownError) as info:
            client.tasks.create_tasks(same)
        result = info.value.partial_result
        assert result.unknown == [range(2)]  # which id is whose cannot be told
        assert result.task_ids == {2: _by_content(sandbox)[8][0]}  # a unique one is settled
        assert "raise_on_unknown=False" in str(info.value)
        quiet = client.tasks.create_tasks(
            [_task(9), _task(9)], raise_on_unknown=False, resolve_unknown=False
        )
    assert quiet.ok  # nothing lost: nothing to settle


def test_a_concurrent_writer_of_the_same_content_leaves_it_unknown() -> None:
    sandbox = _sandbox(Fault("reset_after", route="createTasks", on_nth=(1,)))

    def writer(op: str, body: Any) -> Any:
        # Another client adds the same task to the pool while our answer is in flight.
        if op == "createTasks" and sandbox.counters.received["createTasks"] == 1:
            with sandbox.http_client() as http:
                http.post(
                    f"{sandbox.v1_base_url}/tasks",
                    headers=sandbox.auth_headers("v1"),
                    json=_task(0),
                )
        return body

    with sandbox.client() as client, pytest.raises(tx.OutcomeUnknownError) as info:
        sandbox.rewrite = writer
        client.tasks.create_tasks([_task(0), _task(1)])
    result = info.value.partial_result
    assert result.unknown == [range(1)]  # two tasks hold position 0's content
    assert result.task_ids == {1: _by_content(sandbox)[1][0]}
    assert len(_by_content(sandbox)[0]) == 2


def test_an_unreadable_pool_leaves_it_unknown() -> None:
    sandbox = _sandbox(
        Fault("reset_after", route="createTasks", on_nth=(1,)),
        Fault("status", status=403, route="listTasks", rate=1.0),
    )
    with sandbox.client(max_retries=0) as client, pytest.raises(tx.OutcomeUnknownError):
        client.tasks.create_tasks([_task(i) for i in range(3)])
    assert len(sandbox.tasks(POOL)) == 3


def test_settling_looks_only_above_the_pools_floor() -> None:
    """Tasks that were in the pool before the call are never taken for ours."""
    sandbox = _sandbox()
    with sandbox.client(max_retries=0) as client:
        client.tasks.create_tasks([_task(5)])  # an older task of the same content
        sandbox.faults = FaultConfig(
            faults=[Fault("reset_before", route="createTasks", on_nth=(1,))]
        )
        result = client.tasks.create_tasks([_task(5)])
    assert result.errors[0][""].code == "NOT_CREATED"  # the old task was not mistaken for it
    assert len(_by_content(sandbox)[5]) == 1
    floor_reads = [r for r in sandbox.requests_for("listTasks") if r.params.get("sort") == "-id"]
    assert len(floor_reads) == 2 and all(r.params["limit"] == "1" for r in floor_reads)


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_async_mode_positions_the_log_forgot_are_settled_too(flavour: str) -> None:
    def forgetful(op: str, body: Any) -> Any:
        if op == "getOperationLog":
            return body[:-2]  # the last two tasks are missing from the log
        return body

    sandbox = _sandbox()
    sandbox.rewrite = forgetful
    tasks = [_task(i) for i in range(5)]
    if flavour == "sync":
        with sandbox.client() as client:
            result = client.tasks.create_tasks(tasks, async_mode=True)
    else:

        async def go() -> tx.types.TaskCreateResult:
            async with sandbox.async_client() as client:
                return await client.tasks.create_tasks(tasks, async_mode=True)

        result = anyio.run(go)
    assert result.ok and result.unknown == []
    assert {p: [i] for p, i in result.task_ids.items()} == _by_content(sandbox)
