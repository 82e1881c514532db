"""Cutting any iterable into numbered chunks without holding more than two at a time."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

import attrs

__all__ = ["Chunk", "iter_chunks"]

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


def iter_chunks(items: Iterable[T], size: int) -> Iterator[Chunk[T]]:
    """Yield chunks of at most ``size`` items; ``is_last`` is known thanks to a one-chunk lookahead.

    Memory holds at most two chunks, whatever the length of ``items`` (a generator is fine).
    """
    if size < 1:
        raise ValueError("chunk size must be >= 1")
    iterator = iter(items)
    current = list(itertools.islice(iterator, size))
    index = 0
    start = 0
    while current:
        following = list(itertools.islice(iterator, size))
        yield Chunk(index=index, start=start, items=current, is_last=not following)
        start += len(current)
        index += 1
        current = following
