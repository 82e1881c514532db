"""The polling loop for long-running objects (operations, uploads, runs, exports)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from .._exceptions import OperationFailedError, PollTimeoutError
from .._polling import Observation, PollPolicy, StatusWatch, decide, describe
from .._v2._workflow import observe_status
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
    observe: Callable[[T], Observation | None] = observe_status,
) -> T:
    """Call ``fetch`` until ``is_done``; return the final object.

    ``observe`` reads each state in the snapshot's terms (the default knows v2 runs, uploads
    and exports): a status the snapshot does not list that persists past the policy's
    bounds ends the loop (see :class:`~toloka_ext.PollPolicy`).

    Raises:
        OperationFailedError: ``is_failed`` (checked first) is true; built by ``failure``.
        ApiDriftError: a status the snapshot does not know persisted (operation, field and
            value named).
        PollTimeoutError: ``policy.timeout`` seconds of ``core.clock`` passed; the message
            names the last state seen.
    """
    start = core.clock()
    attempt = 0
    watch = StatusWatch(policy)
    while True:
        obj = await fetch()
        if on_progress is not None:
            on_progress(obj)
        now = core.clock()
        elapsed = now - start
        done, failed = is_done(obj), is_failed(obj)
        seen = observe(obj)
        if not (done or failed):
            drifted = watch.see(seen, now)
            if drifted is not None:
                raise drifted
        decision = decide(
            done=done,
            failed=failed,
            attempt=attempt,
            elapsed=elapsed,
            policy=policy,
            cap=watch.time_left(now),
        )
        if decision.action == "done":
            return obj
        if decision.action == "failed":
            raise failure(obj)
        if decision.action == "timeout":
            raise PollTimeoutError(
                f"still not finished after {elapsed:.1f} s (timeout {policy.timeout} s); "
                f"last seen: {describe(obj, seen)}",
                obj=obj,
                elapsed=elapsed,
            )
        await core.sleep(decision.delay)
        attempt += 1
