"""The retry policy (pure functions and ``RetryPolicy``) and the one retry loop.

``send_with_retries`` is run directly here, sync and async, over ``httpx.MockTransport``
stubs; the same loop in the client's request path is tested in ``test_transport_and_client``.
"""

from __future__ import annotations

import calendar
import email.utils
import logging
import math
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

import toloka_ext as tx
from toloka_ext._async._core import send_with_retries as async_send_with_retries
from toloka_ext._constants import IDEMPOTENT_EXTENSION, WAIT_FOR_QUOTA_EXTENSION
from toloka_ext._ratelimit import DailyBudget, TokenBucket
from toloka_ext._retry import (
    NOT_APPLIED_STATUSES,
    Deadline,
    RetryPolicy,
    backoff_delay,
    classify_transport_error,
    is_idempotent,
    outcome_unknown_error,
    parse_retry_after,
    quota_interval,
    retry_delay,
    seconds_until_interval_reset,
    should_retry_status,
    status_outcome_unknown,
    transport_error,
)
from toloka_ext._sync._core import send_with_retries
from toloka_ext.testing import Fault, FaultConfig, Sandbox

from ._stubs import AsyncSleeps, FakeClock, Script, Sleeps, ok, status

NOW = float(calendar.timegm((2026, 11, 23, 10, 15, 30)))  # 10:15:30 UTC


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, False),
        (400, False),
        (404, False),
        (409, False),
        (408, True),
        (429, True),
        (500, True),
        (503, True),
        (504, True),
    ],
    ids=str,
)
def test_should_retry_status(status: int, expected: bool) -> None:
    assert should_retry_status(status) is expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"Retry-After": "0"}, 0.0),
        ({"Retry-After": "2.5"}, 2.5),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": email.utils.formatdate(NOW + 42, usegmt=True)}, 42.0),
        ({"Retry-After": email.utils.formatdate(NOW - 42, usegmt=True)}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-3"}, None),
        ({}, None),
    ],
    ids=["secs", "zero", "fraction", "ms", "date", "past-date", "garbage", "negative", "absent"],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert parse_retry_after(httpx.Headers(headers), now=NOW) == expected


def _r(status: int, headers: dict[str, str] | None = None, json: object = None) -> httpx.Response:
    return httpx.Response(status, headers=headers or {}, json=json)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (_r(503, {"Retry-After": "3"}), 3.0),
        (_r(429, {"Retry-After": "100000"}), 120.0),  # capped
        (_r(429, json={"payload": {"interval": "MIN"}}), 30.0),  # to the next minute
        (_r(429, json={"payload": {"interval": "HOUR"}}), 45 * 60 - 30.0),
        (_r(429, json={"payload": {"interval": "DAY"}}), 13 * 3600 + 44 * 60 + 30.0),
        (
            _r(429, {"Retry-After": "5"}, json={"payload": {"interval": "HOUR"}}),
            5.0,
        ),  # header first
    ],
    ids=["retry-after", "cap", "min", "hour", "day", "header-wins"],
)
def test_retry_delay_hints(response: httpx.Response, expected: float) -> None:
    assert retry_delay(0, response=response, now=NOW, rand=lambda: 0.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("attempt", "cap"), [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 8.0)]
)
def test_backoff_is_capped_exponential_with_full_jitter(attempt: int, cap: float) -> None:
    assert backoff_delay(attempt, rand=lambda: 1.0) == cap
    assert backoff_delay(attempt, rand=lambda: 0.0) == 0.0
    assert retry_delay(attempt, response=_r(500), rand=lambda: 0.5) == cap / 2


def test_minute_reset_is_at_most_60_seconds() -> None:
    for second in range(0, 60, 7):
        value = seconds_until_interval_reset("MIN", now=NOW - 30 + second)
        assert value is not None and 0 < value <= 60


