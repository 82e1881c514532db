"""Retry policy as pure functions, and the one decision object the retry loop asks.

The loop itself (``toloka_ext/_async/_core.py``, and its generated sync twin) runs in the
client's ``request()``, so it holds whatever ``http_client=`` a user passes; the same loop
also backs ``toloka_ext.RetryTransport`` for HTTP calls the client does not make. Every
decision it makes comes from :class:`RetryPolicy` here, table-tested with a frozen clock.

What is re-sent, and why. The rule: **a request is re-sent blindly only when re-sending it
cannot duplicate its effect**: either it is idempotent, or the answer proves it was not
applied. Nothing in Toloka's documentation says that a 5xx means "not applied", so none
does here.

======================  ====================================  ============================
what came back          idempotent request                    any other request
======================  ====================================  ============================
408, 429                re-sent                               re-sent (refused unapplied)
any other 4xx           raised (typed by status)              raised (typed by status)
any 5xx                 re-sent                               :class:`OutcomeUnknownError`
connect error, pool     re-sent                               re-sent (never left)
timeout, a refused TLS
write/read error or     re-sent                               :class:`OutcomeUnknownError`
timeout, a reset
======================  ====================================  ============================

* **Idempotent** (:func:`is_idempotent`): GET/HEAD/PUT/DELETE/OPTIONS/TRACE, or a request
  the layer marks so because it carries its own key or sets a state (a v1 async task create
  with its ``operation_id``, a task PATCH, a presigned storage PUT, binding a dataset).
* **Not applied** (:data:`NOT_APPLIED_STATUSES`): 408 (the server did not receive the whole
  request) and 429 (refused for the rate, documented with ``TOO_MANY_REQUESTS``). Waits
  follow ``Retry-After`` / the 429 quota interval / jittered backoff (:func:`retry_delay`).
* **Outcome unknown** (:func:`status_outcome_unknown`): every 5xx of a non-idempotent
  request: 500 ``INTERNAL_ERROR`` or 503 from the API may follow a create it applied, and a
  502/504 from a gateway usually means the API is still working on it. The loop raises
  :class:`~toloka_ext.OutcomeUnknownError` at once; the caller settles it (``create_tasks``
  reads the pool back, ``process_new_data`` finds the job's object by name, a single call
  says what to check) and never re-sends before the request can no longer apply
  (``max_request_hold``).
* **Transport errors**: :func:`classify_transport_error` splits them the same way: before
  the request left (connect errors, pool timeouts) is re-sent for any method; after it
  (write/read errors and timeouts, a reset mid-response) only for idempotent requests.
* A 429 whose payload interval is ``DAY`` is not retried: it becomes
  :class:`~toloka_ext.QuotaExceededError` unless the caller asked to wait.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Callable
from typing import Literal

import attrs
import httpx

from ._constants import (
    IDEMPOTENT_EXTENSION,
    INITIAL_RETRY_DELAY,
    MAX_RETRY_DELAY,
    RETRY_AFTER_CAP,
    WAIT_FOR_QUOTA_EXTENSION,
)
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    InvalidInputError,
    OutcomeUnknownError,
)
from ._logging import logger

__all__ = [
    "IDEMPOTENT_METHODS",
    "NOT_APPLIED_STATUSES",
    "Deadline",
    "RetryAction",
    "RetryPolicy",
    "SendState",
    "backoff_delay",
    "classify_transport_error",
    "is_idempotent",
    "outcome_unknown_error",
    "parse_retry_after",
    "quota_interval",
    "retry_delay",
    "seconds_until_interval_reset",
    "should_retry_status",
    "status_outcome_unknown",
    "transport_error",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})

NOT_APPLIED_STATUSES = frozenset({408, 429})
"""Answers that say the request was refused unapplied: re-sent whatever the method."""

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

    Every 5xx: the API (500, 503) or a gateway in front of it (502, 504) failed, and nothing
    says whether before or after the request took effect. Such a request is not re-sent
    unless ``idempotent`` (see the module docstring).
    """
    return not idempotent and status_code >= 500


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
    # Unix time counts every UTC day as 86400 s from a midnight: a boundary of any of these
    # periods is a multiple of it.
    return period - (current % period)


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


DelayFunction = Callable[[int, "httpx.Response | None"], float]
RetryAction = Literal["return", "raise", "retry", "quota", "unknown"]
MAX_QUOTA_WAITS = 3
"""How many times in a row a call waits for a quota reset before giving up."""


def is_idempotent(request: httpx.Request) -> bool:
    """True if re-sending ``request`` cannot duplicate its effect."""
    return request.method.upper() in IDEMPOTENT_METHODS or bool(
        request.extensions.get(IDEMPOTENT_EXTENSION)
    )


def where(request: httpx.Request) -> str:
    """``METHOD url`` without the query: presigned URLs carry their signature there."""
    return f"{request.method} {request.url.copy_with(query=None)}"


