"""Clocks: the sandbox reads time only through one of these, so tests can move it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock", "VirtualTime"]


class Clock(Protocol):
    """Anything with ``now() -> float`` (seconds since the epoch)."""

    def now(self) -> float: ...


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to.

    Example:
        clock = ManualClock()
        sandbox = Sandbox(clock=clock)
        clock.advance(61)  # the rate-limit window is over
    """

    def __init__(self, start: float | datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._now += seconds


class VirtualTime:
    """The time of the clients a sandbox hands out: their waits move it, nothing really waits.

    ``sleep`` / ``async_sleep`` are the clients' ``sleep=`` and ``monotonic`` their
    ``clock=``, so poll intervals, ``Retry-After`` waits, poll timeouts and call deadlines
    all run on it: a test waits minutes of virtual time in milliseconds, and a timeout is
    reached after the same waits every run. If ``clock()`` is a :class:`ManualClock` (the
    sandbox's, read at each call), a wait advances it too, so rate-limit windows pass and
    ``step_seconds`` steps happen; otherwise the time is a counter of its own.

    ``slept`` (seconds) and ``sleeps`` (calls) tell a test how much was waited.
    """

    def __init__(self, clock: Callable[[], Clock | None] = lambda: None) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._elapsed = 0.0
        self.slept = 0.0
        self.sleeps = 0

    def _manual(self) -> ManualClock | None:
        clock = self._clock()
        return clock if isinstance(clock, ManualClock) else None

    def monotonic(self) -> float:
        manual = self._manual()
        if manual is not None:
            return manual.now()
        with self._lock:
            return self._elapsed

    def sleep(self, seconds: float) -> None:
        seconds = max(float(seconds), 0.0)
        with self._lock:
            self._elapsed += seconds
            self.slept += seconds
            self.sleeps += 1
        manual = self._manual()
        if manual is not None:
            manual.advance(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)
        import anyio  # httpx's own dependency; imported here to keep this module pure

        await anyio.sleep(0)  # still a checkpoint: other tasks run, as after a real wait


def iso_v2(ts: float) -> str:
    """RFC 3339 in UTC, as v2-beta writes times."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_v1(ts: float) -> str:
    """``YYYY-MM-DDThh:mm:ss.sss`` without an offset, as v1 writes times."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
