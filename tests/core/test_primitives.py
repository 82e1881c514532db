"""The primitive pair gen_sync cannot derive: the ``Worker`` both flavours share a contract of.

The async worker handles items beside the caller; the sync twin handles them when the caller
waits. Both: in order, the first error kept (never wrapped in an exception group) and the
items after it left, the caller's own exception passed through untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest

from toloka_ext import _primitives_async, _primitives_sync


class Boom(Exception):
    pass


def _run_async(body: Callable[[Any], Any], handled: list[int], fail_on: int | None) -> Any:
    async def handler(item: int) -> None:
        await anyio.sleep(0)
        if item == fail_on:
            raise Boom(item)
        handled.append(item)

    async def main() -> Any:
        async with _primitives_async.Worker(handler) as worker:
            return await body(worker)

    return anyio.run(main)


def _run_sync(body: Callable[[Any], Any], handled: list[int], fail_on: int | None) -> Any:
    def handler(item: int) -> None:
        if item == fail_on:
            raise Boom(item)
        handled.append(item)

    with _primitives_sync.Worker(handler) as worker:
        return body(worker)


async def _maybe(value: Any) -> Any:
    return await value if hasattr(value, "__await__") else value


FLAVOURS = {"async": _run_async, "sync": _run_sync}


def _body(fail: bool) -> Callable[[Any], Any]:
    """Put 0..5, wait for all; return what the caller saw."""

    def run(worker: Any) -> Any:
        async def go() -> Any:
            for item in range(6):
                await _maybe(worker.put(item))
            await _maybe(worker.wait_until(0))
            return worker.error, worker.left(), worker.unfinished

        if isinstance(worker, _primitives_async.Worker):
            return go()
        return anyio.run(go)

    return run


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_items_are_handled_in_order(flavour: str) -> None:
    handled: list[int] = []
    error, left, unfinished = FLAVOURS[flavour](_body(False), handled, None)
    assert handled == [0, 1, 2, 3, 4, 5]
    assert (error, left, unfinished) == (None, [], 0)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_first_error_is_kept_and_stops_the_worker(flavour: str) -> None:
    handled: list[int] = []
    error, left, _ = FLAVOURS[flavour](_body(True), handled, 2)
    assert handled == [0, 1]
    assert isinstance(error, Boom) and error.args == (2,)  # the exception itself, no group
    assert left == [3, 4, 5]


def test_async_worker_runs_beside_the_caller() -> None:
    """Items put are handled while the caller awaits something else (not only when it waits
    for them): what lets operations be polled while the next chunk is sent."""
    handled: list[int] = []

    async def body(worker: Any) -> list[int]:
        await worker.put(1)
        await worker.put(2)
        for _ in range(10):
            await anyio.sleep(0)  # the caller's own awaits (a request, say)
        return list(handled)

    assert _run_async(body, handled, None) == [1, 2]


def test_sync_worker_runs_when_the_caller_waits() -> None:
    handled: list[int] = []

    def body(worker: Any) -> tuple[list[int], list[int]]:
        worker.put(1)
        worker.put(2)
        before = list(handled)
        worker.wait_until(1)
        return before, list(handled)

    assert _run_sync(body, handled, None) == ([], [1])


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_the_callers_exception_passes_through_as_it_is(flavour: str) -> None:
    handled: list[int] = []

    def body(worker: Any) -> Any:
        async def go() -> Any:
            await _maybe(worker.put(0))
            raise KeyError("the caller's")

        if isinstance(worker, _primitives_async.Worker):
            return go()
        return anyio.run(go)

    with pytest.raises(KeyError, match="the caller's"):
        FLAVOURS[flavour](body, handled, None)
