"""The async half of what unasync cannot derive (its twin: ``_primitives_sync.py``).

Only primitives live here, never business logic: sleeping, a request body that httpx
streams with the async client, reading tasks from either a plain or an async iterable, and a
worker that runs jobs beside the caller.
``scripts/gen_sync.py`` maps this module to its sync twin.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from types import TracebackType
from typing import Generic, Self, TypeVar

import anyio

from ._v1._chunking import Chunk, Chunker, iter_chunks

__all__ = ["Worker", "aiter_chunks", "sleep", "stream_body"]

T = TypeVar("T")


async def sleep(seconds: float) -> None:
    """Sleep without blocking the event loop (asyncio or trio)."""
    await anyio.sleep(seconds)


async def aiter_chunks(items: Iterable[T] | AsyncIterable[T], size: int) -> AsyncIterator[Chunk[T]]:
    """Numbered chunks of ``items`` (a plain or an async iterable), one chunk of lookahead
    (:class:`~toloka_ext._v1._chunking.Chunker`'s; only the reading awaits here)."""
    if not isinstance(items, AsyncIterable):
        for chunk in iter_chunks(items, size):
            yield chunk
        return
    chunker: Chunker[T] = Chunker(size)
    iterator = aiter(items)
    exhausted = False
    while True:
        batch: list[T] = []
        while not exhausted and len(batch) < size:
            try:
                batch.append(await anext(iterator))
            except StopAsyncIteration:
                exhausted = True
        ready = chunker.push(batch)
        if ready is not None:
            yield ready
        if not batch:
            return


class _Body:
    """A re-iterable async request body (a retry sends it again from the start)."""

    def __init__(self, blocks: Callable[[], Iterable[bytes]]) -> None:
        self._blocks = blocks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for block in self._blocks():
            yield block


def stream_body(blocks: Callable[[], Iterable[bytes]]) -> AsyncIterable[bytes]:
    """A body an ``httpx.AsyncClient`` streams: ``blocks()`` is called once per attempt."""
    return _Body(blocks)


class Worker(Generic[T]):
    """Runs ``handler`` over the items put to it, one at a time and in order, in a task of its
    own: the caller goes on (sending the next request) while earlier items are handled
    (operations polled, their logs read). The sync twin handles them in the caller's thread
    when it waits, which is what the sync client did before.

    The first exception a handler raises is kept in :attr:`error` and stops the worker; the
    items not started are :meth:`left`. Leaving the block waits for the items put (unless it
    is left by an exception, which cancels the one in hand).
    """

    def __init__(self, handler: Callable[[T], Awaitable[None]]) -> None:
        self._handler = handler
        self._items: deque[T] = deque()
        self._unfinished = 0
        self._closed = False
        self.error: BaseException | None = None
        self._changed = anyio.Condition()
        self._group = anyio.create_task_group()
        self._scope = anyio.CancelScope()

    async def __aenter__(self) -> Self:
        await self._group.__aenter__()
        self._group.start_soon(self._run)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            async with self._changed:
                self._closed = True
                self._changed.notify_all()
        else:
            self._scope.cancel()  # the worker only: the caller's exception goes on as it is
        await self._group.__aexit__(None, None, None)

    @property
    def unfinished(self) -> int:
        """Items put and not handled yet (the one in hand included)."""
        return self._unfinished

    def left(self) -> list[T]:
        """Items put and never started (after an error: never will be)."""
        return list(self._items)

    async def put(self, item: T) -> None:
        async with self._changed:
            self._items.append(item)
            self._unfinished += 1
            self._changed.notify_all()

    async def wait_until(self, unfinished: int) -> None:
        """Return once at most ``unfinished`` items are left to handle, or a handler failed."""
        async with self._changed:
            while self._unfinished > unfinished and self.error is None:
                await self._changed.wait()

    async def _run(self) -> None:
        with self._scope:
            await self._loop()

    async def _loop(self) -> None:
        while True:
            async with self._changed:
                while not self._items and not self._closed:
                    await self._changed.wait()
                if not self._items or self.error is not None:
                    return
                item = self._items.popleft()
            try:
                await self._handler(item)
            except anyio.get_cancelled_exc_class():
                raise
            except BaseException as exc:  # the caller re-raises it, as it would its own
                async with self._changed:
                    self.error = exc
                    self._unfinished -= 1
                    self._changed.notify_all()
                return
            async with self._changed:
                self._unfinished -= 1
                self._changed.notify_all()
