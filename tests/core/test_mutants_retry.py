"""Retry decisions that mutation testing found untested (docs/mutation.md).

Each test states what a user sees: how long the client waits before re-sending, that a wait
for a quota never ends before the quota is back, what an error names. Through the client
against the sandbox where the sandbox can script the answer, through the pure functions of
``toloka_ext._retry`` / ``_ratelimit`` where a frozen clock or a pinned random draw is needed.
"""

from __future__ import annotations

import calendar
import email.utils
import logging
import math
import time

import httpx
import pytest

import toloka_ext as tx
from toloka_ext._ratelimit import DailyBudget, TokenBucket
from toloka_ext._retry import (
    Deadline,
    RetryPolicy,
    parse_retry_after,
    quota_interval,
    retry_delay,
    seconds_until_interval_reset,
    transport_error,
)
from toloka_ext.testing import Fault, FaultConfig, Sandbox

from ._stubs import FakeClock, Sleeps

NOW = float(calendar.timegm((2026, 11, 23, 10, 15, 30)))  # 10:15:30 UTC: 30 s to the minute
TASK = {"pool_id": "1", "input_values": {"image": "https://x/1.jpg"}, "overlap": 1}
URL = "https://api.example.test/api/v1/tasks?sig=SIGNATURE"


def _sandbox(*faults: Fault) -> Sandbox:
    return Sandbox(faults=FaultConfig(faults=list(faults)))


def _create_once(sandbox: Sandbox, **options: object) -> Sleeps:
    """Create one task through a client that records its waits instead of sleeping."""
    sleeps = Sleeps()
    with sandbox.client(sleep=sleeps, **options) as client:
        task = client.tasks.create_task(TASK)
    assert task.id and len(sandbox.tasks()) == 1
    return sleeps


def _first(**fault: object) -> Fault:
    return Fault("status", route="createTasks", on_nth=(1,), **fault)  # type: ignore[arg-type]


# ------------------------------------------------------------------ how long the client waits


def test_a_retry_after_is_obeyed_to_the_second() -> None:
    assert _create_once(_sandbox(_first(status=429, retry_after=7))) == [7.0]


def test_a_retry_after_of_exactly_the_cap_is_still_waited_for() -> None:
    # 120 s is the longest wait taken without wait_for_quota: the client waits, then re-sends
    # (given a call_timeout that leaves room for it).
    sandbox = _sandbox(_first(status=429, retry_after=120))
    assert _create_once(sandbox, call_timeout=600) == [120.0]


def test_a_retry_after_date_is_read_against_the_wall_clock() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    (waited,) = _create_once(_sandbox(_first(status=429, headers={"Retry-After": when})))
    assert 27.0 <= waited <= 30.0


@pytest.mark.parametrize("ms", ["-5000", "soon", "nan", "inf", "-inf", ""])
def test_an_unusable_retry_after_ms_falls_back_to_retry_after(ms: str) -> None:
    fault = _first(status=429, retry_after=3, headers={"retry-after-ms": ms})
    assert _create_once(_sandbox(fault)) == [3.0]


@pytest.mark.parametrize(("ms", "seconds"), [("0", 0.0), ("500", 0.5), ("1500", 1.5)])
def test_a_usable_retry_after_ms_wins_over_retry_after(ms: str, seconds: float) -> None:
    fault = _first(status=429, retry_after=3, headers={"retry-after-ms": ms})
    assert sum(_create_once(_sandbox(fault))) == seconds  # a zero wait is no sleep at all


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "-1500"}, None),
        ({"retry-after-ms": "-1500", "Retry-After": "2"}, 2.0),
        ({"retry-after-ms": "later"}, None),
        ({"retry-after-ms": "later", "Retry-After": "2"}, 2.0),
        ({"retry-after-ms": "NaN", "Retry-After": "2"}, 2.0),
        ({"retry-after-ms": "0"}, 0.0),
        ({"retry-after-ms": "250"}, 0.25),
    ],
    ids=[
        "negative",
        "negative-then-header",
        "malformed",
        "malformed-then-header",
        "nan",
        "0",
        "250",
    ],
)
def test_parse_retry_after_ms_is_never_negative_nor_an_error(
    headers: dict[str, str], expected: float | None
) -> None:
    assert parse_retry_after(httpx.Headers(headers), now=NOW) == expected


def test_a_retry_after_date_with_a_frozen_now() -> None:
    date = email.utils.formatdate(NOW + 42, usegmt=True)
    response = httpx.Response(503, headers={"Retry-After": date})
    assert retry_delay(0, response=response, now=NOW, rand=lambda: 0.0) == 42.0


