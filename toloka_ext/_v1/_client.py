"""``TasksClient`` / ``AsyncTasksClient``: create v1 tasks at full rate, exactly once."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Self

import anyio
import httpx

from .._auth import Secret, resolve_credentials
from .._base_client import AsyncAPIClient, SyncAPIClient
from .._constants import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    V1_BASE_URL,
    V1_MAX_TASKS_PER_SYNC_REQUEST,
    V1_REQUESTS_PER_SECOND,
    V1_SANDBOX_BASE_URL,
    V1_TASKS_PER_DAY,
    V1_TASKS_PER_MINUTE,
)
from .._exceptions import (
    APIConnectionError,
    APIStatusError,
    ConflictError,
    NotFoundError,
    OperationFailedError,
    OutcomeUnknownError,
    TolokaError,
)
from .._logging import logger
from .._polling import PollPolicy, apoll_until, poll_until
from .._ratelimit import AsyncRateLimiter, RateLimiter, TokenBucket
from .._types import TimeoutTypes
from ._chunking import Chunk, iter_chunks
from ._logic import (
    CreateOptions,
    DailyBudget,
    apply_log,
    apply_sync_response,
    apply_validation_error,
    check_tasks_argument,
    json_body,
    mark_unaccounted_unknown,
    normalize_chunk,
    prevalidate,
)
from ._models import (
    CreateProgress,
    Operation,
    OperationLogItem,
    Task,
    TaskCreateResult,
    _drift,
)
from ._validation import normalize_task

__all__ = ["AsyncTasksClient", "TasksClient"]

ProgressCallback = Callable[[CreateProgress], object]
_JSON = {"Content-Type": "application/json"}
_MAX_IN_FLIGHT = 4
"""Async operations submitted ahead of the one being awaited (bounds memory to a few chunks)."""


def _task_buckets(tasks_per_minute: float | None) -> list[TokenBucket]:
    return [TokenBucket.per_minute(tasks_per_minute)] if tasks_per_minute else []


def _base_url(base_url: str | None, sandbox: bool) -> str:
    if base_url is not None:
        return base_url
    return V1_SANDBOX_BASE_URL if sandbox else V1_BASE_URL


def _single_params(*, allow_defaults: bool, open_pool: bool) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if allow_defaults:
        params["allow_defaults"] = True
    if open_pool:
        params["open_pool"] = True
    return params


def _parse_log(data: object) -> list[OperationLogItem]:
    if not isinstance(data, list):
        raise _drift("getOperationLog", "(body)", f"expected an array, got {type(data).__name__}")
    return [OperationLogItem.from_dict(item, index=i) for i, item in enumerate(data)]


def _attach(exc: TolokaError, result: TaskCreateResult) -> TolokaError:
    exc.partial_result = result
    return exc


class _OutcomeUnknown(Exception):
    """Internal: an async submit failed and probing the operation failed too."""

    def __init__(self, error: APIConnectionError) -> None:
        super().__init__(str(error))
        self.error = error


class _Pending:
    """An async operation submitted for one chunk, with what is needed to read its log."""

    __slots__ = ("chunk", "operation", "payloads")

    def __init__(
        self, chunk: Chunk[Any], payloads: list[dict[str, Any]], operation: Operation
    ) -> None:
        self.chunk = chunk
        self.payloads = payloads
        self.operation = operation


class TasksClient:
    """Create Toloka v1 tasks: validated, chunked, rate-limited, retried, never duplicated.

    Credentials come from ``oauth_token=``/``api_key=`` or ``TOLOKA_OAUTH_TOKEN``/
    ``TOLOKA_API_KEY``. ``transport``/``http_client`` are for tests and custom networking.
    ``tasks_per_minute``, ``tasks_per_day`` and ``requests_per_second`` default to the
    documented limits (``None`` turns one off); a spent daily budget raises
    :class:`QuotaExceededError` unless ``wait_for_quota=True``.

    Example::

        from toloka_ext import Task, TasksClient

        with TasksClient(sandbox=True) as client:
            result = client.create_tasks(
                (Task(pool_id, {"url": u}, overlap=3) for u in urls),
                async_mode=True, skip_invalid_items=True, open_pool=True,
            )
            print(len(result.task_ids), result.errors, result.unknown)
    """

    def __init__(
        self,
        *,
        oauth_token: str | Secret | None = None,
        api_key: str | Secret | None = None,
        base_url: str | None = None,
        sandbox: bool = False,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        tasks_per_minute: float | None = V1_TASKS_PER_MINUTE,
        tasks_per_day: float | None = V1_TASKS_PER_DAY,
        requests_per_second: float | None = V1_REQUESTS_PER_SECOND,
        wait_for_quota: bool = False,
        poll_policy: PollPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        credentials = resolve_credentials(api_key=api_key, oauth_token=oauth_token)
        self.sleep = sleep
        self._api = SyncAPIClient(
            base_url=_base_url(base_url, sandbox),
            credentials=credentials,
            timeout=timeout,
            max_retries=max_retries,
            requests_per_second=requests_per_second,
            wait_for_quota=wait_for_quota,
            transport=transport,
            http_client=http_client,
            sleep=self._sleep,
        )
        self.poll_policy = poll_policy or PollPolicy()
        self._task_limiter = RateLimiter(*_task_buckets(tasks_per_minute), sleep=self._sleep)
        self._daily = DailyBudget(tasks_per_day, url=f"{self._api.base_url}/tasks")

    def _acquire_tasks(self, count: int, wait_for_quota: bool | None) -> None:
        wait = self._api.wait_for_quota if wait_for_quota is None else wait_for_quota
        delay = self._daily.take(count, wait=wait)
        if delay > 0:
            self._sleep(delay)
        self._task_limiter.acquire(count)

    def _sleep(self, seconds: float) -> None:
        self.sleep(seconds)

    @property
    def api(self) -> SyncAPIClient:
        """The underlying HTTP core client."""
        return self._api

    def __repr__(self) -> str:
        return f"TasksClient({self._api!r})"

    def close(self) -> None:
        self._api.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- single calls -------------------------------------------------------------------

    def create_task(
        self,
        task: Task | Mapping[str, Any],
        *,
        allow_defaults: bool = False,
        open_pool: bool = False,
    ) -> Task:
        """Create one task synchronously and return it (with its ``id``).

        Note:
            Not re-sent once it may have been applied: a lost answer, or a 502/504 from a
            gateway, raises :class:`OutcomeUnknownError`.
        """
        payload = normalize_task(task, 0, allow_defaults=allow_defaults)
        self._acquire_tasks(1, None)
        response = self._api.request(
            "POST",
            "/tasks",
            json=payload,
            params=_single_params(allow_defaults=allow_defaults, open_pool=open_pool),
        )
        return Task.from_dict(json_body(response, "createTasks"))

    def get_operation(self, operation_id: str | uuid.UUID) -> Operation:
        """Fetch an operation."""
        response = self._api.request("GET", f"/operations/{operation_id}")
        return Operation.from_dict(json_body(response, "getOperation"))

    def get_operation_log(self, operation_id: str | uuid.UUID) -> list[OperationLogItem]:
        """Fetch an operation's log (one item per processed task)."""
        response = self._api.request("GET", f"/operations/{operation_id}/log")
        return _parse_log(json_body(response, "getOperationLog"))

    def wait_operation(
        self,
        operation_id: str | uuid.UUID,
        *,
        poll_policy: PollPolicy | None = None,
        on_progress: Callable[[Operation], object] | None = None,
    ) -> Operation:
        """Poll with backoff until ``SUCCESS`` and return the operation.

        Raises:
            OperationFailedError: the operation ended ``FAIL`` (``.obj`` is the operation).
            PollTimeoutError: the policy's timeout passed.
        """
        return poll_until(
            lambda: self.get_operation(operation_id),
            is_done=lambda op: op.succeeded,
            is_failed=lambda op: op.failed,
            policy=poll_policy or self.poll_policy,
            on_progress=on_progress,
            sleep=self._sleep,
            describe=lambda op: f"operation {op.id} status {op.status} details {op.details}",
        )

    # -- batches ------------------------------------------------------------------------

    def create_tasks(
        self,
        tasks: Iterable[Task | Mapping[str, Any]],
        *,
        async_mode: bool = False,
        allow_defaults: bool = False,
        skip_invalid_items: bool = False,
        open_pool: bool = False,
        operation_id: str | uuid.UUID | None = None,
        chunk_size: int = V1_MAX_TASKS_PER_SYNC_REQUEST,
        on_progress: ProgressCallback | None = None,
        wait_for_quota: bool | None = None,
        keep_tasks: bool = True,
        poll_policy: PollPolicy | None = None,
    ) -> TaskCreateResult:
        """Create any number of tasks; return what happened to each original position.

        ``tasks`` may be a list or any iterable (a generator of millions is fine: at most
        a few chunks of input are held; the result keeps one entry per task, only the id
        with ``keep_tasks=False``). Sync mode sends requests of at most ``chunk_size`` (≤ 5000)
        tasks; ``async_mode`` starts one operation per chunk with a client-made
        ``operation_id`` reused on every retry, polls it and reads its log. ``open_pool``
        goes with the last request only, after every other chunk is in. See
        :class:`TaskCreateResult` for the result.

        ``operation_id`` (async mode): with one chunk it is used as is; with several, chunk
        ``k`` uses ``uuid5(operation_id, str(k))``, so re-running the same call with the same
        id and the same tasks re-uses the same operations instead of creating tasks twice.
        Log items are matched to positions by request order, checked against the
        ``input_values`` the log echoes (by content when the order does not fit); this
        order is an assumption Toloka does not document.

        Note:
            A list is checked in full before anything is sent; other iterables are checked
            one chunk ahead of sending. A sync request whose answer is lost (or answered
            502/504 by a gateway) is not re-sent: its positions land in ``result.unknown``.
            The client-side ``tasks_per_day`` budget, like the API's daily quota, raises
            :class:`QuotaExceededError` rather than sleeping, unless ``wait_for_quota``.
            In async mode an error stops new submissions, but operations already started
            are still waited for, so their results are exact. An error that stops the batch
            carries the result so far in ``exc.partial_result``. No tasks, no request: an
            empty iterable does not open the pool.
        """
        check_tasks_argument(tasks)
        options = CreateOptions.build(
            async_mode=async_mode,
            allow_defaults=allow_defaults,
            skip_invalid_items=skip_invalid_items,
            open_pool=open_pool,
            operation_id=operation_id,
            chunk_size=chunk_size,
            keep_tasks=keep_tasks,
            wait_for_quota=wait_for_quota,
        )
        prevalidate(tasks, options)
        result = TaskCreateResult()
        if options.async_mode:
            self._create_async(tasks, options, result, on_progress, poll_policy)
        else:
            self._create_sync(tasks, options, result, on_progress)
        return result

    def _create_sync(
        self,
        tasks: Iterable[Any],
        options: CreateOptions,
        result: TaskCreateResult,
        on_progress: ProgressCallback | None,
    ) -> None:
        for chunk in iter_chunks(tasks, options.chunk_size):
            try:
                payloads, body = normalize_chunk(chunk, options)
                self._acquire_tasks(len(payloads), options.wait_for_quota)
            except TolokaError as exc:
                raise _attach(exc, result) from None
            result.total += len(payloads)
            try:
                response = self._api.request(
                    "POST",
                    "/tasks",
                    content=body,
                    headers=_JSON,
                    params=options.params(is_last=chunk.is_last),
                    wait_for_quota=options.wait_for_quota,
                )
            except OutcomeUnknownError as exc:
                logger.warning("chunk %d: outcome unknown (%s)", chunk.index, exc)
                result.unknown.append(chunk.positions)
            except APIStatusError as exc:
                apply_validation_error(result, chunk, exc)
                raise _attach(exc, result) from None
            except TolokaError as exc:
                raise _attach(exc, result) from None
            else:
                try:
                    apply_sync_response(
                        result,
                        chunk,
                        json_body(response, "createTasks"),
                        keep_tasks=options.keep_tasks,
                    )
                except TolokaError as exc:
                    mark_unaccounted_unknown(result, chunk)
                    raise _attach(exc, result) from None
            del payloads, body
            if on_progress is not None:
                on_progress(result.progress(chunk.index + 1))

    def _submit(self, chunk: Chunk[Any], body: bytes, options: CreateOptions) -> Operation:
        op_id = options.chunk_operation_id(chunk)
        try:
            response = self._api.request(
                "POST",
                "/tasks",
                content=body,
                headers=_JSON,
                params=options.params(is_last=chunk.is_last, operation_id=op_id),
                idempotent=True,
                wait_for_quota=options.wait_for_quota,
            )
        except (ConflictError, APIConnectionError) as exc:
            # The operation may exist already (a retry after a lost answer, or a re-run with
            # the same operation_id): ask for it by id before giving up.
            try:
                return self.get_operation(op_id)
            except NotFoundError:
                raise exc from None
            except TolokaError:
                if isinstance(exc, APIConnectionError):
                    raise _OutcomeUnknown(exc) from None
                raise exc from None
        return Operation.from_dict(json_body(response, "createTasks"), operation="createTasks")

    def _finish(
        self,
        pending: _Pending,
        options: CreateOptions,
        result: TaskCreateResult,
        on_progress: ProgressCallback | None,
        poll_policy: PollPolicy | None,
        chunks_done: int,
    ) -> None:
        def progress(op: Operation) -> None:
            if on_progress is not None:
                on_progress(result.progress(chunks_done, op))

        try:
            final = self.wait_operation(
                pending.operation.id, poll_policy=poll_policy, on_progress=progress
            )
        except OperationFailedError as exc:
            failed = exc.obj if isinstance(exc.obj, Operation) else pending.operation
            result.operations[pending.chunk.index] = failed
            try:
                log = self.get_operation_log(failed.id)
            except TolokaError:
                # FAIL creates nothing, but which task was at fault is not known.
                result.unknown.append(pending.chunk.positions)
                raise exc from None
            apply_log(
                result,
                pending.chunk,
                pending.payloads,
                log,
                keep_tasks=options.keep_tasks,
                succeeded=False,
            )
            raise
        except TolokaError:
            result.unknown.append(pending.chunk.positions)
            raise
        result.operations[pending.chunk.index] = final
        try:
            log = self.get_operation_log(final.id)
            apply_log(result, pending.chunk, pending.payloads, log, keep_tasks=options.keep_tasks)
        except TolokaError:
            mark_unaccounted_unknown(result, pending.chunk)
            raise
        if on_progress is not None:
            on_progress(result.progress(chunks_done, final))

    def _create_async(
        self,
        tasks: Iterable[Any],
        options: CreateOptions,
        result: TaskCreateResult,
        on_progress: ProgressCallback | None,
        poll_policy: PollPolicy | None,
    ) -> None:
        in_flight: list[_Pending] = []
        done = 0
        finishing = False
        try:
            for chunk in iter_chunks(tasks, options.chunk_size):
                payloads, body = normalize_chunk(chunk, options)
                # open_pool rides on the last chunk: everything before it must be in first.
                must_drain = chunk.is_last and options.open_pool
                while in_flight and (len(in_flight) >= _MAX_IN_FLIGHT or must_drain):
                    pending = in_flight.pop(0)
                    done += 1
                    finishing = True
                    self._finish(pending, options, result, on_progress, poll_policy, done)
                    finishing = False
                self._acquire_tasks(len(payloads), options.wait_for_quota)
                result.total += len(payloads)
                try:
                    operation = self._submit(chunk, body, options)
                except _OutcomeUnknown as unknown:
                    result.unknown.append(chunk.positions)
                    raise unknown.error from None
                result.operations.append(operation)
                in_flight.append(_Pending(chunk, payloads, operation))
            finishing = True
            while in_flight:
                pending = in_flight.pop(0)
                done += 1
                self._finish(pending, options, result, on_progress, poll_policy, done)
        except TolokaError as exc:
            if not finishing:
                # Bad input further on, a quota, a lost submit: the operations already
                # started are still running; wait for them so their results are exact.
                while in_flight:
                    pending = in_flight.pop(0)
                    done += 1
                    try:
                        self._finish(pending, options, result, on_progress, poll_policy, done)
                    except TolokaError:
                        break
            for pending in in_flight:
                result.unknown.append(pending.chunk.positions)
            raise _attach(exc, result) from None


