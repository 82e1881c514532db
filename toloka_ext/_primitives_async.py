"""The async half of what unasync cannot derive (its twin: ``_primitives_sync.py``).

Only primitives live here, never business logic: sleeping, a request body that httpx
streams with the async client, and reading tasks from either a plain or an async iterable.
``scripts/gen_sync.py`` maps this module to its sync twin.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import TypeVar

import anyio

from ._v1._chunking import Chunk, Chunker, iter_chunks

__all__ = ["aiter_chunks", "sleep", "stream_body"]

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