def test_backoff_uses_the_given_initial_and_maximum() -> None:
    response = httpx.Response(500)
    delays = [
        retry_delay(n, response=response, initial=0.1, maximum=0.3, rand=lambda: 1.0)
        for n in range(4)
    ]
    assert delays == pytest.approx([0.1, 0.2, 0.3, 0.3])


# ----------------------------------------------------------- a quota wait ends after the reset


MIN_429 = httpx.Response(429, json={"code": "TOO_MANY_REQUESTS", "payload": {"interval": "MIN"}})


@pytest.mark.parametrize("draw", [0.0, 0.25, 0.5, 0.999])
def test_a_minute_quota_wait_ends_after_the_reset_with_at_most_a_second_of_jitter(
    draw: float,
) -> None:
    delay = retry_delay(0, response=MIN_429, now=NOW, rand=lambda: draw)
    assert NOW + delay >= NOW + 30.0  # never before the minute is over
    assert delay == pytest.approx(30.0 + draw)  # jitter of at most 1 s, even with a long maximum


def test_a_minute_quota_wait_jitter_is_capped_by_a_shorter_maximum() -> None:
    delay = retry_delay(0, response=MIN_429, now=NOW, maximum=0.5, rand=lambda: 1.0)
    assert delay == pytest.approx(30.5)


def _next_midnight(moment: float) -> float:
    return (math.floor(moment / 86400) + 1) * 86400.0


def test_waiting_for_a_daily_quota_ends_after_midnight_utc() -> None:
    day = _first(status=429, payload={"interval": "DAY"})
    before = time.time()
    (waited,) = _create_once(_sandbox(day), wait_for_quota=True)
    after = time.time()
    # The wait ends a second after the quota is back, never before it.
    assert before + waited >= _next_midnight(after) + 0.5
    assert after + waited <= _next_midnight(before) + 1.0 + 0.5


def test_a_daily_quota_is_an_error_without_wait_for_quota() -> None:
    sandbox = _sandbox(_first(status=429, payload={"interval": "DAY"}))
    with sandbox.client(sleep=Sleeps()) as client, pytest.raises(tx.QuotaExceededError):
        client.tasks.create_task(TASK)
    assert sandbox.tasks() == []


@pytest.mark.parametrize("name", ["MIN", "min", "MINUTE", "minute"])
def test_every_spelling_of_a_minute_resets_at_the_next_minute(name: str) -> None:
    assert seconds_until_interval_reset(name, now=NOW) == 30.0


@pytest.mark.parametrize("interval", [42, None, ["DAY"], {"x": 1}])
def test_an_interval_that_is_not_a_string_is_no_interval(interval: object) -> None:
    response = httpx.Response(429, json={"payload": {"interval": interval}})
    assert quota_interval(response) is None
    assert retry_delay(0, response=response, now=NOW, rand=lambda: 0.5) == pytest.approx(0.25)


# ----------------------------------------------------------------- what errors and logs name


def _req(method: str = "POST") -> httpx.Request:
    return httpx.Request(method, URL)


def test_transport_errors_name_the_failure_and_keep_the_request() -> None:
    request = _req()
    timeout = transport_error(httpx.ReadTimeout("t"), request)
    lost = transport_error(httpx.ReadError("r"), request)
    assert type(timeout) is tx.APITimeoutError and type(lost) is tx.APIConnectionError
    assert str(timeout) == "ReadTimeout on POST https://api.example.test/api/v1/tasks"
    assert str(lost) == "ReadError on POST https://api.example.test/api/v1/tasks"
    assert timeout.request is request and lost.request is request


def test_retry_policy_errors_count_the_attempts_and_name_the_failure() -> None:
    policy = RetryPolicy(max_retries=2)
    timeout = policy.on_error(_req("GET"), httpx.ReadTimeout("t"), 2)
    assert type(timeout) is tx.APITimeoutError
    assert str(timeout) == (
        "ReadTimeout on GET https://api.example.test/api/v1/tasks (after 3 attempts)"
    )
    unknown = policy.on_error(_req("POST"), httpx.WriteError("w"), 0)
    assert type(unknown) is tx.OutcomeUnknownError and unknown.request is not None
    assert str(unknown).startswith("WriteError on POST https://api.example.test/api/v1/tasks: ")
    assert "may have been applied" in str(unknown)


def test_every_retry_logs_one_line_without_the_query(caplog: pytest.LogCaptureFixture) -> None:
    sandbox = _sandbox(_first(status=429, retry_after=2))
    with caplog.at_level(logging.DEBUG, logger="toloka_ext"):
        _create_once(sandbox)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying")]
    assert lines == [
        f"retrying POST {sandbox.v1_base_url}/tasks (retry 1) in 2.00 s after status 429"
    ]


