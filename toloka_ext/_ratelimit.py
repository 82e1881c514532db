"""Token-bucket rate limiting (requests per second, items per minute), sync and async.

The time math is in :class:`TokenBucket`, a pure object driven by an injectable clock, so
it can be tested with a fake clock; :class:`RateLimiter` and :class:`AsyncRateLimiter` only
add locking and sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable

import anyio

__all__ = ["AsyncRateLimiter", "RateLimiter", "TokenBucket"]


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
        self._refill()
        return self._tokens

    def reserve(self, amount: float = 1.0) -> float:
        """Take ``amount`` tokens; return the seconds to wait before using them (``0`` if none)."""
        if amount < 0:
            raise ValueError("amount must not be negative")
        self._refill()
        self._tokens -= amount
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.rate

    def refund(self, amount: float) -> None:
        """Give back ``amount`` tokens taken by :meth:`reserve` and then not used."""
        if amount < 0:
            raise ValueError("amount must not be negative")
        self._refill()
        self._tokens = min(self.capacity, self._tokens + amount)


class RateLimiter:
    """Thread-safe blocking limiter over one or more buckets.

    Example::

        limiter = RateLimiter(TokenBucket(300))  # 300 requests/s
        limiter.acquire()
    """

    def __init__(self, *buckets: TokenBucket, sleep: Callable[[float], None] = time.sleep) -> None:
        self.buckets = buckets
        self.sleep = sleep
        self._lock = threading.Lock()

    def acquire(self, amount: float = 1.0) -> float:
        """Wait until ``amount`` may be spent; return the time slept."""
        with self._lock:
            delay = max((b.reserve(amount) for b in self.buckets), default=0.0)
        if delay > 0:
            self.sleep(delay)
        return delay


class AsyncRateLimiter:
    """The async twin of :class:`RateLimiter` (sleeps with ``anyio.sleep``)."""

    def __init__(
        self,
        *buckets: TokenBucket,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.buckets = buckets
        self.sleep = sleep
        # A thread lock is fine here: it is never held across an await.
        self._lock = threading.Lock()

    async def acquire(self, amount: float = 1.0) -> float:
        """Wait until ``amount`` may be spent; return the time slept."""
        with self._lock:
            delay = max((b.reserve(amount) for b in self.buckets), default=0.0)
        if delay > 0:
            await self.sleep(delay)
        return delay
