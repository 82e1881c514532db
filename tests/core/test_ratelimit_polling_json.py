"""Token buckets (pure time math), the poll decision and loop, and JSON checks.

The buckets never sleep: the core's retry loop sleeps what a bucket says. The poll loop
lives in ``toloka_ext._sync._polling`` / ``toloka_ext._async._polling`` and takes the
client's core (for its ``sleep`` and ``clock``) and a ``failure`` factory.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from toloka_ext import (
    AsyncToloka,
    OperationFailedError,
    PollPolicy,
    PollTimeoutError,
    QuotaExceededError,
    RunFailedError,
    Toloka,
)
from toloka_ext._async._core import AsyncCore
from toloka_ext._async._core import send_with_retries as async_send_with_retries
from toloka_ext._async._polling import poll_until as apoll_until
from toloka_ext._json import dumps, find_non_json
from toloka_ext._polling import choose_policy, decide
from toloka_ext._ratelimit import DailyBudget, TokenBucket
from toloka_ext._retry import RetryPolicy
from toloka_ext._sync._core import Core, send_with_retries
from toloka_ext._sync._polling import poll_until
from toloka_ext._types import NOT_GIVEN
from toloka_ext.types import Run, RunStatus

from ._stubs import FakeClock, Script, ok


def test_token_bucket_burst_then_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock)  # 10/s, burst 10
    assert [bucket.reserve() for _ in range(10)] == [0.0] * 10
    assert bucket.reserve() == pytest.approx(0.1)
    assert bucket.reserve() == pytest.approx(0.2)
    clock.now += 0.2
    assert bucket.available == pytest.approx(0.0)
    clock.now += 100
    assert bucket.available == pytest.approx(10.0)  # never above capacity


def test_per_minute_bucket_allows_a_minute_then_paces() -> None:
    clock = FakeClock()
    bucket = TokenBucket.per_minute(200_000, clock=clock)
    assert bucket.reserve(200_000) == 0.0
    # the next 5000 tasks need 5000 / (200000/60) = 1.5 s
    assert bucket.reserve(5000) == pytest.approx(1.5)


def test_core_loop_sleeps_what_its_bucket_says() -> None:
    """RateLimiter is gone: the retry loop reserves a token and sleeps the wait itself."""
    clock = FakeClock()
    script = Script(ok())
    send = httpx.MockTransport(script).handle_request
    bucket = TokenBucket(1, clock=clock)  # 1/s, burst 1
    start = clock.now
    for _ in range(5):
        request = httpx.Request("GET", "https://api.example.test/x")
        send_with_retries(send, request, RetryPolicy(0), sleep=clock.sleep, bucket=bucket)
    assert clock.now - start == pytest.approx(4.0)
    assert len(script.requests) == 5


@pytest.mark.anyio
async def test_async_core_loop_sleeps_what_its_bucket_says() -> None:
    clock = FakeClock()
    script = Script(ok())
    send = httpx.MockTransport(script).handle_async_request
    bucket = TokenBucket(2, clock=clock)  # 2/s, burst 2
    start = clock.now
    for _ in range(6):
        request = httpx.Request("GET", "https://api.example.test/x")
        await async_send_with_retries(
            send, request, RetryPolicy(0), sleep=clock.asleep, bucket=bucket
        )
    assert clock.now - start == pytest.approx(2.0)
    assert len(script.requests) == 6


def test_bucket_refund_gives_tokens_back_up_to_capacity() -> None:
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock)
    assert bucket.reserve(15) == pytest.approx(0.5)
    bucket.refund(15)
    assert bucket.available == pytest.approx(10.0)
    bucket.refund(100)
    assert bucket.available == pytest.approx(10.0)
    with pytest.raises(ValueError):
        bucket.refund(-1)


def test_daily_budget_raises_and_takes_nothing_unless_waiting() -> None:
    budget = DailyBudget(100, url="https://toloka.dev/api/v1/tasks")
    assert budget.take(100, wait=False) == 0.0
    with pytest.raises(QuotaExceededError) as err:
        budget.take(10, wait=False)
    assert err.value.status_code == 429
    assert err.value.payload == {"interval": "DAY", "client_side": True}
    assert "tasks_per_day=100" in str(err.value) and "wait_for_quota" in str(err.value)
    # nothing was taken by the refused call: one day's 86400 s / 100 tasks = 864 s per task
    assert budget.take(1, wait=True) == pytest.approx(864.0, rel=0.01)
    assert DailyBudget(None, url="u").take(10**9, wait=False) == 0.0
    assert budget.take(0, wait=False) == 0.0


def test_bucket_rejects_bad_config() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(1, 0)
    with pytest.raises(ValueError):
        TokenBucket(1).reserve(-1)


@pytest.mark.parametrize(
    ("kwargs", "action", "delay"),
    [
        ({"done": True, "failed": False, "attempt": 0, "elapsed": 0.0}, "done", 0.0),
        ({"done": True, "failed": True, "attempt": 0, "elapsed": 0.0}, "failed", 0.0),
        ({"done": False, "failed": False, "attempt": 0, "elapsed": 0.0}, "wait", 1.0),
        ({"done": False, "failed": False, "attempt": 2, "elapsed": 0.0}, "wait", 4.0),
        ({"done": False, "failed": False, "attempt": 9, "elapsed": 0.0}, "wait", 10.0),
        ({"done": False, "failed": False, "attempt": 3, "elapsed": 58.0}, "wait", 2.0),
        ({"done": False, "failed": False, "attempt": 3, "elapsed": 60.0}, "timeout", 0.0),
    ],
    ids=["done", "failed-wins", "first", "backoff", "capped", "cut-to-deadline", "timeout"],
)
def test_decide(kwargs: dict[str, object], action: str, delay: float) -> None:
    policy = PollPolicy(interval=1.0, max_interval=10.0, backoff_factor=2.0, timeout=60.0)
    decision = decide(policy=policy, **kwargs)  # type: ignore[arg-type]
    assert (decision.action, decision.delay) == (action, delay)


def test_choose_policy() -> None:
    default = PollPolicy(interval=1, timeout=60)
    mine = PollPolicy(interval=2, timeout=30)
    assert choose_policy(default, None, NOT_GIVEN) is default
    assert choose_policy(default, mine, NOT_GIVEN) is mine
    assert choose_policy(default, mine, 5) == PollPolicy(interval=2, timeout=5.0)
    assert choose_policy(default, None, None).timeout is None  # wait forever


@pytest.mark.parametrize(
    "kwargs",
    [{"interval": -1}, {"max_interval": -1}, {"backoff_factor": 0.5}, {"timeout": -1}],
    ids=str,
)
def test_poll_policy_rejects_bad_values(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        PollPolicy(**kwargs)


def _states(*values: str) -> object:
    it = iter(values)
    return lambda: next(it)


def _no_requests(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"polling a fake fetch sent {request.method} {request.url}")


def _failed(state: str) -> OperationFailedError:
    return OperationFailedError(f"ended {state}", obj=state, reason="it broke")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def core(clock: FakeClock) -> Iterator[Core]:
    """The sync client's core: poll_until sleeps with its ``sleep`` and reads its ``clock``."""
    with Toloka(
        api_key="k",
        transport=httpx.MockTransport(_no_requests),
        sleep=clock.sleep,
        clock=clock,
    ) as client:
        yield client._core


