"""Polling long-running objects: the policy and the pure decisions of the loop.

The loop that uses them is ``toloka_ext/_async/_polling.py`` (and its generated sync twin),
for v1 operations and v2 uploads, runs and exports. A failed state raises
:class:`~toloka_ext.OperationFailedError` with the object attached; an overall deadline
raises :class:`~toloka_ext.PollTimeoutError` with the last object seen, and its message
names that state.

No unknown costs the whole timeout: a status the snapshot does not know that persists
(``PollPolicy.unknown_status_polls`` polls in a row, or ``unknown_status_timeout`` seconds,
whichever comes first; or two polls in a row while the object's own progress says the work
is done) ends the loop with :class:`~toloka_ext.ApiDriftError` naming the operation, the
field and the value (:class:`StatusWatch`).
"""

from __future__ import annotations

import warnings
from typing import Literal

import attrs

from ._constants import (
    DEFAULT_POLL_BACKOFF_FACTOR,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_POLL_MAX_INTERVAL,
    DEFAULT_POLL_TIMEOUT,
    DEFAULT_UNKNOWN_STATUS_POLLS,
    DEFAULT_UNKNOWN_STATUS_TIMEOUT,
)
from ._exceptions import ApiDriftError, InvalidInputError
from ._types import NotGiven

__all__ = [
    "Observation",
    "PollDecision",
    "PollPolicy",
    "StatusWatch",
    "choose_policy",
    "decide",
    "describe",
    "renamed_policy",
]


def _number(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise InvalidInputError(f"{name} must be a number, got {value!r}", field=name)


@attrs.frozen
class PollPolicy:
    """How often and how long to poll, and how long a status nobody knows may last.

    The n-th wait (0-based) is ``min(interval * backoff_factor**n, max_interval)``, cut so it
    does not overshoot ``timeout`` (seconds overall; ``None`` waits forever).

    A status the snapshot does not list (``status.is_known`` is ``False``) ends the poll with
    :class:`~toloka_ext.ApiDriftError` once it has been seen on ``unknown_status_polls``
    polls in a row (default 10) or for ``unknown_status_timeout`` seconds (default 120),
    whichever comes first, or on two polls in a row while the object's own progress says
    its work is done (a run whose items are all completed or failed, an export that carries
    a download URL, a v1 operation at 100%). ``None`` turns a bound off; both ``None``
    waits for an unknown status until ``timeout``, as before.
    """

    interval: float = DEFAULT_POLL_INTERVAL
    max_interval: float = DEFAULT_POLL_MAX_INTERVAL
    backoff_factor: float = DEFAULT_POLL_BACKOFF_FACTOR
    timeout: float | None = DEFAULT_POLL_TIMEOUT
    unknown_status_polls: int | None = DEFAULT_UNKNOWN_STATUS_POLLS
    unknown_status_timeout: float | None = DEFAULT_UNKNOWN_STATUS_TIMEOUT

    def __attrs_post_init__(self) -> None:
        # InvalidInputError is a ValueError: code that caught the plain one still does.
        for name in ("interval", "max_interval", "backoff_factor", "timeout"):
            value = getattr(self, name)
            if value is None and name == "timeout":
                continue
            _number(name, value)
        if self.interval < 0 or self.max_interval < 0:
            field = "interval" if self.interval < 0 else "max_interval"
            raise InvalidInputError("poll intervals must not be negative", field=field)
        if self.backoff_factor < 1:
            raise InvalidInputError("backoff_factor must be >= 1", field="backoff_factor")
        if self.timeout is not None and self.timeout < 0:
            raise InvalidInputError("timeout must not be negative", field="timeout")
        polls = self.unknown_status_polls
        if polls is not None and (isinstance(polls, bool) or not isinstance(polls, int)):
            raise InvalidInputError(
                f"unknown_status_polls must be an integer or None, got {polls!r}",
                field="unknown_status_polls",
            )
        if polls is not None and polls < 1:
            raise InvalidInputError(
                "unknown_status_polls must be at least 1", field="unknown_status_polls"
            )
        if self.unknown_status_timeout is not None:
            _number("unknown_status_timeout", self.unknown_status_timeout)
            if self.unknown_status_timeout < 0:
                raise InvalidInputError(
                    "unknown_status_timeout must not be negative", field="unknown_status_timeout"
                )

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
    cap: float | None = None,
) -> PollDecision:
    """Decide what to do after poll number ``attempt`` (0-based) observed a state.

    ``cap`` (e.g. what is left of the time an unknown status may last) cuts the wait.
    """
    if failed:
        return PollDecision("failed")
    if done:
        return PollDecision("done")
    delay = policy.wait_for(attempt)
    if cap is not None:
        delay = min(delay, max(0.0, cap))
    if policy.timeout is not None:
        remaining = policy.timeout - elapsed
        if remaining <= 0:
            return PollDecision("timeout")
        delay = min(delay, remaining)
    return PollDecision("wait", delay)


