"""The sync half of what unasync cannot derive (its twin: ``_primitives_async.py``)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Generic, Self, TypeVar

from ._v1._chunking import Chunk
from ._v1._chunking import iter_chunks as _iter_chunks

__all__ = ["Worker", "iter_chunks", "sleep", "stream_body"]

T = TypeVar("T")


def sleep(seconds: float) -> None:
    """Block the calling thread."""
    time.sleep(seconds)


def iter_chunks(items: Iterable[T], size: int) -> Iterator[Chunk[T]]:
    """Numbered chunks of ``items``, one chunk of lookahead."""
    return _iter_chunks(items, size)


class _Body:
    """A re-iterable request body (a retry sends it again from the start)."""

    def __init__(self, blocks: Callable[[], Iterable[bytes]]) -> None:
        self._blocks = blocks

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._blocks())


def stream_body(blocks: Callable[[], Iterable[bytes]]) -> Iterable[bytes]:
    """A body an ``httpx.Client`` streams: ``blocks()`` is called once per attempt."""
    return _Body(blocks)


class Worker(Generic[T]):
    """The twin of the async ``Worker``: items are handled in order, in the caller's thread,
    when it waits for them (:meth:`wait_until`). Same attributes, same contract."""

    def __init__(self, handler: Callable[[T], None]) -> None:
        self._handler = handler
        self._items: deque[T] = deque()
        self.error: BaseException | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.wait_until(0)

    @property
    def unfinished(self) -> int:
        return len(self._items)

    def left(self) -> list[T]:
        return list(self._items)

    def put(self, item: T) -> None:
        self._items.append(item)

    def wait_until(self, unfinished: int) -> None:
        while len(self._items) > unfinished and self.error is None:
            item = self._items.popleft()
            try:
                self._handler(item)
            except BaseException as exc:  # as the async twin: kept, re-raised by the caller
                self.error = exc
