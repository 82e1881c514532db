"""Retrying, rate-limited httpx transports shared by the handwritten and generated clients.

Wrap any inner transport::

    client = httpx.Client(transport=RetryTransport(httpx.HTTPTransport()))

so the generated v2 client (given this ``httpx.Client``) and the handwritten layer follow one
policy:

* statuses 408, 429 and 5xx are retried with :func:`~toloka_ext._retry.retry_delay`;
* transport errors before the request left (connect errors, pool timeouts) are retried for
  any method;
* transport errors after sending (read/write errors and timeouts, a reset mid-response) and
  gateway answers 502/504 are retried only for idempotent requests: GET/HEAD/PUT/DELETE/
  OPTIONS, or a request whose ``extensions["toloka_idempotent"]`` is ``True`` (e.g. v1 async
  creates with an ``operation_id``); otherwise :class:`~toloka_ext.OutcomeUnknownError` is
  raised (see :mod:`toloka_ext._retry` for why);
* a 429 saying the daily quota is used up raises :class:`~toloka_ext.QuotaExceededError`
  at once, unless ``wait_for_quota`` (or ``extensions["toloka_wait_for_quota"]``) is set;
* a ``Retry-After`` longer than ``RETRY_AFTER_CAP`` is not cut short (retrying before the
  server allows only earns another refusal): the response is returned for the caller to
  raise, again unless waiting was asked for, in which case the full time is waited.

Success bodies are never read here, so streamed downloads pass through untouched; bodies of
retryable error responses are read to decide.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Literal

import anyio
import httpx

from ._constants import (
    DEFAULT_MAX_RETRIES,
    IDEMPOTENT_EXTENSION,
    RETRY_AFTER_CAP,
    WAIT_FOR_QUOTA_EXTENSION,
)
from ._exceptions import (
    APIConnectionError,
    APITimeoutError,
    OutcomeUnknownError,
    make_status_error,
)
from ._logging import logger
from ._ratelimit import AsyncRateLimiter, RateLimiter
from ._retry import (
    IDEMPOTENT_METHODS,
    classify_transport_error,
    parse_retry_after,
    quota_interval,
    retry_delay,
    seconds_until_interval_reset,
    should_retry_status,
    status_outcome_unknown,
)

__all__ = ["AsyncRetryTransport", "RetryTransport", "is_idempotent", "outcome_unknown_error"]

DelayFunction = Callable[[int, "httpx.Response | None"], float]
_MAX_QUOTA_WAITS = 3


def is_idempotent(request: httpx.Request) -> bool:
    """True if re-sending ``request`` cannot duplicate its effect."""
    return request.method.upper() in IDEMPOTENT_METHODS or bool(
        request.extensions.get(IDEMPOTENT_EXTENSION)
    )


def outcome_unknown_error(request: httpx.Request, response: httpx.Response) -> OutcomeUnknownError:
    """The error for a non-idempotent request answered 502/504 by a gateway."""
    return OutcomeUnknownError(
        f"{_where(request)} -> {response.status_code}: a gateway answered instead of the API, "
        "so the request may have been applied; not re-sent automatically",
        request=request,
        response=response,
    )


def _where(request: httpx.Request) -> str:
    # Never log the query: pre-signed URLs carry their signature there.
    return f"{request.method} {request.url.copy_with(query=None)}"


def _default_delay(attempt: int, response: httpx.Response | None) -> float:
    return retry_delay(attempt, response=response)


class _RetryPolicy:
    """The decisions shared by the sync and async transports."""

    def __init__(
        self, *, max_retries: int, wait_for_quota: bool, delay: DelayFunction | None
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.max_retries = max_retries
        self.wait_for_quota = wait_for_quota
        self.delay: DelayFunction = delay or _default_delay

    def on_error(
        self, request: httpx.Request, exc: httpx.TransportError, attempt: int
    ) -> APIConnectionError | None:
        """The error to raise, or ``None`` to retry."""
        state = classify_transport_error(exc)
        retryable = state == "not_sent" or is_idempotent(request)
        if retryable and attempt < self.max_retries:
            return None
        detail = f"{type(exc).__name__} on {_where(request)}"
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
    ) -> tuple[Literal["return", "raise", "retry", "quota", "unknown"], float]:
        """What to do with a response whose status is retryable (body already read)."""
        if status_outcome_unknown(response.status_code, idempotent=is_idempotent(request)):
            return "unknown", 0.0
        wait = self.wait_for_quota or bool(request.extensions.get(WAIT_FOR_QUOTA_EXTENSION))
        if quota_interval(response) == "DAY":
            if not wait or quota_waits >= _MAX_QUOTA_WAITS:
                return "raise", 0.0
            return "quota", (seconds_until_interval_reset("DAY") or 0.0) + 1.0
        hinted = parse_retry_after(response.headers)
        if hinted is not None and hinted > RETRY_AFTER_CAP:
            if not wait or quota_waits >= _MAX_QUOTA_WAITS:
                return "return", 0.0
            return "quota", hinted
        if attempt >= self.max_retries:
            return "return", 0.0
        return "retry", max(0.0, self.delay(attempt, response))

    @staticmethod
    def log_retry(
        request: httpx.Request,
        attempt: int,
        max_retries: int,
        delay: float,
        status: int | None,
        error: str | None = None,
    ) -> None:
        logger.debug(
            "retrying %s (retry %d/%d) in %.2f s after %s",
            _where(request),
            attempt + 1,
            max_retries,
            delay,
            f"status {status}" if status is not None else error,
        )


class RetryTransport(httpx.BaseTransport):
    """Sync transport adding retries, rate limiting and retry logging around ``transport``.

    Example::

        http = httpx.Client(transport=RetryTransport(max_retries=5))

    ``sleep`` and ``delay`` are attributes, so tests can set ``transport.sleep = lambda s: None``.
    """

    def __init__(
        self,
        transport: httpx.BaseTransport | None = None,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        rate_limiter: RateLimiter | None = None,
        wait_for_quota: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        delay: DelayFunction | None = None,
    ) -> None:
        self.transport = transport if transport is not None else httpx.HTTPTransport()
        self._policy = _RetryPolicy(
            max_retries=max_retries, wait_for_quota=wait_for_quota, delay=delay
        )
        self.rate_limiter = rate_limiter
        self.sleep = sleep

    @property
    def max_retries(self) -> int:
        return self._policy.max_retries

    @property
    def delay(self) -> DelayFunction:
        return self._policy.delay

    @delay.setter
    def delay(self, value: DelayFunction) -> None:
        self._policy.delay = value

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        policy = self._policy
        attempt = 0
        quota_waits = 0
        while True:
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            try:
                response = self.transport.handle_request(request)
                if should_retry_status(response.status_code):
                    try:
                        response.read()
                    except httpx.TransportError:
                        response.close()
                        raise
            except httpx.TransportError as exc:
                error = policy.on_error(request, exc, attempt)
                if error is not None:
                    raise error from exc
                delay = max(0.0, policy.delay(attempt, None))
                policy.log_retry(request, attempt, policy.max_retries, delay, None, repr(exc))
                self.sleep(delay)
                attempt += 1
                continue
            if not should_retry_status(response.status_code):
                return response
            response.request = request
            action, delay = policy.on_status(request, response, attempt, quota_waits)
            if action == "return":
                return response
            response.close()
            if action == "raise":
                raise make_status_error(response)
            if action == "unknown":
                raise outcome_unknown_error(request, response)
            policy.log_retry(request, attempt, policy.max_retries, delay, response.status_code)
            self.sleep(delay)
            if action == "quota":
                quota_waits += 1
            else:
                attempt += 1

    def close(self) -> None:
        self.transport.close()


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    """The async twin of :class:`RetryTransport`."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        max_retries: int = DEFAULT_MAX_RETRIES,
        rate_limiter: AsyncRateLimiter | None = None,
        wait_for_quota: bool = False,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        delay: DelayFunction | None = None,
    ) -> None:
        self.transport = transport if transport is not None else httpx.AsyncHTTPTransport()
        self._policy = _RetryPolicy(
            max_retries=max_retries, wait_for_quota=wait_for_quota, delay=delay
        )
        self.rate_limiter = rate_limiter
        self.sleep = sleep

    @property
    def max_retries(self) -> int:
        return self._policy.max_retries

    @property
    def delay(self) -> DelayFunction:
        return self._policy.delay

    @delay.setter
    def delay(self, value: DelayFunction) -> None:
        self._policy.delay = value

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        policy = self._policy
        attempt = 0
        quota_waits = 0
        while True:
            if self.rate_limiter is not None:
                await self.rate_limiter.acquire()
            try:
                response = await self.transport.handle_async_request(request)
                if should_retry_status(response.status_code):
                    try:
                        await response.aread()
                    except httpx.TransportError:
                        await response.aclose()
                        raise
            except httpx.TransportError as exc:
                error = policy.on_error(request, exc, attempt)
                if error is not None:
                    raise error from exc
                delay = max(0.0, policy.delay(attempt, None))
                policy.log_retry(request, attempt, policy.max_retries, delay, None, repr(exc))
                await self.sleep(delay)
                attempt += 1
                continue
            if not should_retry_status(response.status_code):
                return response
            response.request = request
            action, delay = policy.on_status(request, response, attempt, quota_waits)
            if action == "return":
                return response
            await response.aclose()
            if action == "raise":
                raise make_status_error(response)
            if action == "unknown":
                raise outcome_unknown_error(request, response)
            policy.log_retry(request, attempt, policy.max_retries, delay, response.status_code)
            await self.sleep(delay)
            if action == "quota":
                quota_waits += 1
            else:
                attempt += 1

    async def aclose(self) -> None:
        await self.transport.aclose()