@pytest.mark.parametrize(
    ("exc", "state"),
    [
        (httpx.ConnectError("x"), "not_sent"),
        (httpx.ConnectTimeout("x"), "not_sent"),
        (httpx.PoolTimeout("x"), "not_sent"),
        (httpx.ReadTimeout("x"), "unknown"),
        (httpx.WriteTimeout("x"), "unknown"),
        (httpx.ReadError("x"), "unknown"),
        (httpx.WriteError("x"), "unknown"),
        (httpx.RemoteProtocolError("x"), "unknown"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else v,
)
def test_classify_transport_error(exc: Exception, state: str) -> None:
    assert classify_transport_error(exc) == state


@pytest.mark.parametrize("idempotent", [False, True])
@pytest.mark.parametrize("status", range(400, 600))
def test_status_outcome_unknown_for_every_status(status: int, idempotent: bool) -> None:
    # The whole class: no 5xx says "not applied", so a non-idempotent request answered with
    # any of them is unknown; a 4xx is a refusal; an idempotent request is never unknown.
    expected = not idempotent and status >= 500
    assert status_outcome_unknown(status, idempotent=idempotent) is expected
    if not idempotent and should_retry_status(status):
        assert (status in NOT_APPLIED_STATUSES) is not expected


# -- RetryPolicy: every decision of the loop, without I/O ---------------------------------

URL = "https://api.example.test/api/v1/tasks?sig=SIGNATURE"


def _req(method: str = "POST", **extensions: object) -> httpx.Request:
    return httpx.Request(method, URL, extensions=extensions)


def _answer(
    code: int, headers: dict[str, str] | None = None, body: object = None
) -> httpx.Response:
    return httpx.Response(code, headers=headers or {}, json=body or {}, request=_req())


DAY_BODY = {"code": "TOO_MANY_REQUESTS", "payload": {"interval": "DAY"}}


@pytest.mark.parametrize("bad", [-1, True, 1.5, "3"], ids=repr)
def test_retry_policy_rejects_bad_max_retries(bad: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        RetryPolicy(max_retries=bad)  # type: ignore[arg-type]


def test_is_idempotent() -> None:
    assert (
        is_idempotent(_req("GET")) and is_idempotent(_req("put")) and is_idempotent(_req("DELETE"))
    )
    assert not is_idempotent(_req("POST")) and not is_idempotent(_req("PATCH"))
    assert is_idempotent(_req("POST", **{IDEMPOTENT_EXTENSION: True}))


def _fixed(delay: float) -> RetryPolicy:
    return RetryPolicy(max_retries=2, delay=lambda attempt, response: delay)


@pytest.mark.parametrize(
    ("request_", "response", "attempt", "quota_waits", "expected"),
    [
        (_req("POST"), _answer(502), 0, 0, ("unknown", 0.0)),
        (_req("POST"), _answer(504), 0, 0, ("unknown", 0.0)),
        (_req("GET"), _answer(502), 0, 0, ("retry", 1.5)),
        (_req("POST", **{IDEMPOTENT_EXTENSION: True}), _answer(504), 1, 0, ("retry", 1.5)),
        (_req("POST"), _answer(503), 0, 0, ("unknown", 0.0)),
        (_req("POST"), _answer(500), 0, 0, ("unknown", 0.0)),
        (_req("POST"), _answer(429), 0, 0, ("retry", 1.5)),
        (_req("POST"), _answer(408), 0, 0, ("retry", 1.5)),
        (_req("GET"), _answer(503), 2, 0, ("return", 0.0)),  # attempt == max_retries
        (_req("GET"), _answer(429, body=DAY_BODY), 0, 0, ("raise", 0.0)),
        (_req("GET"), _answer(429, {"Retry-After": "600"}), 0, 0, ("return", 0.0)),
        (
            _req("GET", **{WAIT_FOR_QUOTA_EXTENSION: True}),
            _answer(429, {"Retry-After": "600"}),
            0,
            0,
            ("quota", 600.0),
        ),
        (
            _req("GET", **{WAIT_FOR_QUOTA_EXTENSION: True}),
            _answer(429, {"Retry-After": "600"}),
            0,
            3,  # waited three times already: give up
            ("return", 0.0),
        ),
    ],
    ids=[
        "post-502-unknown",
        "post-504-unknown",
        "get-502-retry",
        "idempotent-post-504-retry",
        "post-503-unknown",
        "post-500-unknown",
        "post-429-retry",
        "post-408-retry",
        "retries-spent",
        "daily-quota-raise",
        "long-retry-after-return",
        "long-retry-after-wait",
        "quota-waits-spent",
    ],
)
def test_retry_policy_on_status(
    request_: httpx.Request,
    response: httpx.Response,
    attempt: int,
    quota_waits: int,
    expected: tuple[str, float],
) -> None:
    assert _fixed(1.5).on_status(request_, response, attempt, quota_waits) == expected


def test_retry_policy_waits_for_the_daily_quota_only_when_asked() -> None:
    daily = _answer(429, body=DAY_BODY)
    action, delay = RetryPolicy(max_retries=0, wait_for_quota=True).on_status(
        _req("GET"), daily, 0, 0
    )
    assert action == "quota" and 1.0 < delay <= 86401.0
    action, _ = RetryPolicy(max_retries=0).on_status(
        _req("GET", **{WAIT_FOR_QUOTA_EXTENSION: True}), daily, 0, 0
    )
    assert action == "quota"
    assert RetryPolicy(max_retries=0, wait_for_quota=True).on_status(_req("GET"), daily, 0, 3) == (
        "raise",
        0.0,
    )


def test_retry_policy_never_returns_a_negative_delay() -> None:
    policy = RetryPolicy(max_retries=1, delay=lambda attempt, response: -5.0)
    assert policy.on_status(_req("GET"), _answer(500), 0, 0) == ("retry", 0.0)


def test_retry_policy_on_error() -> None:
    policy = RetryPolicy(max_retries=1)
    # Before the request left: retried for any method, then a plain connection error.
    assert policy.on_error(_req("POST"), httpx.ConnectError("x"), 0) is None
    err = policy.on_error(_req("POST"), httpx.ConnectError("x"), 1)
    assert type(err) is tx.APIConnectionError and "after 2 attempts" in str(err)
    # After it left: never for a non-idempotent request.
    unknown = policy.on_error(_req("POST"), httpx.ReadTimeout("x"), 0)
    assert isinstance(unknown, tx.OutcomeUnknownError)
    # ... but retried for an idempotent one, then a timeout (not "outcome unknown").
    assert policy.on_error(_req("GET"), httpx.ReadTimeout("x"), 0) is None
    timeout = policy.on_error(_req("GET"), httpx.ReadTimeout("x"), 1)
    assert type(timeout) is tx.APITimeoutError
    for error in (err, unknown, timeout):
        assert error is not None and error.request is not None
        assert "SIGNATURE" not in str(error)


def test_outcome_unknown_and_transport_errors() -> None:
    request = _req("POST")
    response = httpx.Response(504, request=request)
    err = outcome_unknown_error(request, response)
    assert (err.request, err.response, err.status_code) == (request, response, 504)
    assert "-> 504" in str(err) and "SIGNATURE" not in str(err)
    assert type(transport_error(httpx.ReadTimeout("t"), request)) is tx.APITimeoutError
    lost = transport_error(httpx.ReadError("r"), request)
    assert type(lost) is tx.APIConnectionError and "SIGNATURE" not in str(lost)


# -- send_with_retries: the one loop (sync and async) -------------------------------------


class BrokenBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that breaks after its first chunk (a connection lost mid-response)."""

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"partial":'
        raise httpx.ReadError("connection reset mid-body")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'{"partial":'
        raise httpx.ReadError("connection reset mid-body")


class BrokenThenOk:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) == 1:
            return httpx.Response(200, stream=BrokenBody())
        return httpx.Response(200, json={"ok": True})


def test_loop_retries_with_the_policy_delays() -> None:
    script = Script(status(503), status(500), ok())
    sleeps = Sleeps()
    policy = RetryPolicy(max_retries=2, delay=lambda attempt, response: 10.0 * (attempt + 1))
    response = send_with_retries(
        httpx.MockTransport(script).handle_request, _req("GET"), policy, sleep=sleeps
    )
    assert response.status_code == 200 and response.read() == b'{"ok":true}'
    assert len(script.requests) == 3 and sleeps == [10.0, 20.0]


@pytest.mark.anyio
async def test_async_loop_retries_with_the_policy_delays() -> None:
    script = Script(status(429), status(408), ok())
    sleeps = AsyncSleeps()
    policy = RetryPolicy(max_retries=2, delay=lambda attempt, response: 10.0 * (attempt + 1))
    response = await async_send_with_retries(
        httpx.MockTransport(script).handle_async_request, _req("POST"), policy, sleep=sleeps
    )
    assert response.status_code == 200 and await response.aread() == b'{"ok":true}'
    assert len(script.requests) == 3 and sleeps == [10.0, 20.0]


def test_loop_returns_the_last_answer_when_retries_are_spent() -> None:
    script = Script(status(503))
    sleeps = Sleeps()
    response = send_with_retries(
        httpx.MockTransport(script).handle_request, _req("GET"), RetryPolicy(1), sleep=sleeps
    )
    assert response.status_code == 503 and response.json()["code"] == "E503"
    assert len(script.requests) == 2 and len(sleeps) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("code", [500, 502, 503, 504])
async def test_async_loop_raises_outcome_unknown_for_a_5xx_answer_to_a_post(code: int) -> None:
    script = Script(status(code), ok())
    sleeps = AsyncSleeps()
    with pytest.raises(tx.OutcomeUnknownError) as err:
        await async_send_with_retries(
            httpx.MockTransport(script).handle_async_request,
            _req("POST"),
            RetryPolicy(3),
            sleep=sleeps,
        )
    assert len(script.requests) == 1 and sleeps == []
    assert err.value.response is not None and err.value.response.status_code == code


def test_loop_raises_quota_exceeded_for_a_spent_daily_quota() -> None:
    script = Script(status(429, body=DAY_BODY), ok())
    with pytest.raises(tx.QuotaExceededError):
        send_with_retries(
            httpx.MockTransport(script).handle_request, _req("GET"), RetryPolicy(3), sleep=Sleeps()
        )
    assert len(script.requests) == 1


def test_loop_with_read_retries_a_body_lost_mid_response_of_a_get() -> None:
    handler = BrokenThenOk()
    sleeps = Sleeps()
    response = send_with_retries(
        httpx.MockTransport(handler).handle_request,
        _req("GET"),
        RetryPolicy(3),
        sleep=sleeps,
        read=True,
    )
    assert response.json() == {"ok": True}
    assert len(handler.requests) == 2 and len(sleeps) == 1


@pytest.mark.anyio
async def test_async_loop_with_read_never_resends_a_post_whose_body_was_lost() -> None:
    handler = BrokenThenOk()
    with pytest.raises(tx.OutcomeUnknownError):
        await async_send_with_retries(
            httpx.MockTransport(handler).handle_async_request,
            _req("POST"),
            RetryPolicy(3),
            sleep=AsyncSleeps(),
            read=True,
        )
    assert len(handler.requests) == 1


# ------------------------------------------ what mutation testing found untested (docs/mutation.md)

TASK = {"pool_id": "1", "input_values": {"image": "https://x/1.jpg"}, "overlap": 1}


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
