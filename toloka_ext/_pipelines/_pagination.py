"""Auto-paging over ``limit``/``offset`` lists.

A sync page iterates every item of every page (``for p in client.projects.list()``) and
offers ``iter_pages()``. The async paginator can be awaited (the first page) or iterated with
``async for`` (every item).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

from ._adapter import PageData

__all__ = ["AsyncPage", "AsyncPaginator", "SyncPage"]

T = TypeVar("T")


def _next_offset(data: PageData, offset: int, limit: int) -> int | None:
    if not data.items:
        return None
    nxt = offset + len(data.items)
    if data.total is not None:
        return nxt if nxt < data.total else None
    return nxt if len(data.items) >= limit else None


class SyncPage(Generic[T]):
    """One page; iterating it walks every item of this and the following pages."""

    def __init__(
        self, data: PageData, *, offset: int, limit: int, fetch: Callable[[int], PageData]
    ) -> None:
        self.items: list[T] = list(data.items)
        self.total = data.total
        self.offset = offset
        self.limit = limit
        self._data = data
        self._fetch = fetch

    def has_next_page(self) -> bool:
        return self.next_page_info() is not None

    def next_page_info(self) -> int | None:
        """The offset of the next page, or ``None``."""
        return _next_offset(self._data, self.offset, self.limit)

    def get_next_page(self) -> SyncPage[T]:
        nxt = self.next_page_info()
        if nxt is None:
            raise StopIteration("no next page")
        return SyncPage(self._fetch(nxt), offset=nxt, limit=self.limit, fetch=self._fetch)

    def iter_pages(self) -> Iterator[SyncPage[T]]:
        page: SyncPage[T] = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = page.get_next_page()

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.items

    def __repr__(self) -> str:
        return f"SyncPage(items={len(self.items)}, offset={self.offset}, total={self.total})"


class AsyncPage(Generic[T]):
    """One page of an async list; ``async for`` walks every following item."""

    def __init__(
        self,
        data: PageData,
        *,
        offset: int,
        limit: int,
        fetch: Callable[[int], Awaitable[PageData]],
    ) -> None:
        self.items: list[T] = list(data.items)
        self.total = data.total
        self.offset = offset
        self.limit = limit
        self._data = data
        self._fetch = fetch

    def has_next_page(self) -> bool:
        return self.next_page_info() is not None

    def next_page_info(self) -> int | None:
        return _next_offset(self._data, self.offset, self.limit)

    async def get_next_page(self) -> AsyncPage[T]:
        nxt = self.next_page_info()
        if nxt is None:
            raise StopAsyncIteration("no next page")
        return AsyncPage(await self._fetch(nxt), offset=nxt, limit=self.limit, fetch=self._fetch)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        page: AsyncPage[T] = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = await page.get_next_page()

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.items:
                yield item


class AsyncPaginator(Generic[T]):
    """``await`` it for the first page, or ``async for`` over every item."""

    def __init__(
        self, *, limit: int, fetch: Callable[[int], Awaitable[PageData]], offset: int = 0
    ) -> None:
        self._limit = limit
        self._offset = offset
        self._fetch = fetch

    async def _first(self) -> AsyncPage[T]:
        data = await self._fetch(self._offset)
        return AsyncPage(data, offset=self._offset, limit=self._limit, fetch=self._fetch)

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[T]:
        page = await self._first()
        async for item in page:
            yield item
