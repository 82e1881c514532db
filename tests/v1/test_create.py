"""create_tasks / create_task against the in-process sandbox: sync and async modes, both clients.

Faults are the sandbox's scripted ones (:class:`~toloka_ext.testing.Fault`); what a test needs
to see at the moment a request is applied (how much of a generator was consumed, whether the
pool was open) it reads from a ``rewrite=`` hook, which runs inside the request.

Where the old scripted fake raised transport errors, the closest real sandbox fault is used:
an answer lost after the request was applied (was ``httpx.ReadTimeout``) is ``reset_after``
(``httpx.ReadError``); a connection that fails before anything is applied (was
``httpx.ConnectError``) is ``reset_before``.
"""

from __future__ import annotations

import inspect
import sys
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest

import toloka_ext as tx
from toloka_ext import AsyncToloka, Toloka
from toloka_ext._async._tasks import AsyncTasks
from toloka_ext.testing import Fault, FaultConfig, Sandbox
from toloka_ext.types import CreateProgress

from .conftest import FAST_POLL, POOL, TOKEN, Answers, bad_task, ids_by_position, posts, task


@pytest.fixture(params=["sync", "async"])
def create(request: pytest.FixtureRequest, sandbox: Sandbox) -> Callable[..., Any]:
    """``create(tasks, **options)`` through a new Toloka or AsyncToloka (same expectations).

    Every wait the client asks for is recorded in ``create.sleeps`` (and not slept).
    """
    sleeps: list[float] = []

    def run(tasks: Any, *, client_kwargs: Any = None, **options: Any) -> Any:
        kwargs = {"poll_policy": FAST_POLL, **(client_kwargs or {})}
        if request.param == "sync":
            with sandbox.client(sleep=sleeps.append, **kwargs) as client:
                return client.tasks.create_tasks(tasks, **options)

        async def go() -> Any:
            async def asleep(s: float) -> None:
                sleeps.append(s)

            async with sandbox.async_client(sleep=asleep, **kwargs) as client:
                return await client.tasks.create_tasks(tasks, **options)

        return anyio.run(go)

    run.sleeps = sleeps  # type: ignore[attr-defined]
    return run


def on_create(sandbox: Sandbox, spy: Callable[[Any], None]) -> None:
    """Call ``spy(body)`` whenever the sandbox answers a ``createTasks`` 2xx, i.e. at the
    moment the request is applied (the body is left unchanged)."""

    def rewrite(operation: str, body: Any) -> Any:
        if operation == "createTasks":
            spy(body)
        return body

    sandbox.rewrite = rewrite


def faults(*scripted: Fault, **limits: Any) -> FaultConfig:
    return FaultConfig(faults=scripted, **limits)


def day_quota(nth: int) -> Fault:
    """The API's daily quota answer (429 ``TOO_MANY_REQUESTS``, interval ``DAY``)."""
    return Fault(
        "status",
        status=429,
        route="createTasks",
        on_nth=(nth,),
        code="TOO_MANY_REQUESTS",
        payload={"interval": "DAY"},
    )


# -- sync mode ----------------------------------------------------------------------------


def test_sync_chunks_of_at_most_5000_with_positions_remapped(create: Any, sandbox: Sandbox) -> None:
    result = create(task(i) for i in range(12_001))
    assert [len(r.json()) for r in posts(sandbox)] == [5000, 5000, 2001]
    assert result.ok and result.total == 12_001
    assert len(sandbox.tasks()) == 12_001
    assert result.task_ids == ids_by_position(sandbox)
    assert result.created[11_000].input_values == {"n": 11_000}
    assert all("async_mode" not in r.params for r in posts(sandbox))


def test_sync_results_merge_errors_across_chunks(create: Any, sandbox: Sandbox) -> None:
    bad = {3, 4999, 5000, 9001}
    tasks = [bad_task(i) if i in bad else task(i) for i in range(10_000)]
    result = create(tasks, skip_invalid_items=True)
    assert set(result.errors) == bad
    assert result.errors[9001]["input_values.bad"].code == "VALUE_NOT_ALLOWED"
    assert set(result.task_ids) == set(range(10_000)) - bad
    assert result.task_ids == ids_by_position(sandbox)
    assert not result.ok
    assert len(posts(sandbox)) == 2
    assert all(r.params["skip_invalid_items"] == "true" for r in posts(sandbox))


def test_sync_validation_error_stops_with_partial_result(create: Any, sandbox: Sandbox) -> None:
    tasks = [task(i, input_values={"bad": 1}) if i == 7 else task(i) for i in range(15)]
    with pytest.raises(tx.BadRequestError) as err:
        create(tasks, chunk_size=5)
    assert err.value.code == "VALIDATION_ERROR"
    partial = err.value.partial_result
    assert sorted(partial.task_ids) == [0, 1, 2, 3, 4]
    assert set(partial.errors) == {7}
    assert partial.errors[7]["input_values.bad"].code == "VALUE_NOT_ALLOWED"
    assert len(posts(sandbox)) == 2  # the third chunk was never sent
    assert partial.task_ids == ids_by_position(sandbox)  # the refused chunk created nothing


