"""The sync half of what unasync cannot derive (its twin: ``_primitives_async.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from ._v1._chunking import Chunk
from ._v1._chunking import iter_chunks as _iter_chunks

__all__ = ["iter_chunks", "sleep", "stream_body"]

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