def transport_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    """The error for a connection lost while reading a body that was already being served."""
    detail = f"{type(exc).__name__} on {where(request)}"
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(detail, request=request)
    return APIConnectionError(detail, request=request)


def outcome_unknown_error(request: httpx.Request, response: httpx.Response) -> OutcomeUnknownError:
    """The error for a non-idempotent request answered with a 5xx."""
    who = "a gateway" if response.status_code in (502, 504) else "the server"
    return OutcomeUnknownError(
        f"{where(request)} -> {response.status_code}: {who} failed without saying whether "
        "the request was applied; not re-sent automatically",
        request=request,
        response=response,
    )


def _default_delay(attempt: int, response: httpx.Response | None) -> float:
    return retry_delay(attempt, response=response)


@attrs.frozen
class RetryPolicy:
    """What the retry loop does after each attempt (pure: no I/O, no sleeping).

    ``max_retries`` counts re-sends after the first attempt (``0``: never re-send);
    ``wait_for_quota`` sleeps through a spent daily quota or an over-long ``Retry-After``
    instead of raising; ``delay(attempt, response)`` is the backoff schedule.
    """

    max_retries: int
    wait_for_quota: bool = False
    delay: DelayFunction = _default_delay

    def __attrs_post_init__(self) -> None:
        retries = self.max_retries
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise InvalidInputError(
                f"max_retries must be an integer >= 0, got {retries!r}", field="max_retries"
            )

    def on_error(
        self, request: httpx.Request, exc: httpx.TransportError, attempt: int
    ) -> APIConnectionError | None:
        """The error to raise after transport error ``exc``, or ``None`` to retry."""
        state = classify_transport_error(exc)
        retryable = state == "not_sent" or is_idempotent(request)
        if retryable and attempt < self.max_retries:
            return None
        detail = f"{type(exc).__name__} on {where(request)}"
        if state == "unknown" and not is_idempotent(request):
            return OutcomeUnknownError(
                f"{detail}: the request was sent but no complete response came back, so it "
                "may have been applied; not re-sent automatically",
                request=request,
            )
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(f"{detail} (after {attempt + 1} attempts)", request=request)
        return APIConnectionError(f"{detail} (after {attempt + 1} attempts)", request=request)

    def on_status(
        self, request: httpx.Request, response: httpx.Response, attempt: int, quota_waits: int
    ) -> tuple[RetryAction, float]:
        """What to do with an answer whose status is retryable (its body already read)."""
        if status_outcome_unknown(response.status_code, idempotent=is_idempotent(request)):
            return "unknown", 0.0
        wait = self.wait_for_quota or bool(request.extensions.get(WAIT_FOR_QUOTA_EXTENSION))
        if quota_interval(response) == "DAY":
            if not wait or quota_waits >= MAX_QUOTA_WAITS:
                return "raise", 0.0
            return "quota", (seconds_until_interval_reset("DAY") or 0.0) + 1.0
        hinted = parse_retry_after(response.headers)
        if hinted is not None and hinted > RETRY_AFTER_CAP:
            # Retrying before the server allows only earns another refusal.
            if not wait or quota_waits >= MAX_QUOTA_WAITS:
                return "return", 0.0
            return "quota", hinted
        if attempt >= self.max_retries:
            return "return", 0.0
        return "retry", max(0.0, self.delay(attempt, response))


def log_retry(request: httpx.Request, attempt: int, delay: float, cause: str) -> None:
    """One debug line per re-send (never the query or a header)."""
    logger.debug(
        "retrying %s (retry %d) in %.2f s after %s", where(request), attempt + 1, delay, cause
    )


class Deadline:
    """One deadline for a whole call: every attempt and every wait between them fit in it.

    ``fit`` cuts an attempt's httpx timeouts to what is left; ``check_wait`` refuses a retry
    whose wait would end past the deadline. Both raise :class:`APITimeoutError`, naming the
    call's total, rather than let a call block for ``max_retries`` times the read timeout.
    """

    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self.seconds = seconds
        self.clock = clock
        self.ends = clock() + seconds

    def left(self) -> float:
        return self.ends - self.clock()

    def _error(self, request: httpx.Request, attempt: int, why: str) -> APITimeoutError:
        return APITimeoutError(
            f"{where(request)}: gave up after {attempt + 1} attempt(s): {why} the call's "
            f"deadline of {self.seconds:g} s (call_timeout)",
            request=request,
        )

    def fit(self, request: httpx.Request, attempt: int) -> None:
        left = self.left()
        if left <= 0:
            raise self._error(request, attempt, "no time was left before")
        base = request.extensions.setdefault("toloka_timeout", request.extensions.get("timeout"))
        if isinstance(base, dict):
            request.extensions["timeout"] = {
                phase: left if value is None else min(value, left) for phase, value in base.items()
            }

    def check_wait(
        self, request: httpx.Request, delay: float, attempt: int, *, cause: Exception
    ) -> None:
        if delay >= self.left():
            raise self._error(
                request, attempt, f"the next attempt ({cause!s:.200}) would start after"
            ) from cause