def test_open_pool_goes_only_with_the_last_request(create: Any, sandbox: Sandbox) -> None:
    at_apply: list[tuple[str, int]] = []
    on_create(
        sandbox, lambda _: at_apply.append((sandbox.pool(POOL)["status"], len(sandbox.tasks())))
    )
    create((task(i) for i in range(11)), chunk_size=5, open_pool=True, allow_defaults=True)
    params = [dict(r.params) for r in posts(sandbox)]
    assert params == [{"allow_defaults": "true"}] * 2 + [
        {"allow_defaults": "true", "open_pool": "true"}
    ]
    # The pool stayed closed while the first 10 tasks went in; the last request opened it.
    assert at_apply == [("CLOSED", 5), ("CLOSED", 10), ("OPEN", 11)]


def test_generator_memory_stays_at_a_few_chunks(create: Any, sandbox: Sandbox) -> None:
    produced = 0

    def gen() -> Iterator[dict[str, Any]]:
        nonlocal produced
        for i in range(100):
            produced += 1
            yield task(i)

    seen_at_request: list[int] = []
    on_create(sandbox, lambda _: seen_at_request.append(produced))
    result = create(gen(), chunk_size=10)
    assert result.ok
    assert len(posts(sandbox)) == 10
    # When chunk k is sent, at most chunks k and k+1 have been pulled from the generator.
    assert seen_at_request == [min(20 + 10 * k, 100) for k in range(10)]


def test_sync_outcome_unknown_is_settled_not_resent(create: Any, sandbox: Sandbox) -> None:
    sandbox.faults = faults(
        Fault("status", status=503, route="createTasks", on_nth=(1,)),  # not applied
        Fault("reset_after", route="createTasks", on_nth=(3,)),  # applied, answer lost
    )
    result = create((task(i) for i in range(30)), chunk_size=10, raise_on_unknown=False)
    assert len(posts(sandbox)) == 3  # a 503 to a create is not re-sent: nothing says why
    # The server did create the lost chunk, exactly once; reading the pool back says so.
    assert len(sandbox.tasks()) == 20 and sorted(ids_by_position(sandbox)) == list(range(10, 30))
    assert sandbox.counters.applied["createTasks"] == 2
    assert result.unknown == [] and result.task_ids == ids_by_position(sandbox)
    assert result.created[25].input_values == {"n": 25}
    # The 503's chunk is absent at once, but called "not created" only from a read made
    # when its request could no longer be applied: the call waited max_request_hold.
    assert {e[""].code for e in result.errors.values()} == {"NOT_CREATED"}
    assert sorted(result.errors) == list(range(10))
    assert max(create.sleeps) > 299  # type: ignore[attr-defined]
    # one read of the pool's newest task before the first request, two read-backs at the end
    assert len(sandbox.requests_for("listTasks")) == 3


def test_retry_after_and_rate_limit_retries(create: Any, sandbox: Sandbox) -> None:
    sandbox.faults = faults(
        Fault(
            "status",
            status=429,
            route="createTasks",
            on_nth=(1,),
            code="TOO_MANY_REQUESTS",
            retry_after=7,
        )
    )
    result = create(
        [task(i) for i in range(3)],
        client_kwargs={"tasks_per_minute": None, "requests_per_second": None},
    )
    assert result.ok
    assert create.sleeps == [7.0]
    assert len(posts(sandbox)) == 2
    assert len(sandbox.tasks()) == 3


def test_daily_quota_is_an_error_unless_waiting(create: Any, sandbox: Sandbox) -> None:
    sandbox.faults = faults(day_quota(2))
    with pytest.raises(tx.QuotaExceededError) as err:
        create((task(i) for i in range(20)), chunk_size=10)
    assert sorted(err.value.partial_result.task_ids) == list(range(10))
    assert len(posts(sandbox)) == 2  # a spent day is not retried
    assert create.sleeps == []
    sandbox.faults = faults(day_quota(1))
    result = create([task(i) for i in range(3)], wait_for_quota=True)
    assert result.ok
    assert any(s > 60 for s in create.sleeps)
    assert len(sandbox.tasks()) == 13


def test_task_rate_limit_paces_chunks(create: Any, sandbox: Sandbox) -> None:
    create((task(i) for i in range(30)), chunk_size=10, client_kwargs={"tasks_per_minute": 600})
    # 600/min = 10/s with a burst of 600: 30 tasks fit the burst, so no wait ...
    assert create.sleeps == []
    create((task(i) for i in range(30)), chunk_size=10, client_kwargs={"tasks_per_minute": 12})
    # ... 12/min = 0.2/s, burst 12: chunk 2 is 8 tasks short (40 s); chunk 3 reserves 10 more
    # (the test's sleep does not advance the clock, so it waits for all 18: 90 s from now).
    assert create.sleeps == pytest.approx([40.0, 90.0], abs=0.1)
    assert len(sandbox.tasks()) == 60


