"""The async half of what unasync cannot derive (its twin: ``_primitives_sync.py``).

Only primitives live here, never business logic: sleeping, a request body that httpx
streams with the async client, and reading tasks from either a plain or an async iterable.
``scripts/gen_sync.py`` maps this module to its sync twin.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import TypeVar

import anyio

from ._v1._chunking import Chunk, iter_chunks

__all__ = ["aiter_chunks", "sleep", "stream_body"]

T = TypeVar("T")


async def sleep(seconds: float) -> None:
    """Sleep without blocking the event loop (asyncio or trio)."""
    await anyio.sleep(seconds)


async def aiter_chunks(items: Iterable[T] | AsyncIterable[T], size: int) -> AsyncIterator[Chunk[T]]:
    """Numbered chunks of ``items`` (a plain or an async iterable), one chunk of lookahead."""
    if not isinstance(items, AsyncIterable):
        for chunk in iter_chunks(items, size):
            yield chunk
        return
    iterator = aiter(items)
    exhausted = False

    async def take() -> list[T]:
        nonlocal exhausted
        out: list[T] = []
        while not exhausted and len(out) < size:
            try:
                out.append(await anext(iterator))
            except StopAsyncIteration:
                exhausted = True
        return out

    current = await take()
    index = start = 0
    while current:
        following = await take()
        yield Chunk(index=index, start=start, items=current, is_last=not following)
        start += len(current)
        index += 1
        current = following


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
