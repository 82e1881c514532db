"""Polling long-running objects: one pure decision function, sync and async loops.

Used by v1 operations and the v2 upload/run/export helpers. A failed state raises
:class:`~toloka_ext.OperationFailedError` with the object attached; an overall deadline
raises :class:`~toloka_ext.PollTimeoutError` with the last object seen.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

import anyio
import attrs

from ._constants import (
    DEFAULT_POLL_BACKOFF_FACTOR,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_POLL_MAX_INTERVAL,
    DEFAULT_POLL_TIMEOUT,
)
from ._exceptions import OperationFailedError, PollTimeoutError

__all__ = ["PollDecision", "PollPolicy", "apoll_until", "decide", "poll_until"]

T = TypeVar("T")


@attrs.frozen
class PollPolicy:
    """How often and how long to poll.

    The n-th wait (0-based) is ``min(interval * backoff_factor**n, max_interval)``, cut so it
    does not overshoot ``timeout`` (seconds overall; ``None`` waits forever).
    """

    interval: float = DEFAULT_POLL_INTERVAL
    max_interval: float = DEFAULT_POLL_MAX_INTERVAL
    backoff_factor: float = DEFAULT_POLL_BACKOFF_FACTOR
    timeout: float | None = DEFAULT_POLL_TIMEOUT

    def __attrs_post_init__(self) -> None:
        if self.interval < 0 or self.max_interval < 0:
            raise ValueError("poll intervals must not be negative")
        if self.backoff_factor < 1:
            raise ValueError("backoff_factor must be >= 1")
        if self.timeout is not None and self.timeout < 0:
            raise ValueError("timeout must not be negative")

    def wait_for(self, attempt: int) -> float:
        """The wait before poll number ``attempt + 1``."""
        return min(self.interval * self.backoff_factor ** max(attempt, 0), self.max_interval)


@attrs.frozen
class PollDecision:
    """``action`` is ``done``, ``failed``, ``timeout`` or ``wait`` (then sleep ``delay``)."""

    action: Literal["done", "failed", "timeout", "wait"]
    delay: float = 0.0


def decide(
    *,
    done: bool,
    failed: bool,
    attempt: int,
    elapsed: float,
    policy: PollPolicy,
    hint: float | None = None,
) -> PollDecision:
    """Decide what to do after poll number ``attempt`` (0-based) observed a state.

    ``hint`` (e.g. a server's suggested delay) replaces the backoff schedule when given.
    """
    if failed:
        return PollDecision("failed")
    if done:
        return PollDecision("done")
    delay = policy.wait_for(attempt) if hint is None else max(0.0, hint)
    if policy.timeout is not None:
        remaining = policy.timeout - elapsed
        if remaining <= 0:
            return PollDecision("timeout")
        delay = min(delay, remaining)
    return PollDecision("wait", delay)


def _failed_message(obj: T, describe: Callable[[T], str] | None) -> str:
    return f"ended in a failed state: {describe(obj) if describe else repr(obj)}"


def poll_until(
    fetch: Callable[[], T],
    *,
    is_done: Callable[[T], bool],
    is_failed: Callable[[T], bool],
    policy: PollPolicy | None = None,
    on_progress: Callable[[T], object] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    describe: Callable[[T], str] | None = None,
) -> T:
    """Call ``fetch`` until ``is_done``; return the final object.

    Example::

        op = poll_until(lambda: client.get_operation(op_id),
                        is_done=lambda o: o.status == "SUCCESS",
                        is_failed=lambda o: o.status == "FAIL")

    Raises:
        OperationFailedError: ``is_failed`` returned true (checked before ``is_done``).
        PollTimeoutError: ``policy.timeout`` seconds passed.
    """
    policy = policy or PollPolicy()
    start = clock()
    attempt = 0
    while True:
        obj = fetch()
        if on_progress is not None:
            on_progress(obj)
        elapsed = clock() - start
        decision = decide(
            done=is_done(obj),
            failed=is_failed(obj),
            attempt=attempt,
            elapsed=elapsed,
            policy=policy,
        )
        if decision.action == "done":
            return obj
        if decision.action == "failed":
            raise OperationFailedError(_failed_message(obj, describe), obj=obj)
        if decision.action == "timeout":
            raise PollTimeoutError(
                f"still not finished after {elapsed:.1f} s (timeout {policy.timeout} s)",
                obj=obj,
                elapsed=elapsed,
            )
        sleep(decision.delay)
        attempt += 1


async def apoll_until(
    fetch: Callable[[], Awaitable[T]],
    *,
    is_done: Callable[[T], bool],
    is_failed: Callable[[T], bool],
    policy: PollPolicy | None = None,
    on_progress: Callable[[T], object] | None = None,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    clock: Callable[[], float] = time.monotonic,
    describe: Callable[[T], str] | None = None,
) -> T:
    """The async twin of :func:`poll_until`."""
    policy = policy or PollPolicy()
    start = clock()
    attempt = 0
    while True:
        obj = await fetch()
        if on_progress is not None:
            on_progress(obj)
        elapsed = clock() - start
        decision = decide(
            done=is_done(obj),
            failed=is_failed(obj),
            attempt=attempt,
            elapsed=elapsed,
            policy=policy,
        )
        if decision.action == "done":
            return obj
        if decision.action == "failed":
            raise OperationFailedError(_failed_message(obj, describe), obj=obj)
        if decision.action == "timeout":
            raise PollTimeoutError(
                f"still not finished after {elapsed:.1f} s (timeout {policy.timeout} s)",
                obj=obj,
                elapsed=elapsed,
            )
        await sleep(decision.delay)
        attempt += 1
