"""Stubs for unit tests of the HTTP core: scripted ``httpx.MockTransport`` answers.

Nothing here imitates Toloka's behaviour (state, tasks, operations): only status codes,
headers and transport errors, which is what the retry loop and the core react to.
"""

from __future__ import annotations

import httpx


class Script:
    """Answers requests from a list of responses / exceptions, recording every request.

    The last step repeats forever.
    """

    def __init__(self, *steps: object) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, httpx.Response)
        return httpx.Response(step.status_code, headers=step.headers, content=step.content)


def ok(body: object = None) -> httpx.Response:
    return httpx.Response(200, json=body if body is not None else {"ok": True})


def status(code: int, headers: dict[str, str] | None = None, body: object = None) -> httpx.Response:
    return httpx.Response(
        code, headers=headers or {}, json=body or {"code": f"E{code}", "message": "m"}
    )


class Sleeps(list[float]):
    """A ``sleep=`` for ``Toloka`` that records instead of sleeping.

    Always truthy: the client takes ``sleep or default_sleep``, so an empty list would be
    replaced by real sleeping (see ``test_a_falsy_sleep_recorder_is_still_used``).
    """

    def __call__(self, seconds: float) -> None:
        self.append(seconds)

    def __bool__(self) -> bool:
        return True


class AsyncSleeps(list[float]):
    """A ``sleep=`` for ``AsyncToloka`` that records instead of sleeping (always truthy)."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)

    def __bool__(self) -> bool:
        return True


class FakeClock:
    """A monotonic clock that moves only when slept on; records every sleep."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
