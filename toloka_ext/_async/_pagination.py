"""Auto-paging: the Pipeline API's ``limit``/``offset`` lists and API v1's keyset lists.

``client.projects.list()`` or ``client.tasks.list(...)`` returns a paginator at once and
fetches nothing until used: iterate it for every item of every page, or walk
``iter_pages()`` / ``first_page()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:  # a v1 list must not load the v2 layer (and the generated models)
    from .._v2._adapter import PageData

__all__ = [
    "AsyncFetchKeyset",
    "AsyncFetchPage",
    "AsyncKeysetPaginator",
    "AsyncPage",
    "AsyncPaginator",
]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class AsyncFetchPage(Protocol):
    """Fetch the page that starts at ``offset``."""

    async def __call__(self, offset: int, /) -> PageData: ...


def _next_offset(data: PageData, offset: int, limit: int) -> int | None:
    if not data.items:
        return None
    following = offset + len(data.items)
    if data.total is not None:
        return following if following < data.total else None
    # No total: a short page is the last one.
    return following if len(data.items) >= limit else None


class AsyncPage(Generic[T]):
    """One page: ``items``, ``total`` (when the server says it), ``offset``, ``limit``."""

    def __init__(self, data: PageData, *, offset: int, limit: int, fetch: AsyncFetchPage) -> None:
        self.items: list[T] = list(data.items)
        self.total = data.total
        self.offset = offset
        self.limit = limit
        self._data = data
        self._fetch = fetch

    def has_next_page(self) -> bool:
        return self.next_page_info() is not None

    def next_page_info(self) -> int | None:
        """The offset of the next page, or ``None`` after the last one."""
        return _next_offset(self._data, self.offset, self.limit)

    async def get_next_page(self) -> AsyncPage[T]:
        following = self.next_page_info()
        if following is None:
            raise StopAsyncIteration("no next page")
        data = await self._fetch(following)
        return AsyncPage(data, offset=following, limit=self.limit, fetch=self._fetch)

    def __repr__(self) -> str:
        return f"Page(items={len(self.items)}, offset={self.offset}, total={self.total})"


class AsyncPaginator(Generic[T]):
    """Every item of a list, fetched a page at a time when iterated.

    Example::

        async for project in client.projects.list():
            print(project.id)
        page = await client.projects.list(limit=10).first_page()
    """

    def __init__(self, *, fetch: AsyncFetchPage, limit: int, offset: int = 0) -> None:
        self._fetch = fetch
        self.limit = limit
        self.offset = offset

    async def first_page(self) -> AsyncPage[T]:
        data = await self._fetch(self.offset)
        return AsyncPage(data, offset=self.offset, limit=self.limit, fetch=self._fetch)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        page: AsyncPage[T] = await self.first_page()
        while True:
            yield page
            if not page.has_next_page():
                return
            page = await page.get_next_page()

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.items:
                yield item


class AsyncFetchKeyset(Protocol[T_co]):
    """Fetch the page after the item with id ``after`` (``None``: the first page)."""

    async def __call__(self, after: str | None, /) -> tuple[Sequence[T_co], bool]: ...


class AsyncKeysetPaginator(Generic[T]):
    """Every item of an API v1 list, a page at a time, keyed by the last id seen.

    API v1 lists answer ``{items, has_more}`` with no offset and no total: each next page
    asks for the items after the last one (``id_gt``, or ``id_lt`` sorting by ``-id``), so
    items added meanwhile are neither skipped nor repeated, and nothing is held but a page.

    Example::

        async for task in client.tasks.list(pool_id="1234", limit=300):
            print(task.id, task.remaining_overlap)
    """

    def __init__(self, *, fetch: AsyncFetchKeyset[T], key: Callable[[T], str]) -> None:
        self._fetch = fetch
        self._key = key

    async def first_page(self) -> list[T]:
        """The first page's items."""
        items, _ = await self._fetch(None)
        return list(items)

    async def iter_pages(self) -> AsyncIterator[list[T]]:
        after: str | None = None
        while True:
            items, has_more = await self._fetch(after)
            if items:
                yield list(items)
            if not has_more or not items:
                return
            after = self._key(items[-1])

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page:
                yield item