def test_progress_and_keep_tasks(create: Any, sandbox: Sandbox) -> None:
    progress: list[CreateProgress] = []
    result = create(
        (task(i) for i in range(25)), chunk_size=10, on_progress=progress.append, keep_tasks=False
    )
    assert [(p.submitted, p.created, p.chunks_done) for p in progress] == [
        (10, 10, 1),
        (20, 20, 2),
        (25, 25, 3),
    ]
    assert result.created == {} and result.task_ids == ids_by_position(sandbox)
    assert len(result.task_ids) == 25


@pytest.mark.parametrize("async_mode", [False, True], ids=["sync", "async"])
def test_created_tasks_are_what_was_sent_whatever_the_caller_does_later(
    create: Any, sandbox: Sandbox, async_mode: bool
) -> None:
    tasks = [task(i) for i in range(7)]
    result = create(tasks, chunk_size=3, async_mode=async_mode, keep_tasks=True)
    for t in tasks:  # the caller reuses its dicts once the call is over
        t["input_values"]["n"] = -1
        t["overlap"] = 9
    assert {p: (t.input_values, t.overlap) for p, t in result.created.items()} == {
        i: ({"n": i}, 1) for i in range(7)
    }
    assert {p: t.id for p, t in result.created.items()} == result.task_ids
    assert tasks[0] == task(0, input_values={"n": -1}, overlap=9)  # never copied back


# -- async mode ---------------------------------------------------------------------------


def test_async_mode_one_operation_per_chunk_same_result_shape(
    create: Any, sandbox: Sandbox
) -> None:
    def new_key(operation: str, body: Any) -> Any:
        if operation in ("createTasks", "getOperation"):
            body["brand_new_key"] = 1  # a key this client version does not know
        return body

    sandbox.rewrite = new_key
    bad = {2, 11}
    tasks = [bad_task(i) if i in bad else task(i) for i in range(25)]
    result = create(tasks, async_mode=True, skip_invalid_items=True, chunk_size=10)
    sent = posts(sandbox)
    assert len(sent) == 3 and len(result.operations) == 3
    op_ids = [p.params["operation_id"] for p in sent]
    # Derived from one fresh id of the call (uuid5 of it per request): rerunnable by it.
    assert len(set(op_ids)) == 3 and all(uuid.UUID(i).version == 5 for i in op_ids)
    assert all(p.params["async_mode"] == "true" for p in sent)
    assert [op.id for op in result.operations] == op_ids
    assert all(op.status == "SUCCESS" for op in result.operations)
    assert result.operations[0].extra == {"brand_new_key": 1}
    assert set(result.errors) == bad
    assert result.errors[11]["input_values.bad"].code == "VALUE_NOT_ALLOWED"
    assert result.task_ids == ids_by_position(sandbox)
    assert len(result.task_ids) == 23
    assert result.created[24].id == result.task_ids[24]


def test_async_operations_are_read_while_later_chunks_are_sent(
    create: Any, sandbox: Sandbox, request: pytest.FixtureRequest
) -> None:
    """AsyncToloka's worker polls an operation and reads its log while the next chunks are
    planned and sent; the sync client does it in turn (it has no second thread of control).
    Either way the result is the same, position by position."""
    result = create([task(i) for i in range(12)], async_mode=True, chunk_size=3)
    assert result.task_ids == ids_by_position(sandbox) and len(result.task_ids) == 12
    order = [r.operation for r in sandbox.requests if r.operation != "listTasks"]
    first_read = order.index("getOperation")
    last_post = len(order) - 1 - order[::-1].index("createTasks")
    overlapped = first_read < last_post
    assert overlapped == (request.node.callspec.params["create"] == "async")


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("keep_tasks", [True, False])
def test_the_result_holds_none_of_the_callers_task_dicts(
    create: Any, mode: str, keep_tasks: bool
) -> None:
    """Created tasks are rebuilt from the bytes sent or answered when read: the result keeps
    no reference to the caller's dicts, whose memory (and the garbage collector's walks
    over it) would otherwise grow with every task of the call."""
    tasks = [task(i) for i in range(9)]
    before = [sys.getrefcount(t) for t in tasks]
    result = create(tasks, async_mode=mode == "async", chunk_size=4, keep_tasks=keep_tasks)
    assert result.ok and len(result.task_ids) == 9
    assert [sys.getrefcount(t) for t in tasks] == before
    if keep_tasks:
        assert result.created[5].input_values == tasks[5]["input_values"]
        assert [sys.getrefcount(t) for t in tasks] == before  # reading them keeps none either