# --------------------------------------------------------------------------- rate budgets


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_with_a_zero_rate_is_refused_even_with_a_capacity() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0, 5)
    with pytest.raises(ValueError):
        TokenBucket(-1, 5)


def test_spending_exactly_what_a_bucket_holds_does_not_wait() -> None:
    clock = Clock()
    bucket = TokenBucket(2, 3, clock=clock)
    assert bucket.reserve(0) == 0.0  # nothing asked, nothing taken
    assert bucket.reserve(2.5) == 0.0  # half a token left
    assert bucket.reserve(0.5) == 0.0  # exactly what is left
    assert bucket.reserve(1) == 0.5  # one token at 2 per second
    bucket.refund(0)
    assert bucket.available == -1.0
    with pytest.raises(ValueError):
        bucket.refund(-0.5)
    with pytest.raises(ValueError):
        bucket.reserve(-0.5)


def test_a_daily_budget_spreads_its_tasks_over_exactly_one_day() -> None:
    budget = DailyBudget(1, url="https://toloka.dev/api/v1/tasks")
    assert budget.take(1, wait=False) == 0.0
    assert budget.take(1, wait=True) == pytest.approx(86400.0, abs=0.5)


def test_a_daily_budget_refuses_even_a_one_second_wait_unless_waiting() -> None:
    budget = DailyBudget(86400, url="https://toloka.dev/api/v1/tasks")  # one task a second
    assert budget.take(86400, wait=False) == 0.0
    with pytest.raises(tx.QuotaExceededError) as info:
        budget.take(1, wait=False)
    err = info.value
    assert err.code == "TOO_MANY_REQUESTS" and err.status_code == 429
    assert err.request is not None and err.request.method == "POST"
    assert str(err.request.url) == "https://toloka.dev/api/v1/tasks"
    assert 0.9 < budget.take(1, wait=True) <= 1.0


# ------------------------------------------------------------------ one deadline for a call


def test_a_retry_that_would_start_at_the_deadline_is_not_waited_for() -> None:
    sandbox = _sandbox(_first(status=429, retry_after=10))
    clock = FakeClock(500.0)
    with (
        sandbox.client(sleep=clock.sleep, clock=clock, call_timeout=10) as client,
        pytest.raises(tx.APITimeoutError) as info,
    ):
        client.tasks.create_task(TASK)
    err = info.value
    assert clock.slept == [] and sandbox.tasks() == []
    assert str(err).startswith(f"POST {sandbox.v1_base_url}/tasks: gave up after 1 attempt(s): ")
    assert "would start after the call's deadline of 10 s (call_timeout)" in str(err)
    assert err.request is not None and err.request.method == "POST"


def test_a_retry_that_starts_before_the_deadline_is_waited_for() -> None:
    sandbox = _sandbox(_first(status=429, retry_after=9))
    clock = FakeClock(500.0)
    with sandbox.client(sleep=clock.sleep, clock=clock, call_timeout=10) as client:
        assert client.tasks.create_task(TASK).id
    assert clock.slept == [9.0]


TIMEOUTS = {"connect": 5.0, "read": 30.0, "write": 30.0, "pool": None}


def test_each_attempt_gets_at_most_what_is_left_of_the_call() -> None:
    clock = FakeClock(500.0)
    deadline = Deadline(20, clock)
    request = httpx.Request("GET", URL, extensions={"timeout": dict(TIMEOUTS)})
    deadline.fit(request, 0)
    assert request.extensions["timeout"] == {
        "connect": 5.0,
        "read": 20.0,
        "write": 20.0,
        "pool": 20.0,
    }
    clock.now += 19.5
    deadline.fit(request, 1)
    assert request.extensions["timeout"] == {"connect": 0.5, "read": 0.5, "write": 0.5, "pool": 0.5}


def test_an_attempt_with_no_time_left_is_not_sent() -> None:
    clock = FakeClock(500.0)
    deadline = Deadline(20, clock)
    request = httpx.Request("GET", URL, extensions={"timeout": dict(TIMEOUTS)})
    clock.now += 19.0
    deadline.fit(request, 0)  # one second left: still worth an attempt
    assert request.extensions["timeout"]["read"] == 1.0
    clock.now += 1.0
    with pytest.raises(tx.APITimeoutError) as info:
        deadline.fit(request, 2)
    err = info.value
    assert str(err) == (
        "GET https://api.example.test/api/v1/tasks: gave up after 3 attempt(s): no time was left "
        "before the call's deadline of 20 s (call_timeout)"
    )
    assert err.request is request