@pytest.fixture
async def acore(clock: FakeClock) -> AsyncIterator[AsyncCore]:
    async with AsyncToloka(
        api_key="k",
        transport=httpx.MockTransport(_no_requests),
        sleep=clock.asleep,
        clock=clock,
    ) as client:
        yield client._core


def test_poll_until_done_with_backoff_and_progress(core: Core, clock: FakeClock) -> None:
    seen: list[str] = []
    result = poll_until(
        core,
        _states("PENDING", "RUNNING", "RUNNING", "SUCCESS"),  # type: ignore[arg-type]
        is_done=lambda s: s == "SUCCESS",
        is_failed=lambda s: s == "FAIL",
        failure=_failed,
        policy=PollPolicy(interval=1, backoff_factor=2, max_interval=3, timeout=None),
        on_progress=seen.append,
    )
    assert result == "SUCCESS"
    assert seen == ["PENDING", "RUNNING", "RUNNING", "SUCCESS"]
    assert clock.slept == [1, 2, 3]
    assert clock.now == pytest.approx(1006.0)


def test_poll_until_failed_and_timeout(core: Core, clock: FakeClock) -> None:
    with pytest.raises(OperationFailedError) as failed:
        poll_until(
            core,
            _states("RUNNING", "FAIL"),  # type: ignore[arg-type]
            is_done=lambda s: s == "SUCCESS",
            is_failed=lambda s: s == "FAIL",
            failure=_failed,
            policy=PollPolicy(),
        )
    assert failed.value.obj == "FAIL"
    assert failed.value.reason == "it broke" and str(failed.value) == "ended FAIL"
    with pytest.raises(PollTimeoutError) as timed_out:
        poll_until(
            core,
            lambda: "RUNNING",
            is_done=lambda s: False,
            is_failed=lambda s: False,
            failure=_failed,
            policy=PollPolicy(interval=4, timeout=10),
        )
    assert timed_out.value.obj == "RUNNING"
    assert timed_out.value.elapsed == pytest.approx(10.0)


