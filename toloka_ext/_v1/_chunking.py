"""Cutting any iterable into numbered chunks without holding more than two at a time."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

import attrs

__all__ = ["Chunk", "Chunker", "iter_chunks"]

T = TypeVar("T")


@attrs.frozen
class Chunk(Generic[T]):
    """``items`` of the caller's iterable starting at position ``start``."""

    index: int
    start: int
    items: list[T]
    is_last: bool

    @property
    def positions(self) -> range:
        return range(self.start, self.start + len(self.items))


class Chunker(Generic[T]):
    """The one look-ahead behind both chunkers (this module's and the async one in
    ``_primitives_async.py``): :meth:`push` each next batch of at most ``size`` items read
    from the input, an empty one once it is exhausted; it hands back the batch before,
    numbered, ``is_last`` known from the batch pushed after it. Memory holds two batches."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("chunk size must be >= 1")
        self.size = size
        self._held: list[T] = []
        self._index = 0
        self._start = 0

    def push(self, batch: list[T]) -> Chunk[T] | None:
        held, self._held = self._held, batch
        if not held:
            return None  # the first batch: nothing held before it
        chunk = Chunk(index=self._index, start=self._start, items=held, is_last=not batch)
        self._index += 1
        self._start += len(held)
        return chunk


def iter_chunks(items: Iterable[T], size: int) -> Iterator[Chunk[T]]:
    """Yield chunks of at most ``size`` items; ``is_last`` is known thanks to a one-chunk lookahead.

    Memory holds at most two chunks, whatever the length of ``items`` (a generator is fine).
    """
    chunker: Chunker[T] = Chunker(size)
    iterator = iter(items)
    while True:
        batch = list(itertools.islice(iterator, size))
        chunk = chunker.push(batch)
        if chunk is not None:
            yield chunk
        if not batch:
            return
