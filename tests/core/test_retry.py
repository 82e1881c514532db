from __future__ import annotations

import calendar
import email.utils

import httpx
import pytest

from toloka_ext._retry import (
    backoff_delay,
    classify_transport_error,
    parse_retry_after,
    retry_delay,
    seconds_until_interval_reset,
    should_retry_status,
    status_outcome_unknown,
)

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


@pytest.mark.parametrize(
    ("status", "idempotent", "expected"),
    [
        (502, False, True),
        (504, False, True),
        (502, True, False),
        (504, True, False),
        (500, False, False),
        (503, False, False),
        (408, False, False),
        (429, False, False),
    ],
    ids=str,
)
def test_status_outcome_unknown(status: int, idempotent: bool, expected: bool) -> None:
    assert status_outcome_unknown(status, idempotent=idempotent) is expected
