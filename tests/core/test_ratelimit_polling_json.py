from __future__ import annotations

import math

import pytest

from toloka_ext import OperationFailedError, PollPolicy, PollTimeoutError
from toloka_ext._json import dumps, find_non_json
from toloka_ext._polling import apoll_until, decide, poll_until
from toloka_ext._ratelimit import RateLimiter, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.now += seconds


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


def test_limiter_sleeps_the_longest_wait_of_its_buckets() -> None:
    clock = FakeClock()
    limiter = RateLimiter(
        TokenBucket(1, clock=clock), TokenBucket(100, clock=clock), sleep=clock.sleep
    )
    start = clock.now
    for _ in range(5):
        limiter.acquire()
    assert clock.now - start == pytest.approx(4.0)


def test_bucket_rejects_bad_config() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)
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
        (
            {"done": False, "failed": False, "attempt": 3, "elapsed": 0.0, "hint": 0.25},
            "wait",
            0.25,
        ),
    ],
    ids=["done", "failed-wins", "first", "backoff", "capped", "cut-to-deadline", "timeout", "hint"],
)
def test_decide(kwargs: dict[str, object], action: str, delay: float) -> None:
    policy = PollPolicy(interval=1.0, max_interval=10.0, backoff_factor=2.0, timeout=60.0)
    decision = decide(policy=policy, **kwargs)  # type: ignore[arg-type]
    assert (decision.action, decision.delay) == (action, delay)


def _states(*values: str) -> object:
    it = iter(values)
    return lambda: next(it)


def test_poll_until_done_with_backoff_and_progress() -> None:
    clock = FakeClock()
    seen: list[str] = []
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        clock.sleep(s)

    result = poll_until(
        _states("PENDING", "RUNNING", "RUNNING", "SUCCESS"),  # type: ignore[arg-type]
        is_done=lambda s: s == "SUCCESS",
        is_failed=lambda s: s == "FAIL",
        policy=PollPolicy(interval=1, backoff_factor=2, max_interval=3, timeout=None),
        on_progress=seen.append,
        sleep=sleep,
        clock=clock,
    )
    assert result == "SUCCESS"
    assert seen == ["PENDING", "RUNNING", "RUNNING", "SUCCESS"]
    assert slept == [1, 2, 3]


def test_poll_until_failed_and_timeout() -> None:
    clock = FakeClock()
    with pytest.raises(OperationFailedError) as failed:
        poll_until(
            _states("RUNNING", "FAIL"),  # type: ignore[arg-type]
            is_done=lambda s: s == "SUCCESS",
            is_failed=lambda s: s == "FAIL",
            sleep=clock.sleep,
            clock=clock,
        )
    assert failed.value.obj == "FAIL"
    with pytest.raises(PollTimeoutError) as timed_out:
        poll_until(
            lambda: "RUNNING",
            is_done=lambda s: False,
            is_failed=lambda s: False,
            policy=PollPolicy(interval=4, timeout=10),
            sleep=clock.sleep,
            clock=clock,
        )
    assert timed_out.value.obj == "RUNNING"
    assert timed_out.value.elapsed == pytest.approx(10.0)


@pytest.mark.anyio
async def test_apoll_until() -> None:
    clock = FakeClock()
    states = iter(["PENDING", "SUCCESS"])

    async def fetch() -> str:
        return next(states)

    assert (
        await apoll_until(
            fetch,
            is_done=lambda s: s == "SUCCESS",
            is_failed=lambda s: False,
            sleep=clock.asleep,
            clock=clock,
        )
        == "SUCCESS"
    )
    with pytest.raises(OperationFailedError):

        async def failing() -> str:
            return "FAIL"

        await apoll_until(failing, is_done=lambda s: False, is_failed=lambda s: True, clock=clock)


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
