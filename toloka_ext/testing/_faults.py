"""Configurable, seeded faults and rate limits, and the exception of a simulated client crash."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

__all__ = ["Fault", "FaultConfig", "FaultAction", "FaultState", "SimulatedCrash"]

FaultAction = Literal[
    "status",
    "status_after",
    "reset_before",
    "reset_after",
    "kill_before",
    "kill_after",
    "crash_before",
    "crash_after",
    "late_apply",
]
_ACTIONS = frozenset(get_args(FaultAction))

# Gateways answer these themselves: an HTML page, never the API's JSON error body.
GATEWAY_STATUSES = frozenset({502, 504})


class SimulatedCrash(BaseException):  # noqa: N818 - named for what it simulates
    """The client process "died" (a ``crash_before`` / ``crash_after`` fault, in-process only).

    A ``BaseException`` on purpose: no ``except Exception`` in the code under test may swallow
    it, exactly as nothing survives a real crash. Test the code's *next* run (resume from a
    journal, retry with the same operation id) on the same sandbox.

    Example:
        sandbox.faults = FaultConfig(faults=[Fault("crash_after", route="startRun", on_nth=(1,))])
        with pytest.raises(SimulatedCrash):
            run_my_job(sandbox)          # the run was started, the job never saw the answer
        run_my_job(sandbox)              # the rerun must not start a second run
    """


@dataclass(frozen=True)
class Fault:
    """One injected fault.

    ``action``:

    * ``"status"``: answer ``status`` *without* applying the request. The body is the API's
      error body (v1 or v2 shape) built from ``code``, ``message`` and ``payload`` (v1
      ``payload``, v2 ``details``); each defaults from the status. A 429 gets
      ``Retry-After: 1`` and payload ``{"interval": "MIN"}`` unless told otherwise.
    * ``"status_after"``: apply the request, *then* answer like ``"status"`` (a gateway that
      gave up waiting for a backend that did the work).
    * ``"reset_before"`` / ``"reset_after"``: drop the connection before / after the request
      was handled (after is what makes naive clients duplicate data; a request the sandbox
      refused, e.g. with a 409, has its refusal lost the same way).
    * ``"kill_before"`` / ``"kill_after"``: stop a served process the same way (in-process
      and without ``allow_kill`` they behave like the matching reset).
    * ``"crash_before"`` / ``"crash_after"``: the in-process transport raises
      :class:`SimulatedCrash` before / after the request was applied, as if the client
      process died; served over HTTP they behave like the matching reset.
    * ``"late_apply"``: a proxy holds the request past the client's deadline and the server
      applies it later: the client's wait ends without an answer (in-process
      ``httpx.ReadTimeout``; served, the connection is dropped), and the sandbox applies the
      request once its clock has moved ``delay`` seconds on, before answering whatever
      request comes next (or when :meth:`Sandbox.apply_late` is called). Its answer goes
      nowhere. Use a :class:`ManualClock` sandbox with the clients of
      :meth:`Sandbox.client`: their waits move that clock, so a client that waits out the
      hold sees the request applied, and one that does not is caught re-sending.

    ``body`` replaces the whole answer with raw bytes (content type ``text/html`` unless
    ``headers`` name one); 502 and 504 default to a gateway's HTML page, since gateways do
    not speak the API's JSON. ``headers`` are added to the answer; ``retry_after`` is a
    shortcut for ``{"Retry-After": str(retry_after)}``.

    For the presigned storage PUT (route ``"storagePut"``) every ``*_before`` fault still
    spends the one-time upload URL without storing any bytes: real object storage consumes
    the token when the request starts, so the client has to ask for a new upload URL.

    ``delay`` (``late_apply`` only): seconds of the sandbox clock the request is held.

    ``route`` is an operationId (``"createTasks"``, ``"storagePut"``, ``"storageGet"``) or
    ``None`` for any request; ``on_nth`` fires on those 1-based request numbers of that route
    (of all requests when ``route`` is ``None``); ``rate`` fires at random (seeded).

    Example:
        FaultConfig(faults=[
            Fault("status", status=503, route="createTasks", on_nth=(1,)),
            Fault("status", status=429, route="createTasks", on_nth=(2,),
                  payload={"interval": "DAY"}, retry_after=7),
            Fault("status_after", status=504, route="createTasks", on_nth=(3,)),
            Fault("reset_after", route="createTasks", on_nth=(4,)),
        ])
    """

    action: FaultAction = "status"
    status: int = 500
    route: str | None = None
    on_nth: Sequence[int] = ()
    rate: float = 0.0
    retry_after: int | None = None
    code: str | None = None
    message: str | None = None
    payload: Any = None
    headers: Mapping[str, str] | None = None
    body: bytes | str | None = None
    delay: float = 60.0

    def __post_init__(self) -> None:
        if self.action not in _ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; use one of {sorted(_ACTIONS)}")
        if not 100 <= self.status <= 599:
            raise ValueError(f"status must be an HTTP status, got {self.status}")
        if (
            not (isinstance(self.delay, int | float) and math.isfinite(self.delay))
            or self.delay < 0
        ):
            raise ValueError(f"delay must be seconds >= 0, got {self.delay!r}")

    @property
    def applies_first(self) -> bool:
        """Whether the request is applied before the fault shows."""
        return self.action.endswith("_after")

    @property
    def answers(self) -> bool:
        """Whether the fault is an answer (rather than a lost connection or a crash)."""
        return self.action in ("status", "status_after")

    def drop(self, *, allow_kill: bool) -> str:
        """What happens to the connection: ``"crash"``, ``"kill"``, ``"timeout"`` or
        ``"reset"``."""
        if self.action == "late_apply":
            return "timeout"
        if self.action.startswith("crash"):
            return "crash"
        if self.action.startswith("kill") and allow_kill:
            return "kill"
        return "reset"

    def raw_body(self) -> bytes | None:
        """The raw answer body, if this fault does not answer with the API's error body."""
        if self.body is not None:
            return self.body.encode() if isinstance(self.body, str) else self.body
        if self.status in GATEWAY_STATUSES:
            reason = "Bad Gateway" if self.status == 502 else "Gateway Time-out"
            title = f"{self.status} {reason}"
            page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
            return (page + "\n").encode()
        return None

    def answer_headers(self) -> dict[str, str]:
        """Headers added to the answer (``retry_after`` first, so ``headers`` can override it)."""
        out: dict[str, str] = {}
        retry_after = self.retry_after
        if retry_after is None and self.status == 429:
            retry_after = 1
        if retry_after is not None:
            out["Retry-After"] = str(retry_after)
        out.update(self.headers or {})
        return out


@dataclass
class FaultConfig:
    """Faults, latency and rate limits of a sandbox (all off by default).

    Rate limits count in fixed windows of the sandbox clock: ``requests_per_minute``
    over all API requests, ``tasks_per_minute`` / ``tasks_per_day`` over v1 tasks posted.
    ``latency`` (seconds) is added to every API answer.

    Example:
        Sandbox(faults=FaultConfig(tasks_per_day=10_000, latency=0.05))
    """

    faults: Sequence[Fault] = ()
    latency: float = 0.0
    requests_per_minute: int | None = None
    tasks_per_minute: int | None = None
    tasks_per_day: int | None = None


@dataclass
class FaultState:
    """Seeded decisions and window counters (reset with the sandbox or a new FaultConfig)."""

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