def test_async_retry_reuses_the_operation_id_and_creates_once(
    create: Any, sandbox: Sandbox
) -> None:
    sandbox.faults = faults(
        Fault("reset_after", route="createTasks", on_nth=(1,)),  # applied, answer lost
        Fault("status", status=500, route="createTasks", on_nth=(2,), code="INTERNAL_ERROR"),
    )
    result = create([task(i) for i in range(5)], async_mode=True)
    sent = posts(sandbox)
    assert len(sent) == 3  # lost, 500, then 409 OPERATION_ALREADY_EXISTS: read it by id
    assert len({p.params["operation_id"] for p in sent}) == 1
    assert sandbox.counters.applied["createTasks"] == 1
    assert len(sandbox.tasks()) == 5 and result.ok
    assert result.task_ids == ids_by_position(sandbox)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_async_create_lost_after_apply_is_recovered_from_the_409(
    sandbox: Sandbox, kind: str
) -> None:
    """The first answer is lost after the server applied it; the retry (same operation_id)
    gets 409 OPERATION_ALREADY_EXISTS, and the client reads the operation by id."""
    sandbox.faults = faults(Fault("reset_after", route="createTasks", on_nth=(1,)))
    answers = Answers()
    tasks = [task(i) for i in range(5)]
    if kind == "sync":
        with (
            answers.http_client(sandbox.transport) as http,
            sandbox.client(http_client=http, poll_policy=FAST_POLL) as client,
        ):
            result = client.tasks.create_tasks(tasks, async_mode=True)
    else:

        async def go() -> Any:
            async with (
                answers.async_http_client(sandbox.transport) as http,
                sandbox.async_client(http_client=http, poll_policy=FAST_POLL) as client,
            ):
                return await client.tasks.create_tasks(tasks, async_mode=True)

        result = anyio.run(go)
    first, retry = posts(sandbox)
    op_id = first.params["operation_id"]
    assert retry.params["operation_id"] == op_id
    # The first answer never arrived; the retry's did, and it was the conflict.
    assert answers.statuses("POST", "/tasks") == [(409, "OPERATION_ALREADY_EXISTS")]
    v1 = [r for r in sandbox.requests if r.operation != "listTasks"]
    order = [(r.operation, r.path.rsplit("/", 1)[-1]) for r in v1[:3]]
    assert order == [("createTasks", "tasks"), ("createTasks", "tasks"), ("getOperation", op_id)]
    assert result.ok and [op.id for op in result.operations] == [op_id]
    assert sorted(result.task_ids) == list(range(5))
    assert result.task_ids == ids_by_position(sandbox)
    assert len(sandbox.tasks()) == 5
    assert sandbox.counters.received["createTasks"] == 2
    assert sandbox.counters.applied["createTasks"] == 1
    assert sandbox.counters.tasks_created == 5


def test_async_conflict_on_known_operation_id_is_recovered(create: Any, sandbox: Sandbox) -> None:
    op_id = uuid.uuid4()
    first = create([task(i) for i in range(5)], async_mode=True, operation_id=op_id)
    # The same call again: the server answers 409 for the known id; nothing is created twice.
    again = create([task(i) for i in range(5)], async_mode=True, operation_id=op_id)
    assert again.ok and again.task_ids == first.task_ids
    assert [op.id for op in again.operations] == [str(op_id)]
    assert len(sandbox.tasks()) == 5
    assert sandbox.counters.received["createTasks"] == 2
    assert sandbox.counters.applied["createTasks"] == 1


def test_user_operation_id_single_chunk_and_derived_ids(create: Any, sandbox: Sandbox) -> None:
    user = uuid.uuid4()
    create([task(i) for i in range(5)], async_mode=True, operation_id=str(user))
    assert [p.params["operation_id"] for p in posts(sandbox)] == [str(user)]
    sandbox.requests.clear()
    tasks = [task(i) for i in range(25)]
    first = create(tasks, async_mode=True, operation_id=user, chunk_size=10)
    ids = [p.params["operation_id"] for p in posts(sandbox)]
    assert ids == [str(uuid.uuid5(user, str(k))) for k in range(3)]
    # A re-run with the same id creates nothing new: the server knows those operations.
    before = len(sandbox.tasks())
    assert before == 30
    result = create(tasks, async_mode=True, operation_id=user, chunk_size=10)
    assert len(sandbox.tasks()) == before
    assert len(result.task_ids) == 25 and result.task_ids == first.task_ids


