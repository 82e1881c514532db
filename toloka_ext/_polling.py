"""Polling long-running objects: the policy and one pure decision function.

The loop that uses them is ``toloka_ext/_async/_polling.py`` (and its generated sync twin),
for v1 operations and v2 uploads, runs and exports. A failed state raises
:class:`~toloka_ext.OperationFailedError` with the object attached; an overall deadline
raises :class:`~toloka_ext.PollTimeoutError` with the last object seen.
"""

from __future__ import annotations

from typing import Literal

import attrs

from ._constants import (
    DEFAULT_POLL_BACKOFF_FACTOR,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_POLL_MAX_INTERVAL,
    DEFAULT_POLL_TIMEOUT,
)
from ._exceptions import InvalidInputError
from ._types import NotGiven

__all__ = ["PollDecision", "PollPolicy", "choose_policy", "decide"]


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
        # InvalidInputError is a ValueError: code that caught the plain one still does.
        for name in ("interval", "max_interval", "backoff_factor", "timeout"):
            value = getattr(self, name)
            if value is None and name == "timeout":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
                raise InvalidInputError(f"{name} must be a number, got {value!r}", field=name)
        if self.interval < 0 or self.max_interval < 0:
            field = "interval" if self.interval < 0 else "max_interval"
            raise InvalidInputError("poll intervals must not be negative", field=field)
        if self.backoff_factor < 1:
            raise InvalidInputError("backoff_factor must be >= 1", field="backoff_factor")
        if self.timeout is not None and self.timeout < 0:
            raise InvalidInputError("timeout must not be negative", field="timeout")

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


def choose_policy(
    default: PollPolicy, policy: PollPolicy | None, timeout: float | None | NotGiven
) -> PollPolicy:
    """``policy`` (else the client's ``default``), with ``timeout`` overriding its deadline."""
    chosen = policy or default
    if isinstance(timeout, NotGiven):
        return chosen
    return attrs.evolve(chosen, timeout=None if timeout is None else float(timeout))
