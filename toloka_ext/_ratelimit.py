"""Token buckets (requests per second, tasks per minute and per day): pure time math.

A bucket never sleeps: :meth:`TokenBucket.reserve` says how long the caller must wait, and
the caller (the request loop, ``create_tasks``) sleeps its own way, sync or async. The clock
is injectable, so the math is tested with a fake one. Buckets are thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx

from ._exceptions import QuotaExceededError, local_status_error

__all__ = ["DailyBudget", "TaskLimits", "TokenBucket"]


class TokenBucket:
    """A token bucket holding up to ``capacity`` tokens, refilled at ``rate`` tokens/second.

    :meth:`reserve` always succeeds: it takes the tokens (letting the balance go negative)
    and returns how long the caller must wait before acting. Asking for more than
    ``capacity`` at once is allowed and simply waits longer.
    """

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not rate > 0:
            raise ValueError("rate must be positive")
        self.rate = float(rate)
        self.capacity = float(capacity if capacity is not None else rate)
        if not self.capacity > 0:
            raise ValueError("capacity must be positive")
        self._clock = clock
        self._tokens = self.capacity
        self._updated = clock()
        self._lock = threading.Lock()

    @classmethod
    def per_minute(
        cls, amount: float, *, clock: Callable[[], float] = time.monotonic
    ) -> TokenBucket:
        """A bucket allowing ``amount`` per minute, with a burst of one minute's worth."""
        return cls(amount / 60.0, amount, clock=clock)

    def _refill(self) -> float:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        return now

    @property
    def available(self) -> float:
        """Tokens available now (negative while callers are waiting)."""
        with self._lock:
            self._refill()
            return self._tokens

    def reserve(self, amount: float = 1.0) -> float:
        """Take ``amount`` tokens; return the seconds to wait before using them (``0`` if none)."""
        if amount < 0:
            raise ValueError("amount must not be negative")
        with self._lock:
            self._refill()
            self._tokens -= amount
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate

    def refund(self, amount: float) -> None:
        """Give back ``amount`` tokens taken by :meth:`reserve` and then not used."""
        if amount < 0:
            raise ValueError("amount must not be negative")
        with self._lock:
            self._refill()
            self._tokens = min(self.capacity, self._tokens + amount)


class DailyBudget:
    """The client-side ``tasks_per_day`` budget: an error when spent, not a day-long sleep.

    :meth:`take` answers how long to wait before sending ``count`` tasks. When the budget is
    spent it raises :class:`QuotaExceededError` (nothing taken, nothing sent) unless
    ``wait`` is true, in which case the wait until enough of the budget is back is returned.
    """

    def __init__(self, tasks_per_day: float | None, *, url: str) -> None:
        self.limit = tasks_per_day
        self.url = url
        self._bucket = (
            TokenBucket(tasks_per_day / 86400.0, tasks_per_day) if tasks_per_day else None
        )
        self._lock = threading.Lock()

    def take(self, count: int, *, wait: bool) -> float:
        if self._bucket is None or count <= 0:
            return 0.0
        with self._lock:
            delay = self._bucket.reserve(count)
            if delay > 0 and not wait:
                self._bucket.refund(count)
                raise self.error()
        return delay

    def error(self) -> QuotaExceededError:
        """The error for a spent budget; shaped like the API's daily-quota 429, not sent."""
        message = (
            f"client-side daily limit reached: this client already sent tasks_per_day="
            f"{self.limit:g} tasks in the last 24 hours, so nothing more was sent. Pass "
            "wait_for_quota=True to wait for the budget, or a higher tasks_per_day if your "
            "account allows it"
        )
        error = local_status_error(
            QuotaExceededError,
            429,
            httpx.Request("POST", self.url),
            code="TOO_MANY_REQUESTS",
            message=message,
            payload={"interval": "DAY", "client_side": True},
        )
        assert isinstance(error, QuotaExceededError)
        return error


class TaskLimits:
    """The client-side task budgets (API v1), shared by every copy of a client."""

    def __init__(self, *, tasks_per_minute: float | None, tasks_per_day: float | None, url: str):
        self.per_minute = TokenBucket.per_minute(tasks_per_minute) if tasks_per_minute else None
        self.daily = DailyBudget(tasks_per_day, url=url)