def test_async_fail_raises_with_per_position_errors(create: Any, sandbox: Sandbox) -> None:
    tasks = [task(i, input_values={"bad": 1}) if i == 3 else task(i) for i in range(5)]
    with pytest.raises(tx.OperationFailedError) as err:
        create(tasks, async_mode=True)
    assert isinstance(err.value.obj, tx.types.Operation) and err.value.obj.status == "FAIL"
    assert set(err.value.partial_result.errors) == {3}
    assert err.value.partial_result.errors[3]["input_values.bad"].code == "VALUE_NOT_ALLOWED"
    assert sandbox.tasks() == []


def test_async_polls_with_backoff(create: Any, sandbox: Sandbox) -> None:
    sandbox.configure(operation_polls=4)
    progress: list[CreateProgress] = []
    create(
        [task(i) for i in range(3)],
        async_mode=True,
        on_progress=progress.append,
        poll_policy=tx.PollPolicy(interval=1, backoff_factor=2, max_interval=3, timeout=None),
    )
    assert create.sleeps == [1, 2, 3]
    assert len(sandbox.requests_for("getOperation")) == 4
    statuses = [p.operation.status for p in progress if p.operation is not None]
    assert statuses[:4] == ["RUNNING", "RUNNING", "RUNNING", "SUCCESS"]


def test_async_log_matched_by_content_when_order_differs(create: Any, sandbox: Sandbox) -> None:
    served: list[list[Any]] = []

    def reverse_log(operation: str, body: Any) -> Any:
        if operation == "getOperationLog":
            body = list(reversed(body))
            served.append(body)
        return body

    sandbox.rewrite = reverse_log
    result = create(
        [bad_task(i) if i == 1 else task(i) for i in range(6)],
        async_mode=True,
        skip_invalid_items=True,
    )
    # The log the client read was out of request order (last task first).
    assert [e["input"]["input_values"]["n"] for e in served[0]][:2] == [5, 4]
    assert set(result.errors) == {1}
    assert result.task_ids == ids_by_position(sandbox)
    assert sorted(result.task_ids) == [0, 2, 3, 4, 5]


def test_async_open_pool_only_last_and_after_everything_finished(
    create: Any, sandbox: Sandbox
) -> None:
    tasks_in_at_open: list[int] = []

    def spy(body: Any) -> None:
        if body["parameters"]["open_pool"]:
            # The sandbox creates an operation's tasks when it finishes: 40 = chunks 0-3 done.
            tasks_in_at_open.append(len(sandbox.tasks()))

    on_create(sandbox, spy)
    sandbox.configure(operation_polls=2)
    create((task(i) for i in range(50)), async_mode=True, open_pool=True, chunk_size=10)
    opens = [p.params.get("open_pool") for p in posts(sandbox)]
    assert opens == [None] * 4 + ["true"]
    assert tasks_in_at_open == [40]
    assert len(sandbox.tasks()) == 50 and sandbox.pool(POOL)["status"] == "OPEN"


def test_async_unreachable_marks_chunk_unknown(create: Any, sandbox: Sandbox) -> None:
    # Chunk 1: applied but its answer lost, then the retry's connection lost as well (the
    # sandbox answers a refused request -- here the retry's 409 -- even under reset_after, so
    # the retry gets reset_before); the operation cannot be read either: every GET loses its
    # connection (reset_before: the closest real fault to the old fake's ConnectError).
    sandbox.faults = faults(
        Fault("reset_after", route="createTasks", on_nth=(2,)),
        Fault("reset_before", route="createTasks", on_nth=(3,)),
        Fault("reset_before", route="getOperation", rate=1.0),
    )
    with pytest.raises(tx.APIConnectionError) as err:
        create(
            [task(i) for i in range(20)],
            async_mode=True,
            chunk_size=10,
            client_kwargs={"max_retries": 1},
        )
    partial = err.value.partial_result
    assert range(10, 20) in partial.unknown
    # Chunk 0's operation could not be read either: nothing is claimed as known.
    assert sorted(partial.unknown, key=lambda r: r.start) == [range(10), range(10, 20)]
    assert partial.task_ids == {}
    assert len(posts(sandbox)) == 3


def test_async_conflict_with_unreadable_operation_marks_chunk_unknown(
    create: Any, sandbox: Sandbox
) -> None:
    sandbox.faults = faults(
        Fault("reset_after", route="createTasks", on_nth=(2,)),  # chunk 1 applied, lost
        Fault("reset_before", route="getOperation", rate=1.0),
    )
    with pytest.raises(tx.TolokaError) as err:
        create(
            [task(i) for i in range(20)],
            async_mode=True,
            chunk_size=10,
            client_kwargs={"max_retries": 1},
        )
    # Chunk 1's retry got 409: its operation exists, so its tasks may be created.
    assert range(10, 20) in err.value.partial_result.unknown


# -- single task --------------------------------------------------------------------------


