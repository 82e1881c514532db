"""``client.operations``: API v1 asynchronous operations (get, log, wait, list)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar
from urllib.parse import quote

import httpx

from .._exceptions import ApiDriftError, OperationFailedError
from .._polling import PollPolicy, choose_policy
from .._progress import bars, operation_bar
from .._types import NOT_GIVEN, NotGiven
from .._v1._logic import json_body, parse_log, parse_page
from .._v1._models import Operation, OperationLogItem
from .._v1._validation import check_id, list_params
from ._core import AsyncCore
from ._pagination import AsyncKeysetPaginator
from ._polling import poll_until

__all__ = ["AsyncOperations", "AsyncV1Resource", "path_id"]

T = TypeVar("T")


def _describe(op: Operation) -> str:
    return f"operation {op.id} status {op.status} details {op.details}"


def _operation_failed(op: Operation) -> OperationFailedError:
    return OperationFailedError(f"ended in a failed state: {_describe(op)}", obj=op)


def path_id(value: str | uuid.UUID, field: str) -> str:
    return quote(check_id(value, field), safe="")


class AsyncV1Resource:
    """The base of the API v1 resources: JSON answers, read with the core's checks."""

    def __init__(self, core: AsyncCore) -> None:
        self._core = core

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._core.settings.v1_base_url}>"

    async def _json(self, response: httpx.Response, operation: str) -> object:
        """The JSON body of a 2xx answer; not JSON: a wrong ``v1_base_url``, else drift."""
        try:
            return json_body(response, operation)
        except ApiDriftError:
            await self._core.verify_api("v1")
            raise

    def _keyset(
        self,
        path: str,
        operation: str,
        params: dict[str, str | int],
        parse: Callable[[object, str], T],
        *,
        key: Callable[[T], str],
    ) -> AsyncKeysetPaginator[T]:
        """A list paged by id: ``id_gt`` the last id (``id_lt`` when sorting by ``-id``)."""

        async def fetch(after: str | None) -> tuple[Sequence[T], bool]:
            query = dict(params)
            if after is not None:
                query["id_lt" if params["sort"] == "-id" else "id_gt"] = after
            response = await self._core.request("v1", "GET", path, params=query)
            return parse_page(await self._json(response, operation), operation, parse)

        param = "id_lt" if params["sort"] == "-id" else "id_gt"
        return AsyncKeysetPaginator(fetch=fetch, key=key, operation=operation, param=param)


class AsyncOperations(AsyncV1Resource):
    """``client.operations``: what API v1 runs in the background (task batches, ...)."""

    async def get(self, operation_id: str | uuid.UUID) -> Operation:
        """Fetch an operation: ``await client.operations.get(op_id)``."""
        path = f"/operations/{path_id(operation_id, 'operation_id')}"
        response = await self._core.request("v1", "GET", path)
        return Operation.from_dict(await self._json(response, "getOperation"))

    async def get_log(self, operation_id: str | uuid.UUID) -> list[OperationLogItem]:
        """An operation's log: one entry per step (``TASK_CREATE``, ``TASK_VALIDATE``,
        and steps that are not about one task, such as ``POOL_OPEN``)."""
        return parse_log(await self._log_body(operation_id))

    async def _log_body(self, operation_id: str | uuid.UUID) -> object:
        """The log as decoded JSON, unparsed (``create_tasks`` reads a whole chunk's at once)."""
        path = f"/operations/{path_id(operation_id, 'operation_id')}/log"
        response = await self._core.request("v1", "GET", path)
        return await self._json(response, "getOperationLog")

    async def wait(
        self,
        operation_id: str | uuid.UUID,
        *,
        poll_policy: PollPolicy | None = None,
        timeout: float | None | NotGiven = NOT_GIVEN,
        on_progress: Callable[[Operation], object] | None = None,
        progress: bool = False,
    ) -> Operation:
        """Poll with backoff until ``SUCCESS`` and return the operation.

        ``progress=True`` shows the operation's percentage as a bar on stderr (Rich).

        A status the snapshot does not list ends the wait with ``ApiDriftError`` once it has
        lasted the policy's ``unknown_status_polls`` / ``unknown_status_timeout`` (or twice
        in a row at 100%), not at the timeout.

        Raises:
            OperationFailedError: the operation ended ``FAIL`` (``.obj`` is the operation).
            ApiDriftError: a status the snapshot does not know persisted.
            PollTimeoutError: the policy's timeout (or ``timeout`` seconds) passed; the
                message names the last state seen.
        """

        async def fetch() -> Operation:
            return await self.get(operation_id)

        with bars(progress) as display:
            return await poll_until(
                self._core,
                fetch,
                is_done=lambda op: op.succeeded,
                is_failed=lambda op: op.failed,
                failure=_operation_failed,
                policy=choose_policy(self._core.settings.poll_policy, poll_policy, timeout),
                on_progress=operation_bar(display, on_progress),
                observe=Operation.observation,
            )

    def list(
        self,
        *,
        type: str | None = None,
        status: str | None = None,
        submitted_gt: datetime | str | None = None,
        submitted_gte: datetime | str | None = None,
        submitted_lt: datetime | str | None = None,
        submitted_lte: datetime | str | None = None,
        finished_gt: datetime | str | None = None,
        finished_gte: datetime | str | None = None,
        finished_lt: datetime | str | None = None,
        finished_lte: datetime | str | None = None,
        id_gt: str | None = None,
        id_gte: str | None = None,
        id_lt: str | None = None,
        id_lte: str | None = None,
        sort: str = "id",
        limit: int = 50,
    ) -> AsyncKeysetPaginator[Operation]:
        """The account's operations matching every filter given, a page at a time.

        ``type`` (e.g. ``TASK.BATCH_CREATE``) and ``status`` (``PENDING``, ``RUNNING``,
        ``SUCCESS``, ``FAIL``) are sent as given; times take a datetime or an ISO 8601 string
        (UTC unless it has an offset), sent as v1 writes times.

        Example::

            async for op in client.operations.list(type="TASK.BATCH_CREATE", status="FAIL"):
                print(op.id, op.details)
        """
        params = list_params(
            sort=sort,
            limit=limit,
            times={
                "submitted_gt": submitted_gt,
                "submitted_gte": submitted_gte,
                "submitted_lt": submitted_lt,
                "submitted_lte": submitted_lte,
                "finished_gt": finished_gt,
                "finished_gte": finished_gte,
                "finished_lt": finished_lt,
                "finished_lte": finished_lte,
            },
            counts={},
            strings={
                "type": type,
                "status": status,
                "id_gt": id_gt,
                "id_gte": id_gte,
                "id_lt": id_lt,
                "id_lte": id_lte,
            },
        )
        return self._keyset(
            "/operations",
            "listOperations",
            params,
            lambda item, _field: Operation.from_dict(item, operation="listOperations"),
            key=lambda op: op.id,
        )
