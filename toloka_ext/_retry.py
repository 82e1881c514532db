"""Retry policy as pure functions, shared by every client and the retry transport.

Used by :mod:`toloka_ext._transport` (which serves both the handwritten layer and the
generated v2 client) and by tests that table-test the policy with a frozen clock.

What is re-sent, and why (the rule is "never re-send a request whose outcome is unknown,
unless re-sending it cannot duplicate its effect"):

* **408, 429, 500, 503**: the API itself answered and refused or failed the request, so it
  was not applied; re-sent for every method, after ``Retry-After`` / the 429 quota interval
  / jittered backoff (:func:`retry_delay`).
* **502, 504** (:data:`OUTCOME_UNKNOWN_STATUSES`): a gateway in front of the API answered
  because the API did not answer it in time or broke the connection. The API may well have
  applied the request (a 504 on a sync ``POST /tasks`` of 5000 tasks usually means they are
  being created). So these are re-sent only for idempotent requests (GET/PUT/DELETE..., or
  a request marked idempotent, e.g. a v1 async create carrying its ``operation_id``); for a
  non-idempotent request (a sync task create, a single task) the transport raises
  :class:`~toloka_ext.OutcomeUnknownError` at once and ``create_tasks`` reports the chunk in
  ``result.unknown`` instead of risking duplicates.
* **Transport errors**: :func:`classify_transport_error` splits them the same way: before
  the request left (connect errors, pool timeouts) is re-sent for any method; after it
  (write/read errors and timeouts, a reset mid-response) only for idempotent requests.
* A 429 whose payload interval is ``DAY`` is not retried: it becomes
  :class:`~toloka_ext.QuotaExceededError` unless the caller asked to wait.
"""

from __future__ import annotations

import calendar
import email.utils
import math
import random
import time
from collections.abc import Callable
from typing import Literal

import httpx

from ._constants import INITIAL_RETRY_DELAY, MAX_RETRY_DELAY, RETRY_AFTER_CAP

__all__ = [
    "IDEMPOTENT_METHODS",
    "OUTCOME_UNKNOWN_STATUSES",
    "SendState",
    "backoff_delay",
    "classify_transport_error",
    "parse_retry_after",
    "quota_interval",
    "retry_delay",
    "seconds_until_interval_reset",
    "should_retry_status",
    "status_outcome_unknown",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})

OUTCOME_UNKNOWN_STATUSES = frozenset({502, 504})
"""Gateway answers: the API behind the gateway may have applied the request."""

SendState = Literal["not_sent", "unknown"]
"""Whether a failed request surely never reached the server, or may have been applied."""

_NOT_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.ProxyError,
)


def should_retry_status(status_code: int) -> bool:
    """True for statuses worth re-sending: 408, 429 and every 5xx."""
    return status_code in (408, 429) or status_code >= 500


def status_outcome_unknown(status_code: int, *, idempotent: bool) -> bool:
    """True if a ``status_code`` answer leaves a non-idempotent request's outcome unknown.

    502 and 504 come from a gateway, not from the API: the request may have been applied.
    Such a request is not re-sent unless ``idempotent`` (see the module docstring).
    """
    return not idempotent and status_code in OUTCOME_UNKNOWN_STATUSES


def classify_transport_error(exc: Exception) -> SendState:
    """Say whether a transport error happened before the request left (``not_sent``).

    Connect errors and pool timeouts happen before any byte is written, so any method may
    be retried. Anything later (write/read errors and timeouts, a reset mid-response) leaves
    the outcome ``unknown``.
    """
    return "not_sent" if isinstance(exc, _NOT_SENT_ERRORS) else "unknown"


def parse_retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (or ``retry-after-ms``), or ``None`` if absent.

    Accepts delta-seconds and HTTP dates; a date in the past gives ``0``.
    """
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        moment = email.utils.mktime_tz(parsed)
        current = time.time() if now is None else now
        return max(0.0, float(moment) - current)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


def quota_interval(response: httpx.Response) -> str | None:
    """The ``payload.interval`` (``MIN``/``HOUR``/``DAY``) of a v1 429 body, if any.

    Note:
        The body must already be read; an unread streaming body gives ``None``.
    """
    if response.status_code != 429:
        return None
    try:
        data = response.json()
    except (ValueError, httpx.ResponseNotRead, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    payload = data.get("payload")
    if not isinstance(payload, dict):
        return None
    interval = payload.get("interval")
    return interval.upper() if isinstance(interval, str) else None


def seconds_until_interval_reset(interval: str, *, now: float | None = None) -> float | None:
    """Seconds until the next UTC minute, hour or day boundary for ``MIN``/``HOUR``/``DAY``."""
    current = time.time() if now is None else now
    period = {"MIN": 60, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}.get(interval.upper())
    if period is None:
        return None
    tm = time.gmtime(current)
    start_of_day = calendar.timegm((tm.tm_year, tm.tm_mon, tm.tm_mday, 0, 0, 0))
    into = current - start_of_day
    return period - (into % period)


def backoff_delay(
    attempt: int,
    *,
    initial: float = INITIAL_RETRY_DELAY,
    maximum: float = MAX_RETRY_DELAY,
    rand: Callable[[], float] = random.random,
) -> float:
    """``min(initial * 2**attempt, maximum)`` with full jitter (uniform in ``[0, cap]``).

    ``attempt`` counts from 0 for the first retry.
    """
    cap = min(initial * (2.0 ** max(attempt, 0)), maximum)
    return cap * rand()


def retry_delay(
    attempt: int,
    *,
    response: httpx.Response | None = None,
    now: float | None = None,
    initial: float = INITIAL_RETRY_DELAY,
    maximum: float = MAX_RETRY_DELAY,
    retry_after_cap: float = RETRY_AFTER_CAP,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based).

    Order: ``Retry-After`` (seconds or HTTP date, capped at ``retry_after_cap``); then a 429
    body's ``payload.interval`` (``MIN``: until the next minute, at most 60 s; ``HOUR``: until
    the next hour; ``DAY``: until the next UTC day — callers raise
    :class:`~toloka_ext.QuotaExceededError` instead unless asked to wait); else jittered
    exponential backoff.
    """
    if response is not None:
        hinted = parse_retry_after(response.headers, now=now)
        if hinted is not None:
            return min(hinted, retry_after_cap)
        interval = quota_interval(response)
        if interval is not None:
            until = seconds_until_interval_reset(interval, now=now)
            if until is not None:
                # A little jitter so that many clients do not hit the boundary together.
                return until + min(1.0, maximum) * rand()
    return backoff_delay(attempt, initial=initial, maximum=maximum, rand=rand)