class AsyncTasksClient:
    """The async twin of :class:`TasksClient` (same options, same results).

    Example::

        async with AsyncTasksClient(sandbox=True) as client:
            result = await client.create_tasks(tasks, async_mode=True)
    """

    def __init__(
        self,
        *,
        oauth_token: str | Secret | None = None,
        api_key: str | Secret | None = None,
        base_url: str | None = None,
        sandbox: bool = False,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        tasks_per_minute: float | None = V1_TASKS_PER_MINUTE,
        tasks_per_day: float | None = V1_TASKS_PER_DAY,
        requests_per_second: float | None = V1_REQUESTS_PER_SECOND,
        wait_for_quota: bool = False,
        poll_policy: PollPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        credentials = resolve_credentials(api_key=api_key, oauth_token=oauth_token)
        self.sleep = sleep
        self._api = AsyncAPIClient(
            base_url=_base_url(base_url, sandbox),
            credentials=credentials,
            timeout=timeout,
            max_retries=max_retries,
            requests_per_second=requests_per_second,
            wait_for_quota=wait_for_quota,
            transport=transport,
            http_client=http_client,
            sleep=self._sleep,
        )
        self.poll_policy = poll_policy or PollPolicy()
        self._task_limiter = AsyncRateLimiter(*_task_buckets(tasks_per_minute), sleep=self._sleep)
        self._daily = DailyBudget(tasks_per_day, url=f"{self._api.base_url}/tasks")

    async def _acquire_tasks(self, count: int, wait_for_quota: bool | None) -> None:
        wait = self._api.wait_for_quota if wait_for_quota is None else wait_for_quota
        delay = self._daily.take(count, wait=wait)
        if delay > 0:
            await self._sleep(delay)
        await self._task_limiter.acquire(count)

    async def _sleep(self, seconds: float) -> None:
        await self.sleep(seconds)

    @property
    def api(self) -> AsyncAPIClient:
        """The underlying HTTP core client."""
        return self._api

    def __repr__(self) -> str:
        return f"AsyncTasksClient({self._api!r})"

    async def create_task(
        self,
        task: Task | Mapping[str, Any],
        *,
        allow_defaults: bool = False,
        open_pool: bool = False,
    ) -> Task:
        """Async twin of :meth:`TasksClient.create_task`."""
        payload = normalize_task(task, 0, allow_defaults=allow_defaults)
        await self._acquire_tasks(1, None)
        response = await self._api.request(
            "POST",
            "/tasks",
            json=payload,
            params=_single_params(allow_defaults=allow_defaults, open_pool=open_pool),
        )
        return Task.from_dict(json_body(response, "createTasks"))

    async def get_operation(self, operation_id: str | uuid.UUID) -> Operation:
        """Async twin of :meth:`TasksClient.get_operation`."""
        response = await self._api.request("GET", f"/operations/{operation_id}")
        return Operation.from_dict(json_body(response, "getOperation"))

    async def get_operation_log(self, operation_id: str | uuid.UUID) -> list[OperationLogItem]:
        """Async twin of :meth:`TasksClient.get_operation_log`."""
        response = await self._api.request("GET", f"/operations/{operation_id}/log")
        return _parse_log(json_body(response, "getOperationLog"))

    async def wait_operation(
        self,
        operation_id: str | uuid.UUID,
        *,
        poll_policy: PollPolicy | None = None,
        on_progress: Callable[[Operation], object] | None = None,
    ) -> Operation:
        """Async twin of :meth:`TasksClient.wait_operation`."""
        return await apoll_until(
            lambda: self.get_operation(operation_id),
            is_done=lambda op: op.succeeded,
            is_failed=lambda op: op.failed,
            policy=poll_policy or self.poll_policy,
            on_progress=on_progress,
            sleep=self._sleep,
            describe=lambda op: f"operation {op.id} status {op.status} details {op.details}",
        )

    async def create_tasks(
        self,
        tasks: Iterable[Task | Mapping[str, Any]] | AsyncIterable[Task | Mapping[str, Any]],
        *,
        async_mode: bool = False,
        allow_defaults: bool = False,
        skip_invalid_items: bool = False,
        open_pool: bool = False,
        operation_id: str | uuid.UUID | None = None,
        chunk_size: int = V1_MAX_TASKS_PER_SYNC_REQUEST,
        on_progress: ProgressCallback | None = None,
        wait_for_quota: bool | None = None,
        keep_tasks: bool = True,
        poll_policy: PollPolicy | None = None,
    ) -> TaskCreateResult:
        """Async twin of :meth:`TasksClient.create_tasks` (also takes an async iterable)."""
        check_tasks_argument(tasks)
        options = CreateOptions.build(
            async_mode=async_mode,
            allow_defaults=allow_defaults,
            skip_invalid_items=skip_invalid_items,
            open_pool=open_pool,
            operation_id=operation_id,
            chunk_size=chunk_size,
            keep_tasks=keep_tasks,
            wait_for_quota=wait_for_quota,
        )
        if not isinstance(tasks, AsyncIterable):
            prevalidate(tasks, options)
        result = TaskCreateResult()
        chunks = _aiter_chunks(tasks, options.chunk_size)
        if options.async_mode:
            await self._create_async(chunks, options, result, on_progress, poll_policy)
        else:
            await self._create_sync(chunks, options, result, on_progress)
        return result

    async def _create_sync(
        self,
        chunks: AsyncIterable[Chunk[Any]],
        options: CreateOptions,
        result: TaskCreateResult,
        on_progress: ProgressCallback | None,
    ) -> None:
        async for chunk in chunks:
            try:
                payloads, body = normalize_chunk(chunk, options)
                await self._acquire_tasks(len(payloads), options.wait_for_quota)
            except TolokaError as exc:
                raise _attach(exc, result) from None
            result.total += len(payloads)
            try:
                response = await self._api.request(
                    "POST",
                    "/tasks",
                    content=body,
                    headers=_JSON,
                    params=options.params(is_last=chunk.is_last),
                    wait_for_quota=options.wait_for_quota,
                )
            except OutcomeUnknownError as exc:
                logger.warning("chunk %d: outcome unknown (%s)", chunk.index, exc)
                result.unknown.append(chunk.positions)
            except APIStatusError as exc:
                apply_validation_error(result, chunk, exc)
                raise _attach(exc, result) from None
            except TolokaError as exc:
                raise _attach(exc, result) from None
            else:
                try:
                    apply_sync_response(
                        result,
                        chunk,
                        json_body(response, "createTasks"),
                        keep_tasks=options.keep_tasks,
                    )
                except TolokaError as exc:
                    mark_unaccounted_unknown(result, chunk)
                    raise _attach(exc, result) from None
            del payloads, body
            if on_progress is not None:
                on_progress(result.progress(chunk.index + 1))

    async def _submit(self, chunk: Chunk[Any], body: bytes, options: CreateOptions) -> Operation:
        op_id = options.chunk_operation_id(chunk)
        try:
            response = await self._api.request(
                "POST",
                "/tasks",
                content=body,
                headers=_JSON,
                params=options.params(is_last=chunk.is_last, operation_id=op_id),
                idempotent=True,
                wait_for_quota=options.wait_for_quota,
            )
        except (ConflictError, APIConnectionError) as exc:
            # The operation may exist already (a retry after a lost answer, or a re-run with
            # the same operation_id): ask for it by id before giving up.
            try:
                return await self.get_operation(op_id)
            except NotFoundError:
                raise exc from None
            except TolokaError:
                if isinstance(exc, APIConnectionError):
                    raise _OutcomeUnknown(exc) from None
                raise exc from None
        return Operation.from_dict(json_body(response, "createTasks"), operation="createTasks")

    async def _finish(
        self,
        pending: _Pending,
        options: CreateOptions,
        result: TaskCreateResult,
        on_progress: ProgressCallback | None,
        poll_policy: PollPolicy | None,
        chunks_done: int,
    ) -> None:
        def progress(op: Operation) -> None:
            if on_progress is not None:
                on_progress(result.progress(chunks_done, op))

        try:
            final = await self.wait_operation(
                pending.operation.id, poll_policy=poll_policy, on_progress=progress
            )
        except OperationFailedError as exc:
            failed = exc.obj if isinstance(exc.obj, Operation) else pending.operation
            result.operations[pending.chunk.index] = failed
            try:
                log = await self.get_operation_log(failed.id)
            except TolokaError:
                # FAIL creates nothing, but which task was at fault is not known.
                result.unknown.append(pending.chunk.positions)
                raise exc from None
            apply_log(
                result,
                pending.chunk,
                pending.payloads,
                log,
                keep_tasks=options.keep_tasks,
                succeeded=False,
            )
            raise
        except TolokaError:
            result.unknown.append(pending.chunk.positions)
            raise
        result.operations[pending.chunk.index] = final
        try:
            log = await self.get_operation_log(final.id)
            apply_log(result, pending.chunk, pending.payloads, log, keep_tasks=options.keep_tasks)
        except TolokaError:
            mark_unaccounted_unknown(result, pending.chunk)
            raise
        if on_progress is not None:
            on_progress(result.progress(chunks_done, final))

    async def _create_async(
        self,
        chunks: AsyncIterable[Chunk[Any]],
        options: CreateOptions,
        result: TaskCreateResult,
        on_progress: ProgressCallback | None,
        poll_policy: PollPolicy | None,
    ) -> None:
        in_flight: list[_Pending] = []
        done = 0
        finishing = False
        try:
            async for chunk in chunks:
                payloads, body = normalize_chunk(chunk, options)
                must_drain = chunk.is_last and options.open_pool
                while in_flight and (len(in_flight) >= _MAX_IN_FLIGHT or must_drain):
                    pending = in_flight.pop(0)
                    done += 1
                    finishing = True
                    await self._finish(pending, options, result, on_progress, poll_policy, done)
                    finishing = False
                await self._acquire_tasks(len(payloads), options.wait_for_quota)
                result.total += len(payloads)
                try:
                    operation = await self._submit(chunk, body, options)
                except _OutcomeUnknown as unknown:
                    result.unknown.append(chunk.positions)
                    raise unknown.error from None
                result.operations.append(operation)
                in_flight.append(_Pending(chunk, payloads, operation))
            finishing = True
            while in_flight:
                pending = in_flight.pop(0)
                done += 1
                await self._finish(pending, options, result, on_progress, poll_policy, done)
        except TolokaError as exc:
            if not finishing:
                # See TasksClient._create_async: wait for the operations already started.
                while in_flight:
                    pending = in_flight.pop(0)
                    done += 1
                    try:
                        await self._finish(pending, options, result, on_progress, poll_policy, done)
                    except TolokaError:
                        break
            for pending in in_flight:
                result.unknown.append(pending.chunk.positions)
            raise _attach(exc, result) from None

    async def aclose(self) -> None:
        await self._api.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def _aiter_chunks(
    tasks: Iterable[Any] | AsyncIterable[Any], size: int
) -> AsyncIterable[Chunk[Any]]:
    if not isinstance(tasks, AsyncIterable):
        for chunk in iter_chunks(tasks, size):
            yield chunk
        return
    iterator = tasks.__aiter__()
    exhausted = False

    async def take() -> list[Any]:
        nonlocal exhausted
        out: list[Any] = []
        while not exhausted and len(out) < size:
            try:
                out.append(await iterator.__anext__())
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
