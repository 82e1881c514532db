"""The base of the Pipeline API resources: send a prepared request, parse the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import httpx

from .._exceptions import ApiDriftError, APIStatusError, OutcomeUnknownError
from .._v2 import _adapter as A
from ._core import AsyncCore
from ._pagination import AsyncPaginator

__all__ = ["AsyncResource"]

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 20
"""The snapshot's default ``limit`` (a guess marked in openapi/v2-beta.yaml)."""


class AsyncResource:
    """A group of Pipeline API operations over one :class:`AsyncCore`."""

    def __init__(self, core: AsyncCore) -> None:
        self._core = core

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._core.settings.base_url}>"

    async def _send(self, spec: A.RequestSpec, *, stream: bool = False) -> httpx.Response:
        try:
            return await self._core.request(
                "v2",
                spec.method,
                spec.url,
                params=spec.params,
                content=spec.content,
                headers=spec.headers,
                idempotent=spec.idempotent,
                stream=stream,
            )
        except APIStatusError as exc:
            if exc.status_code in (404, 405):
                await self._core.verify_api("v2")
            A.check_status_error(spec, exc)
            raise
        except OutcomeUnknownError as exc:
            check = A.UNKNOWN_OUTCOME_CHECKS.get(spec.operation)
            if check is not None:
                exc.message = f"{exc.message}: {check}"
                exc.args = (exc.message,)
            raise

    async def _call(self, spec: A.RequestSpec, parse: Callable[[str, httpx.Response], T]) -> T:
        response = await self._send(spec)
        try:
            return parse(spec.operation, response)
        except ApiDriftError as drift:
            if drift.field == "<body>":
                # A 2xx that is not JSON: a wrong base_url (a web page) before drift.
                await self._core.verify_api("v2")
            raise

    def _paginate(
        self,
        limit: int,
        build: Callable[[int], A.RequestSpec],
        parse: Callable[[str, httpx.Response], A.PageData],
    ) -> AsyncPaginator[T]:
        A.check_page_size(limit)

        async def fetch(offset: int) -> A.PageData:
            return await self._call(build(offset), parse)

        return AsyncPaginator(fetch=fetch, limit=limit)