def renamed_policy(poll_policy: PollPolicy | None, policy: PollPolicy | None) -> PollPolicy | None:
    """``poll_policy=``, or what the deprecated ``policy=`` gave (it warns: it goes in 0.3.0).

    One name for one concept: the client's setting, ``operations.wait`` and ``create_tasks``
    always said ``poll_policy``.
    """
    if policy is None:
        return poll_policy
    if poll_policy is not None:
        raise InvalidInputError("give poll_policy= only (policy= is its old name)", field="policy")
    warnings.warn(
        "policy= is deprecated: use poll_policy= (policy= is removed in 0.3.0)",
        DeprecationWarning,
        stacklevel=3,
    )
    return policy


def choose_policy(
    default: PollPolicy, policy: PollPolicy | None, timeout: float | None | NotGiven
) -> PollPolicy:
    """``policy`` (else the client's ``default``), with ``timeout`` overriding its deadline."""
    chosen = policy or default
    if isinstance(timeout, NotGiven):
        return chosen
    return attrs.evolve(chosen, timeout=None if timeout is None else float(timeout))


@attrs.frozen
class Observation:
    """What one poll saw of a long-running object, in the snapshot's terms.

    ``operation`` and ``field`` say where the status came from (``getRun``, ``status``),
    ``value`` is the raw status, ``known`` whether the snapshot lists it, ``work_done``
    whether the object's own progress fields say nothing is left to do, and ``summary`` one
    line naming the object and its state (no presigned URL, no credential).
    """

    operation: str
    field: str
    value: str
    known: bool
    summary: str
    snapshot_version: str
    work_done: bool = False


def describe(obj: object, seen: Observation | None) -> str:
    """The last state seen, for a message: the observation's summary, else a short repr."""
    if seen is not None:
        return seen.summary
    text = repr(obj)
    return text if len(text) <= 200 else text[:197] + "..."


class StatusWatch:
    """How long a status the snapshot does not know has lasted (pure: no clock of its own).

    Feed it each poll's :class:`Observation` and the client's clock; :meth:`see` returns the
    :class:`~toloka_ext.ApiDriftError` that ends the poll once the unknown status has
    persisted past the policy's bounds, and :meth:`time_left` how long the next wait may
    be so that the time bound is kept to the poll.
    """

    def __init__(self, policy: PollPolicy) -> None:
        self.policy = policy
        self.since: float | None = None
        self.polls = 0
        self.done_polls = 0
        self.first: str | None = None

    def see(self, seen: Observation | None, now: float) -> ApiDriftError | None:
        if seen is None or seen.known:
            self.since, self.polls, self.done_polls, self.first = None, 0, 0, None
            return None
        if self.since is None:
            self.since, self.first = now, seen.value
        self.polls += 1
        self.done_polls = self.done_polls + 1 if seen.work_done else 0
        lasted = now - self.since
        policy = self.policy
        why: str | None = None
        if self.done_polls >= 2:
            why = "while the object's own progress says its work is done"
        elif policy.unknown_status_polls is not None and self.polls >= policy.unknown_status_polls:
            why = f"on {self.polls} polls in a row (unknown_status_polls)"
        elif policy.unknown_status_timeout is not None and lasted >= policy.unknown_status_timeout:
            why = f"for {lasted:.1f} s (unknown_status_timeout {policy.unknown_status_timeout} s)"
        if why is None:
            return None
        earlier = f" (first {self.first!r})" if self.first not in (None, seen.value) else ""
        return ApiDriftError(
            operation=seen.operation,
            field=seen.field,
            snapshot_version=seen.snapshot_version,
            detail=(
                f"{seen.field} {seen.value!r}{earlier}, a value the snapshot does not list, "
                f"lasted {why}; polling it longer cannot tell whether the work finished "
                f"(last seen: {seen.summary})"
            ),
        )

    def time_left(self, now: float) -> float | None:
        """Seconds until the unknown status's time bound (``None``: no bound running)."""
        if self.since is None or self.policy.unknown_status_timeout is None:
            return None
        return self.policy.unknown_status_timeout - (now - self.since)