def test_create_task_returns_the_task(twin: Any, sandbox: Sandbox) -> None:
    created = twin.create_task(task(1), allow_defaults=True, open_pool=True)
    assert [t["id"] for t in sandbox.tasks()] == [created.id]
    assert dict(posts(sandbox)[0].params) == {"allow_defaults": "true", "open_pool": "true"}
    assert created.created is not None and created.created.tzinfo is not None
    assert created.overlap == 2  # the pool's default: allow_defaults reached the server
    assert sandbox.pool(POOL)["status"] == "OPEN"


def test_create_task_lost_answer_raises_outcome_unknown(twin: Any, sandbox: Sandbox) -> None:
    sandbox.faults = faults(Fault("reset_after", route="createTasks", on_nth=(1,)))
    with pytest.raises(tx.OutcomeUnknownError):
        twin.create_task(task(1))
    assert len(posts(sandbox)) == 1
    assert len(sandbox.tasks()) == 1  # it was applied: a re-send would have duplicated it


@pytest.mark.anyio
async def test_async_client_single_and_async_iterable(
    aclient: AsyncToloka, sandbox: Sandbox
) -> None:
    created = await aclient.tasks.create_task(task(100))
    assert [t["id"] for t in sandbox.tasks()] == [created.id]

    async def agen() -> Any:
        for i in range(12):
            yield task(i)

    result = await aclient.tasks.create_tasks(agen(), chunk_size=5)
    assert result.ok and sorted(result.task_ids) == list(range(12))
    assert result.task_ids == {n: i for n, i in ids_by_position(sandbox).items() if n != 100}
    assert [len(p.json()) for p in posts(sandbox)[1:]] == [5, 5, 2]
    assert len(posts(sandbox)) == 1 + 3


def test_operation_helpers(twin: Any, sandbox: Sandbox) -> None:
    result = twin.create_tasks([task(0)], async_mode=True)
    op_id = result.operations[0].id
    assert twin.ops.get(op_id).status == "SUCCESS"
    assert twin.ops.wait(op_id).id == op_id
    log = twin.ops.get_log(op_id)
    assert [i.type for i in log] == ["TASK_CREATE"]
    assert log[0].output == {"task_id": sandbox.tasks()[0]["id"]}
    with pytest.raises(tx.NotFoundError):
        twin.ops.get("missing")


def test_poll_timeout_reports_the_chunk_as_unknown(twin: Any, sandbox: Sandbox) -> None:
    sandbox.configure(operation_polls=10**6)
    with pytest.raises(tx.PollTimeoutError) as err:
        twin.create_tasks([task(0), task(1)], async_mode=True, poll_policy=tx.PollPolicy(timeout=0))
    assert err.value.obj.status == "RUNNING"
    assert err.value.partial_result.unknown == [range(2)]


