"""create_tasks / create_task through a scripted fake: sync and async modes, both clients."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest

import toloka_ext as tx
from toloka_ext import AsyncTasksClient, CreateProgress, TasksClient

from .conftest import BASE, FAST_POLL, FakeV1, ano_sleep, task


@pytest.fixture(params=["sync", "async"])
def create(request: pytest.FixtureRequest, fake: FakeV1) -> Callable[..., Any]:
    """``create(tasks, **options)`` through TasksClient or AsyncTasksClient (same expectations)."""
    sleeps: list[float] = []

    def run(tasks: Any, *, client_kwargs: Any = None, **options: Any) -> Any:
        kwargs = {
            "oauth_token": "secret-token-value",
            "base_url": BASE,
            "transport": httpx.MockTransport(fake.handler),
            "poll_policy": FAST_POLL,
            **(client_kwargs or {}),
        }
        if request.param == "sync":
            with TasksClient(sleep=sleeps.append, **kwargs) as client:
                return client.create_tasks(tasks, **options)

        async def go() -> Any:
            async def asleep(s: float) -> None:
                sleeps.append(s)

            async with AsyncTasksClient(sleep=asleep, **kwargs) as client:
                return await client.create_tasks(tasks, **options)

        return anyio.run(go)

    run.sleeps = sleeps  # type: ignore[attr-defined]
    return run


def _ids_by_position(fake: FakeV1) -> dict[int, str]:
    return {t["input_values"]["n"]: tid for tid, t in fake.tasks.items()}


# -- sync mode ----------------------------------------------------------------------------


def test_sync_chunks_of_at_most_5000_with_positions_remapped(create: Any, fake: FakeV1) -> None:
    result = create(task(i) for i in range(12_001))
    sizes = [len(r.read().decode().split('"pool_id"')) - 1 for r in fake.post_requests()]
    assert sizes == [5000, 5000, 2001]
    assert result.ok and result.total == 12_001
    assert result.task_ids == _ids_by_position(fake)
    assert result.created[11_000].input_values == {"n": 11_000}
    assert all("async_mode" not in r.url.params for r in fake.post_requests())


def test_sync_results_merge_errors_across_chunks(create: Any, fake: FakeV1) -> None:
    bad = {3, 4999, 5000, 9001}
    tasks = [
        task(i, input_values={"n": i, "bad": 1}) if i in bad else task(i) for i in range(10_000)
    ]
    result = create(tasks, skip_invalid_items=True)
    assert set(result.errors) == bad
    assert result.errors[9001]["input_values.bad"].code == "VALUE_NOT_ALLOWED"
    assert set(result.task_ids) == set(range(10_000)) - bad
    assert not result.ok
    assert all(r.url.params["skip_invalid_items"] == "true" for r in fake.post_requests())


def test_sync_validation_error_stops_with_partial_result(create: Any, fake: FakeV1) -> None:
    tasks = [task(i, input_values={"bad": 1}) if i == 7 else task(i) for i in range(15)]
    with pytest.raises(tx.BadRequestError) as err:
        create(tasks, chunk_size=5)
    assert err.value.code == "VALIDATION_ERROR"
    partial = err.value.partial_result
    assert sorted(partial.task_ids) == [0, 1, 2, 3, 4]
    assert set(partial.errors) == {7}
    assert len(fake.post_requests()) == 2  # the third chunk was never sent


def test_open_pool_goes_only_with_the_last_request(create: Any, fake: FakeV1) -> None:
    create((task(i) for i in range(11)), chunk_size=5, open_pool=True, allow_defaults=True)
    params = [dict(r.url.params) for r in fake.post_requests()]
    assert params == [{"allow_defaults": "true"}] * 2 + [
        {"allow_defaults": "true", "open_pool": "true"}
    ]
    assert fake.opened_pool_after == [10]  # every earlier task was already in


def test_generator_memory_stays_at_a_few_chunks(create: Any, fake: FakeV1) -> None:
    produced = 0

    def gen() -> Iterator[dict[str, Any]]:
        nonlocal produced
        for i in range(100):
            produced += 1
            yield task(i)

    seen_at_request: list[int] = []
    original = fake.handler

    def spy(request: httpx.Request) -> httpx.Response:
        seen_at_request.append(produced)
        return original(request)

    fake.handler = spy  # type: ignore[method-assign]
    result = create(gen(), chunk_size=10)
    assert result.ok
    # When chunk k is sent, at most chunks k and k+1 have been pulled from the generator.
    assert seen_at_request == [min(20 + 10 * k, 100) for k in range(10)]


def test_sync_outcome_unknown_is_reported_not_resent(create: Any, fake: FakeV1) -> None:
    fake.faults = [
        httpx.Response(
            503, json={"code": "REMOTE_SERVICE_UNAVAILABLE", "message": "x", "request_id": "r"}
        ),
        "none",
        "apply_then_timeout",
        "none",
    ]
    result = create((task(i) for i in range(30)), chunk_size=10)
    assert result.unknown == [range(10, 20)]
    assert sorted(result.task_ids) == list(range(10)) + list(range(20, 30))
    assert len(fake.post_requests()) == 4  # 503 retried once; the lost answer never re-sent
    assert len(fake.tasks) == 30  # the server did create the unknown chunk, exactly once
    assert result.unknown_count == 10 and list(result.unknown_positions())[0] == 10


def test_retry_after_and_rate_limit_retries(create: Any, fake: FakeV1) -> None:
    fake.faults = [
        httpx.Response(
            429,
            headers={"Retry-After": "7"},
            json={"code": "TOO_MANY_REQUESTS", "message": "m", "request_id": "r"},
        )
    ]
    result = create(
        [task(i) for i in range(3)],
        client_kwargs={"tasks_per_minute": None, "requests_per_second": None},
    )
    assert result.ok
    assert create.sleeps == [7.0]
    assert len(fake.tasks) == 3


def test_daily_quota_is_an_error_unless_waiting(create: Any, fake: FakeV1) -> None:
    quota = httpx.Response(
        429,
        json={
            "code": "TOO_MANY_REQUESTS",
            "message": "m",
            "request_id": "r",
            "payload": {"interval": "DAY"},
        },
    )
    fake.faults = ["none", quota]
    with pytest.raises(tx.QuotaExceededError) as err:
        create((task(i) for i in range(20)), chunk_size=10)
    assert sorted(err.value.partial_result.task_ids) == list(range(10))
    fake.faults = [quota]
    result = create([task(i) for i in range(3)], wait_for_quota=True)
    assert result.ok
    assert any(s > 60 for s in create.sleeps)


def test_task_rate_limit_paces_chunks(create: Any, fake: FakeV1) -> None:
    create((task(i) for i in range(30)), chunk_size=10, client_kwargs={"tasks_per_minute": 600})
    # 600/min = 10/s with a burst of 600: 30 tasks fit the burst, so no wait ...
    assert create.sleeps == []
    create((task(i) for i in range(30)), chunk_size=10, client_kwargs={"tasks_per_minute": 12})
    # ... 12/min = 0.2/s, burst 12: chunk 2 is 8 tasks short (40 s); chunk 3 reserves 10 more
    # (the test's sleep does not advance the clock, so it waits for all 18: 90 s from now).
    assert create.sleeps == pytest.approx([40.0, 90.0], abs=0.1)


def test_progress_and_keep_tasks(create: Any, fake: FakeV1) -> None:
    progress: list[CreateProgress] = []
    result = create(
        (task(i) for i in range(25)), chunk_size=10, on_progress=progress.append, keep_tasks=False
    )
    assert [(p.submitted, p.created, p.chunks_done) for p in progress] == [
        (10, 10, 1),
        (20, 20, 2),
        (25, 25, 3),
    ]
    assert result.created == {} and len(result.task_ids) == 25


# -- async mode ---------------------------------------------------------------------------


def test_async_mode_one_operation_per_chunk_same_result_shape(create: Any, fake: FakeV1) -> None:
    bad = {2, 11}
    tasks = [task(i, input_values={"n": i, "bad": 1}) if i in bad else task(i) for i in range(25)]
    result = create(tasks, async_mode=True, skip_invalid_items=True, chunk_size=10)
    posts = fake.post_requests()
    assert len(posts) == 3 and len(result.operations) == 3
    op_ids = [p.url.params["operation_id"] for p in posts]
    assert len(set(op_ids)) == 3 and all(uuid.UUID(i).version == 4 for i in op_ids)
    assert [op.id for op in result.operations] == op_ids
    assert all(op.status == "SUCCESS" for op in result.operations)
    assert result.operations[0].extra == {"brand_new_key": 1}
    assert set(result.errors) == bad
    assert result.task_ids == _ids_by_position(fake)
    assert result.created[24].id == result.task_ids[24]


def test_async_retry_reuses_the_operation_id_and_creates_once(create: Any, fake: FakeV1) -> None:
    fake.faults = [
        "apply_then_timeout",
        httpx.Response(500, json={"code": "INTERNAL_ERROR", "message": "m", "request_id": "r"}),
    ]
    result = create([task(i) for i in range(5)], async_mode=True)
    posts = fake.post_requests()
    assert len(posts) == 3
    assert len({p.url.params["operation_id"] for p in posts}) == 1
    assert len(fake.tasks) == 5 and result.ok


def test_async_conflict_on_known_operation_id_is_recovered(create: Any, fake: FakeV1) -> None:
    fake.conflict_on_duplicate_operation = True
    fake.faults = ["apply_then_timeout"]
    result = create([task(i) for i in range(5)], async_mode=True)
    assert result.ok and len(fake.tasks) == 5


def test_user_operation_id_single_chunk_and_derived_ids(create: Any, fake: FakeV1) -> None:
    user = uuid.uuid4()
    create([task(i) for i in range(5)], async_mode=True, operation_id=str(user))
    assert fake.post_requests()[0].url.params["operation_id"] == str(user)
    fake.requests.clear()
    create([task(i) for i in range(25)], async_mode=True, operation_id=user, chunk_size=10)
    ids = [p.url.params["operation_id"] for p in fake.post_requests()]
    assert ids == [str(uuid.uuid5(user, str(k))) for k in range(3)]
    # A re-run with the same id creates nothing new: the server knows those operations.
    before = len(fake.tasks)
    result = create([task(i) for i in range(25)], async_mode=True, operation_id=user, chunk_size=10)
    assert len(fake.tasks) == before
    assert len(result.task_ids) == 25


def test_async_fail_raises_with_per_position_errors(create: Any, fake: FakeV1) -> None:
    tasks = [task(i, input_values={"bad": 1}) if i == 3 else task(i) for i in range(5)]
    with pytest.raises(tx.OperationFailedError) as err:
        create(tasks, async_mode=True)
    assert isinstance(err.value.obj, tx.Operation) and err.value.obj.status == "FAIL"
    assert set(err.value.partial_result.errors) == {3}
    assert fake.tasks == {}


def test_async_polls_with_backoff(create: Any, fake: FakeV1) -> None:
    fake.polls_until_done = 4
    progress: list[CreateProgress] = []
    create(
        [task(i) for i in range(3)],
        async_mode=True,
        on_progress=progress.append,
        poll_policy=tx.PollPolicy(interval=1, backoff_factor=2, max_interval=3, timeout=None),
    )
    assert create.sleeps == [1, 2, 3]
    statuses = [p.operation.status for p in progress if p.operation is not None]
    assert statuses[:4] == ["RUNNING", "RUNNING", "RUNNING", "SUCCESS"]


def test_async_log_matched_by_content_when_order_differs(create: Any, fake: FakeV1) -> None:
    fake.log_order_reversed = True
    result = create(
        [task(i, input_values={"n": i, "bad": 1}) if i == 1 else task(i) for i in range(6)],
        async_mode=True,
        skip_invalid_items=True,
    )
    assert set(result.errors) == {1}
    assert result.task_ids == _ids_by_position(fake)


def test_async_open_pool_only_last_and_after_everything_finished(create: Any, fake: FakeV1) -> None:
    finished_before_open: list[bool] = []
    original = fake.handler

    def spy(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.params.get("open_pool") == "true":
            finished_before_open.append(
                all(op["status"] in ("SUCCESS", "FAIL") for op in fake.operations.values())
            )
        return original(request)

    fake.handler = spy  # type: ignore[method-assign]
    fake.polls_until_done = 2
    create((task(i) for i in range(50)), async_mode=True, open_pool=True, chunk_size=10)
    opens = [p.url.params.get("open_pool") for p in fake.post_requests()]
    assert opens == [None] * 4 + ["true"]
    assert finished_before_open == [True]


def test_async_unreachable_marks_chunk_unknown(create: Any, fake: FakeV1) -> None:
    fake.faults = ["none", "apply_then_timeout", "apply_then_timeout"]
    original = fake.handler

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and len(fake.post_requests()) >= 2:
            raise httpx.ConnectError("down")
        return original(request)

    fake.handler = flaky  # type: ignore[method-assign]
    with pytest.raises(tx.APIConnectionError) as err:
        create(
            [task(i) for i in range(20)],
            async_mode=True,
            chunk_size=10,
            client_kwargs={"max_retries": 1},
        )
    partial = err.value.partial_result
    assert range(10, 20) in partial.unknown


# -- single task --------------------------------------------------------------------------


def test_create_task_returns_the_task(twin: Any, fake: FakeV1) -> None:
    created = twin.create_task(task(1), allow_defaults=True, open_pool=True)
    assert created.id in fake.tasks
    assert dict(fake.requests[0].url.params) == {"allow_defaults": "true", "open_pool": "true"}
    assert created.created is not None and created.created.tzinfo is not None


def test_create_task_lost_answer_raises_outcome_unknown(twin: Any, fake: FakeV1) -> None:
    fake.faults = ["apply_then_timeout"]
    with pytest.raises(tx.OutcomeUnknownError):
        twin.create_task(task(1))
    assert len(fake.post_requests()) == 1


@pytest.mark.anyio
async def test_async_client_single_and_async_iterable(
    aclient: AsyncTasksClient, fake: FakeV1
) -> None:
    created = await aclient.create_task(task(1))
    assert created.id in fake.tasks

    async def agen() -> Any:
        for i in range(12):
            yield task(i)

    result = await aclient.create_tasks(agen(), chunk_size=5)
    assert result.ok and sorted(result.task_ids) == list(range(12))
    assert len(fake.post_requests()) == 1 + 3


def test_operation_helpers(twin: Any, fake: FakeV1) -> None:
    result = twin.create_tasks([task(0)], async_mode=True)
    op_id = result.operations[0].id
    assert twin.get_operation(op_id).status == "SUCCESS"
    assert [i.type for i in twin.get_operation_log(op_id)] == ["TASK_CREATE"]
    with pytest.raises(tx.NotFoundError):
        twin.get_operation("missing")


def test_poll_timeout_reports_the_chunk_as_unknown(twin: Any, fake: FakeV1) -> None:
    fake.polls_until_done = 10**6
    with pytest.raises(tx.PollTimeoutError) as err:
        twin.create_tasks([task(0), task(1)], async_mode=True, poll_policy=tx.PollPolicy(timeout=0))
    assert err.value.obj.status == "RUNNING"
    assert err.value.partial_result.unknown == [range(2)]


def test_repr_redacts_token(client: TasksClient) -> None:
    assert "secret-token-value" not in repr(client)
    assert "OAuth" in repr(client)


def test_sandbox_and_env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOLOKA_OAUTH_TOKEN", raising=False)
    monkeypatch.setenv("TOLOKA_API_KEY", "env-key")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={"id": "op", "status": "RUNNING", "type": "T", "submitted": "2026-11-23T10:15:00"},
        )

    with TasksClient(sandbox=True, transport=httpx.MockTransport(handler)) as c:
        c.get_operation("op")
    assert str(seen[0].url) == "https://sandbox.toloka.dev/api/v1/operations/op"
    assert seen[0].headers["Authorization"] == "ApiKey env-key"
    monkeypatch.delenv("TOLOKA_API_KEY")
    with pytest.raises(tx.ConfigurationError, match="TOLOKA_OAUTH_TOKEN"):
        TasksClient()


_ = ano_sleep


def test_unreadable_sync_answer_is_drift_and_its_chunk_unknown(create: Any, fake: FakeV1) -> None:
    fake.faults = ["none", httpx.Response(201, content=b"<html>proxy page</html>")]
    with pytest.raises(tx.ApiDriftError) as err:
        create((task(i) for i in range(30)), chunk_size=10)
    assert err.value.operation == "createTasks"
    partial = err.value.partial_result
    assert sorted(partial.task_ids) == list(range(10))
    assert partial.unknown == [range(10, 20)]


# -- gateway errors (502/504): the API behind the gateway may have applied the request --


def _gateway(code: int) -> httpx.Response:
    return httpx.Response(code, text="<html>gateway timeout</html>")


@pytest.mark.parametrize("code", [502, 504])
def test_sync_chunk_answered_by_a_gateway_is_unknown_not_resent(
    create: Any, fake: FakeV1, code: int
) -> None:
    original = fake.handler

    def applied_then_gateway(request: httpx.Request) -> httpx.Response:
        response = original(request)
        if request.method == "POST" and len(fake.post_requests()) == 2:
            return _gateway(code)  # the API created the chunk; the gateway gave up waiting
        return response

    fake.handler = applied_then_gateway  # type: ignore[method-assign]
    result = create((task(i) for i in range(30)), chunk_size=10)
    assert len(fake.post_requests()) == 3  # the second chunk was not sent twice
    assert len(fake.tasks) == 30  # ... so nothing was created twice
    assert result.unknown == [range(10, 20)]
    assert sorted(result.task_ids) == list(range(10)) + list(range(20, 30))
    assert create.sleeps == []


@pytest.mark.parametrize("code", [502, 504])
def test_async_chunk_answered_by_a_gateway_is_resent_with_its_operation_id(
    create: Any, fake: FakeV1, code: int
) -> None:
    original = fake.handler

    def applied_then_gateway(request: httpx.Request) -> httpx.Response:
        response = original(request)
        if request.method == "POST" and len(fake.post_requests()) == 1:
            return _gateway(code)
        return response

    fake.handler = applied_then_gateway  # type: ignore[method-assign]
    result = create([task(i) for i in range(5)], async_mode=True)
    posts = fake.post_requests()
    assert len(posts) == 2
    assert len({p.url.params["operation_id"] for p in posts}) == 1
    assert len(fake.tasks) == 5 and result.ok


@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("code", [502, 504])
def test_create_task_answered_by_a_gateway_raises_outcome_unknown(
    fake: FakeV1, kind: str, code: int
) -> None:
    fake.faults = [_gateway(code)]
    kwargs: dict[str, Any] = {
        "oauth_token": "secret-token-value",
        "base_url": BASE,
        "transport": httpx.MockTransport(fake.handler),
    }
    with pytest.raises(tx.OutcomeUnknownError) as err:
        if kind == "sync":
            with TasksClient(**kwargs) as client:
                client.create_task(task(1))
        else:

            async def go() -> None:
                async with AsyncTasksClient(**kwargs) as client:
                    await client.create_task(task(1))

            anyio.run(go)
    assert err.value.status_code == code
    assert len(fake.post_requests()) == 1


# -- twin parity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "__init__",
        "create_task",
        "create_tasks",
        "get_operation",
        "get_operation_log",
        "wait_operation",
    ],
)
def test_async_twin_takes_the_same_options(name: str) -> None:
    import inspect

    def shape(cls: type) -> list[tuple[str, Any, Any]]:
        sig = inspect.signature(getattr(cls, name))
        return [(p.name, p.kind, p.default) for p in sig.parameters.values()]

    sync, async_ = shape(TasksClient), shape(AsyncTasksClient)
    if name == "__init__":  # only the default sleep differs (time.sleep / anyio.sleep)
        sync = [s for s in sync if s[0] != "sleep"]
        async_ = [a for a in async_ if a[0] != "sleep"]
    assert sync == async_
    public = {n for n in dir(TasksClient) if not n.startswith("_")} - {"close"}
    assert public == {n for n in dir(AsyncTasksClient) if not n.startswith("_")} - {"aclose"}


# -- the client-side daily budget: an error, not a day-long sleep ------------------------


def test_client_side_daily_budget_is_an_error_not_a_sleep(create: Any, fake: FakeV1) -> None:
    limits = {"tasks_per_day": 10, "tasks_per_minute": None, "requests_per_second": None}
    with pytest.raises(tx.QuotaExceededError) as err:
        create((task(i) for i in range(25)), chunk_size=5, client_kwargs=limits)
    assert create.sleeps == []
    assert len(fake.post_requests()) == 2 and len(fake.tasks) == 10
    assert "tasks_per_day=10" in str(err.value) and "wait_for_quota" in str(err.value)
    assert err.value.payload == {"interval": "DAY", "client_side": True}
    partial = err.value.partial_result
    assert sorted(partial.task_ids) == list(range(10)) and partial.unknown == []


@pytest.mark.parametrize("where", ["call", "client"])
def test_client_side_daily_budget_waits_when_asked(create: Any, fake: FakeV1, where: str) -> None:
    limits: dict[str, Any] = {"tasks_per_day": 10, "tasks_per_minute": None}
    options: dict[str, Any] = {"chunk_size": 5}
    if where == "call":
        options["wait_for_quota"] = True
    else:
        limits["wait_for_quota"] = True
    result = create((task(i) for i in range(15)), client_kwargs=limits, **options)
    assert result.ok and len(fake.tasks) == 15
    # 5 tasks short at 10 tasks/day: 12 hours (the test's sleep does not move the clock).
    assert create.sleeps == pytest.approx([43_200.0], rel=1e-3)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_create_task_respects_the_daily_budget(fake: FakeV1, kind: str) -> None:
    kwargs: dict[str, Any] = {
        "oauth_token": "t",
        "base_url": BASE,
        "transport": httpx.MockTransport(fake.handler),
        "tasks_per_day": 1,
    }

    if kind == "sync":
        with TasksClient(**kwargs) as client:
            client.create_task(task(0))
            with pytest.raises(tx.QuotaExceededError):
                client.create_task(task(1))
    else:

        async def go() -> None:
            async with AsyncTasksClient(**kwargs) as client:
                await client.create_task(task(0))
                with pytest.raises(tx.QuotaExceededError):
                    await client.create_task(task(1))

        anyio.run(go)
    assert len(fake.post_requests()) == 1


# -- async mode: an error while submitting still waits for the operations under way -----


def test_async_bad_input_later_waits_for_started_operations(create: Any, fake: FakeV1) -> None:
    def gen() -> Iterator[dict[str, Any]]:
        for i in range(40):
            yield task(i) if i != 35 else {"pool_id": "42", "input_values": {}, "overlap": 0}

    with pytest.raises(tx.InvalidInputError) as err:
        create(gen(), async_mode=True, chunk_size=10)
    partial = err.value.partial_result
    assert (err.value.position, err.value.field) == (35, "overlap")
    assert len(fake.post_requests()) == 3  # chunks 0-2 were submitted; chunk 3 never
    assert sorted(partial.task_ids) == list(range(30))  # ... and all their results are known
    assert partial.unknown == []
    assert [op.status for op in partial.operations] == ["SUCCESS"] * 3


def test_async_daily_quota_waits_for_started_operations(create: Any, fake: FakeV1) -> None:
    quota = httpx.Response(
        429,
        json={"code": "TOO_MANY_REQUESTS", "message": "m", "payload": {"interval": "DAY"}},
    )
    fake.faults = ["none", "none", quota]
    with pytest.raises(tx.QuotaExceededError) as err:
        create((task(i) for i in range(40)), async_mode=True, chunk_size=10)
    partial = err.value.partial_result
    assert sorted(partial.task_ids) == list(range(20)) and partial.unknown == []
    assert len(fake.tasks) == 20


def test_async_mode_consumes_a_generator_lazily(create: Any, fake: FakeV1) -> None:
    produced = 0

    def gen() -> Iterator[dict[str, Any]]:
        nonlocal produced
        for i in range(200):
            produced += 1
            yield task(i)

    consumed_at_post: list[int] = []
    original = fake.handler

    def spy(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            consumed_at_post.append(produced)
        return original(request)

    fake.handler = spy  # type: ignore[method-assign]
    result = create(gen(), async_mode=True, chunk_size=10)
    assert result.ok and len(result.task_ids) == 200
    # When chunk k is submitted, only chunks k and k+1 (the look-ahead) have been pulled.
    assert consumed_at_post == [min(10 * (k + 2), 200) for k in range(20)]


def test_async_unreadable_log_marks_its_chunk_unknown(create: Any, fake: FakeV1) -> None:
    original = fake.handler

    def log_down(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/log") and len(fake.post_requests()) >= 2:
            return httpx.Response(500, json={"code": "INTERNAL_ERROR", "message": "m"})
        return original(request)

    fake.handler = log_down  # type: ignore[method-assign]
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
    assert len(fake.tasks) == 20


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_timeouts_are_configurable(fake: FakeV1, kind: str) -> None:
    kwargs: dict[str, Any] = {
        "oauth_token": "t",
        "base_url": BASE,
        "transport": httpx.MockTransport(fake.handler),
        "timeout": httpx.Timeout(7.0, connect=2.0),
    }
    if kind == "sync":
        with TasksClient(**kwargs) as client:
            client.create_tasks([task(0)])
            with pytest.raises(tx.NotFoundError):
                client.api.request("GET", "/operations/x", timeout=1.5)
    else:

        async def go() -> None:
            async with AsyncTasksClient(**kwargs) as client:
                await client.create_tasks([task(0)])
                with pytest.raises(tx.NotFoundError):
                    await client.api.request("GET", "/operations/x", timeout=1.5)

        anyio.run(go)
    default, per_call = (r.extensions["timeout"] for r in fake.requests)
    assert default == {"connect": 2.0, "read": 7.0, "write": 7.0, "pool": 7.0}
    assert per_call == {"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5}


@pytest.mark.parametrize("async_mode", [False, True], ids=["sync-mode", "async-mode"])
def test_async_iterable_is_consumed_lazily(fake: FakeV1, async_mode: bool) -> None:
    produced = 0

    async def agen() -> Any:
        nonlocal produced
        for i in range(50):
            produced += 1
            yield task(i)

    consumed_at_post: list[int] = []
    original = fake.handler

    def spy(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            consumed_at_post.append(produced)
        return original(request)

    async def go() -> Any:
        async with AsyncTasksClient(
            oauth_token="t",
            base_url=BASE,
            transport=httpx.MockTransport(spy),
            sleep=ano_sleep,
            poll_policy=FAST_POLL,
        ) as client:
            return await client.create_tasks(agen(), chunk_size=10, async_mode=async_mode)

    result = anyio.run(go)
    assert result.ok and len(result.task_ids) == 50
    assert consumed_at_post == [20, 30, 40, 50, 50]