def test_poll_until_raises_what_the_failure_factory_builds(core: Core) -> None:
    """A failed state is checked before done, and the factory picks the error class."""
    run = Run(id="run-1", status=RunStatus.FAILED)
    with pytest.raises(RunFailedError) as err:
        poll_until(
            core,
            lambda: run,
            is_done=lambda r: True,
            is_failed=lambda r: r.status == RunStatus.FAILED,
            failure=RunFailedError,
            policy=PollPolicy(),
        )
    assert err.value.run is run


@pytest.mark.anyio
async def test_apoll_until(acore: AsyncCore, clock: FakeClock) -> None:
    states = iter(["PENDING", "SUCCESS"])
    seen: list[str] = []

    async def fetch() -> str:
        return next(states)

    assert (
        await apoll_until(
            acore,
            fetch,
            is_done=lambda s: s == "SUCCESS",
            is_failed=lambda s: False,
            failure=_failed,
            policy=PollPolicy(interval=2.5, timeout=None),
            on_progress=seen.append,
        )
        == "SUCCESS"
    )
    assert seen == ["PENDING", "SUCCESS"]
    assert clock.slept == [2.5]  # slept through the core's sleep
    with pytest.raises(OperationFailedError) as failed:

        async def failing() -> str:
            return "FAIL"

        await apoll_until(
            acore,
            failing,
            is_done=lambda s: False,
            is_failed=lambda s: True,
            failure=_failed,
            policy=PollPolicy(),
        )
    assert failed.value.obj == "FAIL"
    with pytest.raises(PollTimeoutError) as timed_out:

        async def running() -> str:
            return "RUNNING"

        await apoll_until(
            acore,
            running,
            is_done=lambda s: False,
            is_failed=lambda s: False,
            failure=_failed,
            policy=PollPolicy(interval=4, timeout=10),
        )
    assert timed_out.value.elapsed == pytest.approx(10.0)


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"a": [1, 2, {"b": math.nan}]}, "a[2].b"),
        ({"a": math.inf}, "a"),
        ({"a": {1, 2}}, "a"),
        ({"a": object()}, "a"),
        ({"a": b"bytes"}, "a"),
        ({"a": {1: "int key"}}, "a"),
        ([1, -math.inf], "[1]"),
    ],
    ids=["nan", "inf", "set", "object", "bytes", "int-key", "top-list"],
)
def test_find_non_json(value: object, path: str) -> None:
    found = find_non_json(value)
    assert found is not None and found[0] == path


def test_json_ok_values_pass_and_dump_compactly() -> None:
    value = {"s": "é", "i": 1, "f": 1.5, "b": True, "n": None, "l": [1, (2, 3)], "d": {}}
    assert find_non_json(value) is None
    assert dumps({"a": [1, 2]}) == b'{"a":[1,2]}'
    with pytest.raises(ValueError):
        dumps({"a": math.nan})
