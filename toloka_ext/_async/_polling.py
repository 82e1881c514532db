"""The polling loop for long-running objects (operations, uploads, runs, exports)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from .._exceptions import OperationFailedError, PollTimeoutError
from .._polling import PollPolicy, decide
from ._core import AsyncCore

__all__ = ["AsyncFetch", "poll_until"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class AsyncFetch(Protocol[T_co]):
    """Fetch the current state of the object being polled."""

    async def __call__(self) -> T_co: ...


async def poll_until(
    core: AsyncCore,
    fetch: AsyncFetch[T],
    *,
    is_done: Callable[[T], bool],
    is_failed: Callable[[T], bool],
    failure: Callable[[T], OperationFailedError],
    policy: PollPolicy,
    on_progress: Callable[[T], object] | None = None,
) -> T:
    """Call ``fetch`` until ``is_done``; return the final object.

    Raises:
        OperationFailedError: ``is_failed`` (checked first) is true; built by ``failure``.
        PollTimeoutError: ``policy.timeout`` seconds of ``core.clock`` passed.
    """
    start = core.clock()
    attempt = 0
    while True:
        obj = await fetch()
        if on_progress is not None:
            on_progress(obj)
        elapsed = core.clock() - start
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
            raise failure(obj)
        if decision.action == "timeout":
            raise PollTimeoutError(
                f"still not finished after {elapsed:.1f} s (timeout {policy.timeout} s)",
                obj=obj,
                elapsed=elapsed,
            )
        await core.sleep(decision.delay)
        attempt += 1