def test_repr_redacts_token(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOLOKA_API_KEY", raising=False)
    with sandbox.client(api_key=None, oauth_token=TOKEN) as c:
        c.tasks.create_task(task(0))  # the token is the one the sandbox accepts
        assert TOKEN not in repr(c)
        assert "OAuth" in repr(c)
    with sandbox.client() as c:
        assert sandbox.api_key not in repr(c)


def test_sandbox_url_and_env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TOLOKA_OAUTH_TOKEN", "TOLOKA_V1_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TOLOKA_API_KEY", "env-key")
    seen: list[httpx.Request] = []
    with Sandbox(api_key="env-key", api_base="https://sandbox.toloka.dev") as sb:
        http = httpx.Client(transport=sb.transport, event_hooks={"request": [seen.append]})
        with http, Toloka(v1_base_url="https://sandbox.toloka.dev/api/v1", http_client=http) as c:
            with pytest.raises(tx.NotFoundError):  # the sandbox took the key: 404, not 401
                c.operations.get("op")
    assert str(seen[0].url) == "https://sandbox.toloka.dev/api/v1/operations/op"
    assert seen[0].headers["Authorization"] == "ApiKey env-key"
    monkeypatch.delenv("TOLOKA_API_KEY")
    with pytest.raises(tx.ConfigurationError, match="TOLOKA_OAUTH_TOKEN"):
        Toloka()


def test_unreadable_sync_answer_is_drift_and_its_chunk_unknown(
    create: Any, sandbox: Sandbox
) -> None:
    # Chunk 1 is applied, but a proxy answers for the API with an HTML page.
    sandbox.faults = faults(
        Fault(
            "status_after",
            status=201,
            route="createTasks",
            on_nth=(2,),
            body=b"<html>proxy page</html>",
        )
    )
    with pytest.raises(tx.ApiDriftError) as err:
        create((task(i) for i in range(30)), chunk_size=10)
    assert err.value.operation == "createTasks"
    partial = err.value.partial_result
    assert sorted(partial.task_ids) == list(range(10))
    assert partial.unknown == [range(10, 20)]
    assert len(posts(sandbox)) == 2 and len(sandbox.tasks()) == 20


# -- gateway errors (502/504): the API behind the gateway may have applied the request --


@pytest.mark.parametrize("code", [502, 504])
def test_sync_chunk_answered_by_a_gateway_is_unknown_not_resent(
    create: Any, sandbox: Sandbox, code: int
) -> None:
    # The API created chunk 1; the gateway gave up waiting and answered its HTML page.
    sandbox.faults = faults(Fault("status_after", status=code, route="createTasks", on_nth=(2,)))
    result = create((task(i) for i in range(30)), chunk_size=10)
    assert len(posts(sandbox)) == 3  # the second chunk was not sent twice
    assert len(sandbox.tasks()) == 30  # ... so nothing was created twice
    assert result.ok and result.task_ids == ids_by_position(sandbox)  # settled by reading back
    assert create.sleeps == []


@pytest.mark.parametrize("code", [502, 504])
def test_async_chunk_answered_by_a_gateway_is_resent_with_its_operation_id(
    create: Any, sandbox: Sandbox, code: int
) -> None:
    sandbox.faults = faults(Fault("status_after", status=code, route="createTasks", on_nth=(1,)))
    result = create([task(i) for i in range(5)], async_mode=True)
    sent = posts(sandbox)
    assert len(sent) == 2
    assert len({p.params["operation_id"] for p in sent}) == 1
    assert sandbox.counters.applied["createTasks"] == 1
    assert len(sandbox.tasks()) == 5 and result.ok


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("code", [502, 504])
def test_create_task_answered_by_a_gateway_raises_outcome_unknown(
    sandbox: Sandbox, kind: str, code: int
) -> None:
    sandbox.faults = faults(Fault("status_after", status=code, route="createTasks", on_nth=(1,)))
    with pytest.raises(tx.OutcomeUnknownError) as err:
        if kind == "sync":
            with sandbox.client() as client:
                client.tasks.create_task(task(1))
        else:

            async def go() -> None:
                async with sandbox.async_client() as client:
                    await client.tasks.create_task(task(1))

            anyio.run(go)
    assert err.value.status_code == code
    assert len(posts(sandbox)) == 1
    assert len(sandbox.tasks()) == 1  # the API did create it


# -- the async flavour awaits ----------------------------------------------------------------
# (The two flavours' signatures are one source: `make check-generated` compares them.)


@pytest.mark.parametrize(
    "name", ["create_task", "create_tasks", "get", "update", "set_overlap_or_min"]
)
def test_the_async_task_calls_are_coroutines(name: str) -> None:
    assert inspect.iscoroutinefunction(getattr(AsyncTasks, name))  # `list` is a paginator


# -- the client-side daily budget: an error, not a day-long sleep ------------------------


def test_client_side_daily_budget_is_an_error_not_a_sleep(create: Any, sandbox: Sandbox) -> None:
    limits = {"tasks_per_day": 10, "tasks_per_minute": None, "requests_per_second": None}
    with pytest.raises(tx.QuotaExceededError) as err:
        create((task(i) for i in range(25)), chunk_size=5, client_kwargs=limits)
    assert create.sleeps == []
    assert len(posts(sandbox)) == 2 and len(sandbox.tasks()) == 10
    assert "tasks_per_day=10" in str(err.value) and "wait_for_quota" in str(err.value)
    assert err.value.payload == {"interval": "DAY", "client_side": True}
    partial = err.value.partial_result
    assert sorted(partial.task_ids) == list(range(10)) and partial.unknown == []


@pytest.mark.parametrize("where", ["call", "client"])
def test_client_side_daily_budget_waits_when_asked(
    create: Any, sandbox: Sandbox, where: str
) -> None:
    limits: dict[str, Any] = {"tasks_per_day": 10, "tasks_per_minute": None}
    options: dict[str, Any] = {"chunk_size": 5}
    if where == "call":
        options["wait_for_quota"] = True
    else:
        limits["wait_for_quota"] = True
    result = create((task(i) for i in range(15)), client_kwargs=limits, **options)
    assert result.ok and len(sandbox.tasks()) == 15
    # 5 tasks short at 10 tasks/day: 12 hours (the test's sleep does not move the clock).
    assert create.sleeps == pytest.approx([43_200.0], rel=1e-3)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_create_task_respects_the_daily_budget(sandbox: Sandbox, kind: str) -> None:
    if kind == "sync":
        with sandbox.client(tasks_per_day=1) as client:
            client.tasks.create_task(task(0))
            with pytest.raises(tx.QuotaExceededError):
                client.tasks.create_task(task(1))
    else:

        async def go() -> None:
            async with sandbox.async_client(tasks_per_day=1) as client:
                await client.tasks.create_task(task(0))
                with pytest.raises(tx.QuotaExceededError):
                    await client.tasks.create_task(task(1))

        anyio.run(go)
    assert len(posts(sandbox)) == 1 and len(sandbox.tasks()) == 1


# -- async mode: an error while submitting still waits for the operations under way -----


def test_async_bad_input_later_waits_for_started_operations(create: Any, sandbox: Sandbox) -> None:
    def gen() -> Iterator[dict[str, Any]]:
        for i in range(40):
            yield task(i) if i != 35 else {"pool_id": POOL, "input_values": {}, "overlap": 0}

    with pytest.raises(tx.InvalidInputError) as err:
        create(gen(), async_mode=True, chunk_size=10)
    partial = err.value.partial_result
    assert (err.value.position, err.value.field) == (35, "overlap")
    assert len(posts(sandbox)) == 3  # chunks 0-2 were submitted; chunk 3 never
    assert sorted(partial.task_ids) == list(range(30))  # ... and all their results are known
    assert partial.task_ids == ids_by_position(sandbox)
    assert partial.unknown == []
    assert [op.status for op in partial.operations] == ["SUCCESS"] * 3


def test_async_daily_quota_waits_for_started_operations(create: Any, sandbox: Sandbox) -> None:
    # The sandbox's own daily task quota: the third chunk of 10 goes over 20 a day.
    sandbox.faults = faults(tasks_per_day=20)
    with pytest.raises(tx.QuotaExceededError) as err:
        create((task(i) for i in range(40)), async_mode=True, chunk_size=10)
    partial = err.value.partial_result
    assert sorted(partial.task_ids) == list(range(20)) and partial.unknown == []
    assert partial.task_ids == ids_by_position(sandbox)
    assert len(sandbox.tasks()) == 20
    assert len(posts(sandbox)) == 3  # a spent day is not retried


def test_async_mode_consumes_a_generator_lazily(create: Any, sandbox: Sandbox) -> None:
    produced = 0

    def gen() -> Iterator[dict[str, Any]]:
        nonlocal produced
        for i in range(200):
            produced += 1
            yield task(i)

    consumed_at_post: list[int] = []
    on_create(sandbox, lambda _: consumed_at_post.append(produced))
    result = create(gen(), async_mode=True, chunk_size=10)
    assert result.ok and len(result.task_ids) == 200
    # When chunk k is submitted, only chunks k and k+1 (the look-ahead) have been pulled.
    assert consumed_at_post == [min(10 * (k + 2), 200) for k in range(20)]


def test_async_unreadable_log_marks_its_chunk_unknown(create: Any, sandbox: Sandbox) -> None:
    sandbox.faults = faults(
        Fault("status", status=500, route="getOperationLog", on_nth=(2,), code="INTERNAL_ERROR")
    )
    with pytest.raises(tx.InternalServerError) as err:
        create(
            (task(i) for i in range(20)),
            async_mode=True,
            chunk_size=10,
            open_pool=True,  # drains chunk 0 before chunk 1 is sent
            client_kwargs={"max_retries": 0},
        )
    partial = err.value.partial_result
    assert sorted(partial.task_ids) == list(range(10))
    assert partial.unknown == [range(10, 20)]  # created by the server, but not read back
    assert len(sandbox.tasks()) == 20


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_timeouts_are_configurable(sandbox: Sandbox, kind: str) -> None:
    timeout = httpx.Timeout(7.0, connect=2.0)
    if kind == "sync":
        with sandbox.client(timeout=timeout) as client:
            client.tasks.create_tasks([task(0)])
            with pytest.raises(tx.NotFoundError):
                client.with_options(timeout=1.5).operations.get("x")
    else:

        async def go() -> None:
            async with sandbox.async_client(timeout=timeout) as client:
                await client.tasks.create_tasks([task(0)])
                with pytest.raises(tx.NotFoundError):
                    await client.with_options(timeout=1.5).operations.get("x")

        anyio.run(go)
    default, per_call = (r.timeout for r in sandbox.requests if r.operation != "listTasks")
    assert default == {"connect": 2.0, "read": 7.0, "write": 7.0, "pool": 7.0}
    assert per_call == {"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5}


@pytest.mark.parametrize("async_mode", [False, True], ids=["sync-mode", "async-mode"])
def test_async_iterable_is_consumed_lazily(sandbox: Sandbox, async_mode: bool) -> None:
    produced = 0

    async def agen() -> Any:
        nonlocal produced
        for i in range(50):
            produced += 1
            yield task(i)

    consumed_at_post: list[int] = []
    on_create(sandbox, lambda _: consumed_at_post.append(produced))

    async def go() -> Any:
        async with sandbox.async_client(poll_policy=FAST_POLL) as client:
            return await client.tasks.create_tasks(agen(), chunk_size=10, async_mode=async_mode)

    result = anyio.run(go)
    assert result.ok and len(result.task_ids) == 50
    assert result.task_ids == ids_by_position(sandbox)
    assert consumed_at_post == [20, 30, 40, 50, 50]
