"""Clocks: the sandbox reads time only through one of these, so tests can move it."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "ManualClock", "SystemClock"]


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


def iso_v2(ts: float) -> str:
    """RFC 3339 in UTC, as v2-beta writes times."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_v1(ts: float) -> str:
    """``YYYY-MM-DDThh:mm:ss.sss`` without an offset, as v1 writes times."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
