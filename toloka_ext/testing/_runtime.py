"""What a sandbox keeps while it runs but never persists: seeded randomness, fault windows,
request numbering and presigned-URL tokens. Restarting on the same SQLite file starts these
afresh, as a restarted server would."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from ._errors import ApiError
from ._faults import Fault, FaultConfig, FaultState

__all__ = ["Held", "Runtime"]


@dataclass(frozen=True)
class Held:
    """A request a ``late_apply`` fault holds: ``apply()`` runs it, at ``due`` or later."""

    due: float
    operation: str
    apply: Callable[[], None]


class Runtime:
    """Runtime state of one sandbox, handed to the handlers next to the backend and config."""

    def __init__(self, seed: int, faults: FaultConfig | None = None) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self._requests = 0
        self.faults = faults or FaultConfig()
        self._fault_state = FaultState(self.faults, seed)
        self.held: list[Held] = []
        """Requests held by ``late_apply`` faults, in arrival order."""

    def apply_held(self, now: float | None) -> int:
        """Apply the held requests that are due at ``now`` (all of them for ``None``)."""
        due = [h for h in self.held if now is None or h.due <= now]
        if not due:
            return 0
        self.held = [h for h in self.held if not (now is None or h.due <= now)]
        for held in due:
            held.apply()
        return len(due)

    def set_faults(self, faults: FaultConfig) -> None:
        """Use ``faults`` from now on: ``on_nth`` and the rate-limit windows count afresh."""
        self.faults = faults
        self._fault_state = FaultState(faults, self.seed)

    def next_request_id(self) -> str:
        self._requests += 1
        return f"req-{self.seed:x}-{self._requests:08d}"

    def new_token(self) -> str:
        """A presigned-URL token (unguessable on purpose: tests must use the URL they got)."""
        return secrets.token_urlsafe(24)

    def pick_fault(self, operation_id: str) -> Fault | None:
        """The fault this request of ``operation_id`` gets, if any (counts the request)."""
        return self._fault_state.pick(operation_id)

    def take_request(self, now: float) -> None:
        """Count one API request against ``requests_per_minute`` (429 when over it)."""
        limit = self.faults.requests_per_minute
        wait = self._fault_state.take("requests", 1, limit, 60, now)
        if wait is not None:
            raise ApiError(
                429,
                f"Too many requests: the limit is {limit} a minute",
                payload={"interval": "MIN"},
                headers={"Retry-After": str(wait)},
            )

    def take_tasks(self, count: int, now: float) -> None:
        """Count ``count`` v1 tasks against the per-minute and per-day limits (429 when over)."""
        for name, limit, span, interval in (
            ("tasks_min", self.faults.tasks_per_minute, 60, "MIN"),
            ("tasks_day", self.faults.tasks_per_day, 86400, "DAY"),
        ):
            wait = self._fault_state.take(name, count, limit, span, now)
            if wait is not None:
                raise ApiError(
                    429,
                    f"Too many tasks: the limit is {limit} per {interval.lower()}",
                    code="TOO_MANY_REQUESTS",
                    payload={"interval": interval},
                    headers={"Retry-After": str(wait)},
                )
