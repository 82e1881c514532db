"""The whole v1 task resource: list (keyset pages), get, update, set-overlap-or-min, the list
of operations; the request limits of a create; what the log holds besides tasks."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import anyio
import pytest

import toloka_ext as tx
from toloka_ext.testing import Sandbox
from toloka_ext.types import KnownSolution

POOL = "pool-1"


def _task(i: int, **extra: Any) -> dict[str, Any]:
    return {"pool_id": POOL, "input_values": {"n": i}, "overlap": 1 + i % 3, **extra}


@pytest.fixture
def sandbox() -> Sandbox:
    sandbox = Sandbox(record_requests=True, operation_polls=1)
    sandbox.add_pool("pool-2")
    return sandbox


def _fill(sandbox: Sandbox, n: int, pool: str = POOL) -> list[str]:
    with sandbox.client() as client:
        result = client.tasks.create_tasks([{**_task(i), "pool_id": pool} for i in range(n)])
    return [result.task_ids[i] for i in range(n)]


def test_list_pages_by_id_and_never_loads_everything(sandbox: Sandbox) -> None:
    ids = _fill(sandbox, 23)
    _fill(sandbox, 4, pool="pool-2")
    sandbox.requests.clear()
    with sandbox.client() as client:
        listed = client.tasks.list(pool_id=POOL, limit=5)
        assert sandbox.requests == []  # lazy: nothing fetched yet
        got = [t.id for t in listed]
    assert got == sorted(ids)
    pages = sandbox.requests_for("listTasks")
    assert len(pages) == 5
    assert [p.params.get("id_gt") for p in pages] == [None, *got[4:20:5]]
    assert all(p.params["sort"] == "id" and "offset" not in p.params for p in pages)


def test_list_newest_first_pages_down(sandbox: Sandbox) -> None:
    ids = _fill(sandbox, 7)
    with sandbox.client() as client:
        got = [t.id for t in client.tasks.list(pool_id=POOL, sort="-id", limit=3)]
    assert got == sorted(ids, reverse=True)
    pages = sandbox.requests_for("listTasks")[-3:]
    assert [p.params.get("id_lt") for p in pages] == [None, got[2], got[5]]


def test_list_filters_are_sent_and_applied(sandbox: Sandbox) -> None:
    ids = _fill(sandbox, 12)
    with sandbox.client() as client:
        three = [t.overlap for t in client.tasks.list(pool_id=POOL, overlap=3)]
        some = list(client.tasks.list(pool_id=POOL, overlap_gte=2, id_gt=ids[5], id_lte=ids[10]))
        since = datetime(2000, 1, 1, tzinfo=UTC)
        all_since = list(client.tasks.list(pool_id=POOL, created_gte=since))
        page = client.tasks.list(pool_id=POOL, limit=4).first_page()
    assert three == [3, 3, 3, 3]
    # ids 6..10 (the bounds), of overlap 2 or more (overlap is 1 + i % 3)
    assert [t.id for t in some] == [ids[i] for i in range(6, 11) if 1 + i % 3 >= 2]
    assert len(all_since) == 12 and len(page) == 4
    sent = sandbox.requests_for("listTasks")[-1].params
    assert sent["limit"] == "4" and sent["pool_id"] == POOL
    created = sandbox.requests_for("listTasks")[-2].params["created_gte"]
    assert created == "2000-01-01T00:00:00.000"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"pool_id": ""}, "pool_id"),
        ({"pool_id": POOL, "limit": 301}, "limit"),
        ({"pool_id": POOL, "limit": 0}, "limit"),
        ({"pool_id": POOL, "sort": "created"}, "sort"),
        ({"pool_id": POOL, "overlap": -1}, "overlap"),
        ({"pool_id": POOL, "created_gt": 5}, "created_gt"),
        ({"pool_id": POOL, "created_gt": "yesterday"}, "created_gt"),
        ({"pool_id": POOL, "created_lte": "2026-13-01T00:00:00"}, "created_lte"),
        ({"pool_id": POOL, "created_gte": ""}, "created_gte"),
    ],
)
def test_list_arguments_are_checked_before_any_request(
    sandbox: Sandbox, kwargs: dict[str, Any], field: str
) -> None:
    with sandbox.client() as client, pytest.raises(tx.InvalidInputError) as info:
        client.tasks.list(**kwargs)
    assert info.value.field == field
    assert sandbox.requests == []


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("2026-11-26T07:48:02.115000+00:00", "2026-11-26T07:48:02.115"),  # as this package prints
        ("2026-11-26T07:48:02Z", "2026-11-26T07:48:02.000"),
        ("2026-11-26T09:48:02.5+02:00", "2026-11-26T07:48:02.500"),  # another offset: to UTC
        ("2026-11-26T07:48:02", "2026-11-26T07:48:02.000"),  # v1's own form: UTC
        ("2026-11-26", "2026-11-26T00:00:00.000"),
        (datetime(2026, 11, 26, 7, 48, 2, 115000, tzinfo=UTC), "2026-11-26T07:48:02.115"),
    ],
)
def test_a_time_filter_is_sent_as_v1_writes_times(
    sandbox: Sandbox, given: str | datetime, sent: str
) -> None:
    with sandbox.client() as client:
        list(client.tasks.list(pool_id=POOL, created_gte=given))
        list(client.operations.list(finished_lt=given))
    assert sandbox.requests_for("listTasks")[0].params["created_gte"] == sent
    assert sandbox.requests_for("listOperations")[0].params["finished_lt"] == sent


def test_a_time_read_back_filters_what_it_was_read_from(sandbox: Sandbox) -> None:
    # The time of a task, printed as this package prints it, finds that very task again.
    (task_id,) = _fill(sandbox, 1)
    with sandbox.client() as client:
        created = client.tasks.get(task_id).created
        assert created is not None
        again = list(client.tasks.list(pool_id=POOL, created_gte=created.isoformat()))
        later = list(client.tasks.list(pool_id=POOL, created_gt=created.isoformat()))
    assert [t.id for t in again] == [task_id] and later == []


def test_get_update_and_set_overlap_or_min(sandbox: Sandbox) -> None:
    (task_id,) = _fill(sandbox, 1)
    with sandbox.client() as client:
        task = client.tasks.get(task_id)
        assert task.id == task_id and task.remaining_overlap == task.overlap == 1
        updated = client.tasks.update(
            task_id,
            overlap=5,
            known_solutions=[KnownSolution(output_values={"r": "OK"}, correctness_weight=0.5)],
            message_on_unknown_solution="look again",
            open_pool=True,
        )
        assert updated.overlap == 5 and updated.remaining_overlap == 5
        assert updated.known_solutions == [
            KnownSolution(output_values={"r": "OK"}, correctness_weight=0.5)
        ]
        assert sandbox.pool(POOL)["status"] == "OPEN"
        stopped = client.tasks.set_overlap_or_min(task_id, overlap=0)
        assert stopped.overlap == 0 and stopped.remaining_overlap == 0
        assert client.tasks.get(task_id).overlap == 0
        with pytest.raises(tx.NotFoundError):
            client.tasks.get("no-such-task")
    patch = sandbox.requests_for("patchTask")[0]
    assert patch.params == {"open_pool": "true"}
    assert set(patch.json()) == {"overlap", "known_solutions", "message_on_unknown_solution"}


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.tasks.update("t", overlap=0), "overlap"),
        (lambda c: c.tasks.update("t", overlap=30_001), "overlap"),
        (lambda c: c.tasks.update("t", infinite_overlap="yes"), "infinite_overlap"),
        (lambda c: c.tasks.update("t"), None),
        (lambda c: c.tasks.set_overlap_or_min("t", overlap=-1), "overlap"),
        (lambda c: c.tasks.set_overlap_or_min("t"), None),
        (lambda c: c.tasks.get(""), "task_id"),
        (lambda c: c.tasks.create_task(_task(0, overlap=30_001)), "overlap"),
    ],
)
def test_changes_are_checked_before_any_request(
    sandbox: Sandbox, call: Any, field: str | None
) -> None:
    with sandbox.client() as client, pytest.raises(tx.InvalidInputError) as info:
        call(client)
    assert info.value.field == field
    assert sandbox.requests == []


def test_operations_list_with_filters(sandbox: Sandbox) -> None:
    with sandbox.client() as client:
        done = client.tasks.create_tasks(
            [_task(i) for i in range(12)], async_mode=True, chunk_size=4
        )
        ops = list(client.operations.list(type="TASK.BATCH_CREATE", status="SUCCESS", limit=2))
        none = list(client.operations.list(status="FAIL"))
    assert [op.id for op in ops] == sorted(op.id for op in done.operations)
    assert none == []
    sent = sandbox.requests_for("listOperations")[0].params
    assert (sent["type"], sent["status"], sent["limit"]) == ("TASK.BATCH_CREATE", "SUCCESS", "2")


def test_async_client_lists_too(sandbox: Sandbox) -> None:
    ids = _fill(sandbox, 6)

    async def go() -> list[str]:
        async with sandbox.async_client() as client:
            first = await client.tasks.list(pool_id=POOL, limit=4).first_page()
            assert len(first) == 4
            return [t.id async for t in client.tasks.list(pool_id=POOL, limit=4) if t.id]

    assert anyio.run(go) == sorted(ids)


# ------------------------------------------------------------------ limits of one request


def test_a_chunk_over_the_input_byte_limit_is_cut_in_several_requests(sandbox: Sandbox) -> None:
    big = "x" * 300_000  # four of these are over 1 MiB of input_values
    tasks = [_task(i, input_values={"n": i, "text": big}) for i in range(7)]
    with sandbox.client() as client:
        result = client.tasks.create_tasks(tasks)
    assert result.ok and sorted(result.task_ids) == list(range(7))
    sizes = [len(r.json()) for r in sandbox.requests_for("createTasks")]
    assert sizes == [3, 3, 1] and sum(sizes) == 7


def test_known_solutions_over_their_byte_limit_are_cut_too(sandbox: Sandbox) -> None:
    answer = {"text": "y" * 1_500_000}  # three are over 4 MiB of output_values
    tasks = [
        _task(i, known_solutions=[{"output_values": answer}], infinite_overlap=True)
        for i in range(4)
    ]
    for t in tasks:
        t.pop("overlap")
    with sandbox.client() as client:
        result = client.tasks.create_tasks(tasks, async_mode=True)
    assert result.ok
    assert [len(r.json()) for r in sandbox.requests_for("createTasks")] == [2, 2]
    assert len({r.params["operation_id"] for r in sandbox.requests_for("createTasks")}) == 2


def test_one_task_over_a_request_limit_is_bad_input(sandbox: Sandbox) -> None:
    tasks = [_task(0), _task(1, input_values={"text": "z" * 1_100_000})]
    with sandbox.client() as client, pytest.raises(tx.InvalidInputError) as info:
        client.tasks.create_tasks(tasks)
    assert (info.value.position, info.value.field) == (1, "input_values")
    assert sandbox.requests_for("createTasks") == []  # a list is checked before sending


def test_the_sandbox_enforces_the_limits_too(sandbox: Sandbox) -> None:
    with sandbox.http_client() as http:
        answer = http.post(
            f"{sandbox.v1_base_url}/tasks",
            headers=sandbox.auth_headers("v1"),
            json=[_task(i, input_values={"t": "q" * 400_000}) for i in range(3)],
        )
    assert answer.status_code == 400 and answer.json()["code"] == "VALIDATION_ERROR"


# ------------------------------------------------------------------ all invalid, and the log


@pytest.mark.parametrize("async_mode", [False, True])
def test_a_wholly_invalid_request_with_skip_invalid_items_is_recorded_not_raised(
    async_mode: bool,
) -> None:
    sandbox = Sandbox(operation_polls=1)
    sandbox.add_pool("spec", input_spec={"n": "integer"}, default_overlap=1)
    good = [{"pool_id": "spec", "input_values": {"n": i}, "overlap": 1} for i in range(4)]
    bad = [{"pool_id": "spec", "input_values": {"n": "x"}, "overlap": 1} for _ in range(4)]
    with sandbox.client() as client:
        result = client.tasks.create_tasks(
            good + bad + good, chunk_size=4, skip_invalid_items=True, async_mode=async_mode
        )
        with pytest.raises(tx.BadRequestError):
            client.tasks.create_tasks(bad, async_mode=False)
    assert set(result.errors) == {4, 5, 6, 7}
    assert result.errors[5]["input_values.n"].code == "INVALID_TYPE"
    assert sorted(result.task_ids) == [0, 1, 2, 3, 8, 9, 10, 11]


def test_a_pool_open_entry_in_the_log_does_not_shift_positions() -> None:
    sandbox = Sandbox(operation_polls=1)
    with sandbox.client() as client:
        result = client.tasks.create_tasks(
            [_task(i) for i in range(5)], async_mode=True, open_pool=True
        )
        log = client.operations.get_log(result.operations[0].id)
    assert [e.type for e in log][-1] == "POOL_OPEN"
    assert log[-1].output is not None and set(log[-1].output) == {"code", "message", "request_id"}
    assert result.ok and sorted(result.task_ids) == list(range(5))
    assert {t["input_values"]["n"]: t["id"] for t in sandbox.tasks(POOL)} == result.task_ids
