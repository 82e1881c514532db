"""Auto-paging: the Pipeline API's ``limit``/``offset`` lists and API v1's keyset lists.

``client.projects.list()`` or ``client.tasks.list(...)`` returns a paginator at once and
fetches nothing until used: iterate it for every item of every page, or walk
``iter_pages()`` / ``first_page()``.

Every walk advances or ends with ``ApiDriftError`` (the checks are in
``toloka_ext/_paging.py``): a repeated page, paging fields that went away, a paging scheme
the snapshot does not know or fewer items than the server said never end in an endless
loop or a silently short list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from .._paging import check_advance, check_keyset_page, next_offset

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
        """The offset of the next page, or ``None`` after the last one.

        Without a total from the server only an empty page is known to be the last.

        Raises:
            ApiDriftError: the answer pages some other way, or is empty before its total.
        """
        return next_offset(self._data, offset=self.offset)

    async def get_next_page(self) -> AsyncPage[T]:
        """The page after this one.

        Raises:
            StopAsyncIteration: this is the last page.
            ApiDriftError: the next page does not move on from this one.
        """
        following = self.next_page_info()
        if following is None:
            raise StopAsyncIteration("no next page")
        data = await self._fetch(following)
        check_advance(self._data, data, previous_offset=self.offset, offset=following)
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
    items added meanwhile are neither skipped nor repeated, and nothing is held but a page
    (and the last id of each page, to see that the list advances).

    Example::

        async for task in client.tasks.list(pool_id="1234", limit=300):
            print(task.id, task.remaining_overlap)
    """

    def __init__(
        self,
        *,
        fetch: AsyncFetchKeyset[T],
        key: Callable[[T], str],
        operation: str = "list",
        param: str = "id_gt",
    ) -> None:
        self._fetch = fetch
        self._key = key
        self._operation = operation
        self._param = param

    async def first_page(self) -> list[T]:
        """The first page's items."""
        items, _ = await self._fetch(None)
        return list(items)

    async def iter_pages(self) -> AsyncIterator[list[T]]:
        after: str | None = None
        seen: set[str] = set()
        while True:
            items, has_more = await self._fetch(after)
            keys = [self._key(item) for item in items]
            check_keyset_page(self._operation, self._param, after, keys, has_more, seen)
            if items:
                yield list(items)
            if not has_more:
                return
            after = keys[-1]

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page:
                yield item
