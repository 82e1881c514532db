"""Configurable, seeded faults and rate limits."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Fault", "FaultConfig", "FaultAction"]

FaultAction = Literal["status", "reset_before", "reset_after", "kill_before", "kill_after"]


@dataclass(frozen=True)
class Fault:
    """One injected fault.

    ``action``: ``"status"`` answers ``status`` (500/503/429) without applying the request;
    ``"reset_before"`` drops the connection before the request is applied, ``"reset_after"``
    after it is applied (the case that makes clients duplicate data); ``"kill_*"`` stops a
    served process the same way (in-process it behaves like the matching reset).
    ``route`` is an operationId (``"createTasks"``) or ``None`` for any route; ``on_nth``
    fires on those 1-based request numbers of that route; ``rate`` fires at random (seeded).

    Example:
        FaultConfig(faults=[Fault("reset_after", route="createTasks", on_nth=(1,))])
    """

    action: FaultAction = "status"
    status: int = 500
    route: str | None = None
    on_nth: Sequence[int] = ()
    rate: float = 0.0
    retry_after: int = 1


@dataclass
class FaultConfig:
    """Faults, latency and rate limits of a sandbox (all off by default).

    Rate limits count in fixed windows of the sandbox clock: ``requests_per_minute``
    over all API requests, ``tasks_per_minute`` / ``tasks_per_day`` over v1 tasks posted.
    ``latency`` (seconds) is added to every API answer.
    """

    faults: Sequence[Fault] = ()
    latency: float = 0.0
    requests_per_minute: int | None = None
    tasks_per_minute: int | None = None
    tasks_per_day: int | None = None


@dataclass
class FaultState:
    """Seeded decisions and window counters (reset with the sandbox)."""

    config: FaultConfig
    seed: int
    rng: random.Random = field(init=False)
    route_counts: dict[str, int] = field(default_factory=dict)
    windows: dict[str, tuple[int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def pick(self, route: str) -> Fault | None:
        n = self.route_counts.get(route, 0) + 1
        self.route_counts[route] = n
        for fault in self.config.faults:
            if fault.route not in (None, route):
                continue
            nth = self.route_counts[route] if fault.route else sum(self.route_counts.values())
            if nth in fault.on_nth:
                return fault
            if fault.rate and self.rng.random() < fault.rate:
                return fault
        return None

    def take(self, name: str, amount: int, limit: int | None, span: int, now: float) -> int | None:
        """Count ``amount`` in the window; the seconds to wait if that goes over ``limit``."""
        if limit is None:
            return None
        window = int(now // span)
        start, used = self.windows.get(name, (window, 0))
        if start != window:
            used = 0
        if used + amount > limit:
            self.windows[name] = (window, used)
            return max(1, math.ceil((window + 1) * span - now))
        self.windows[name] = (window, used + amount)
        return None
