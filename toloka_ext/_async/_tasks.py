"""``client.tasks``: API v1 tasks and operations, created at full rate, exactly once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from typing import Any

import httpx

from .._constants import V1_MAX_TASKS_PER_SYNC_REQUEST
from .._exceptions import (
    APIConnectionError,
    ApiDriftError,
    APIStatusError,
    ConflictError,
    NotFoundError,
    OperationFailedError,
    OutcomeUnknownError,
    TolokaError,
)
from .._logging import logger
from .._polling import PollPolicy, choose_policy
from .._primitives_async import aiter_chunks
from .._ratelimit import DailyBudget, TokenBucket
from .._types import NOT_GIVEN, NotGiven
from .._v1._chunking import Chunk
from .._v1._logic import (
    MAX_IN_FLIGHT,
    CreateOptions,
    Pending,
    SubmitOutcomeUnknown,
    ValidatedSpool,
    apply_log,
    apply_sync_response,
    apply_validation_error,
    attach,
    check_tasks_argument,
    json_body,
    mark_unaccounted_unknown,
    normalize_chunk,
    parse_log,
    prevalidate,
    single_params,
)
from .._v1._models import CreateProgress, Operation, OperationLogItem, Task, TaskCreateResult
from .._v1._validation import normalize_task
from ._core import AsyncCore
from ._polling import poll_until

__all__ = ["AsyncTasks", "TaskLimits"]

ProgressCallback = Callable[[CreateProgress], object]
TaskLike = Task | Mapping[str, Any]
_JSON = {"Content-Type": "application/json"}


class TaskLimits:
    """The client-side task budgets, shared by every copy of a client."""

    def __init__(self, *, tasks_per_minute: float | None, tasks_per_day: float | None, url: str):
        self.per_minute = TokenBucket.per_minute(tasks_per_minute) if tasks_per_minute else None
        self.daily = DailyBudget(tasks_per_day, url=url)


def _describe(op: Operation) -> str:
    return f"operation {op.id} status {op.status} details {op.details}"


def _operation_failed(op: Operation) -> OperationFailedError:
    return OperationFailedError(f"ended in a failed state: {_describe(op)}", obj=op)


class AsyncTasks:
    """``client.tasks``: create v1 tasks (one or millions) and follow their operations."""

    def __init__(self, core: AsyncCore, limits: TaskLimits) -> None:
        self._core = core
        self._limits = limits

    def __repr__(self) -> str:
        return f"<AsyncTasks {self._core.settings.v1_base_url}>"

    async def _json(self, response: httpx.Response, operation: str) -> object:
        """The JSON body of a 2xx answer; not JSON: a wrong ``v1_base_url``, else drift."""
        try:
            return json_body(response, operation)
        except ApiDriftError:
            await self._core.verify_api("v1")
            raise

    async def _acquire(self, count: int, wait_for_quota: bool | None) -> None:
        wait = self._core.settings.wait_for_quota if wait_for_quota is None else wait_for_quota
        await self._core.sleep(self._limits.daily.take(count, wait=wait))
        if self._limits.per_minute is not None:
            await self._core.sleep(self._limits.per_minute.reserve(count))

    # -- single calls -------------------------------------------------------------------

    async def create_task(
        self,
        task: TaskLike,
        *,
        allow_defaults: bool = False,
        open_pool: bool = False,
    ) -> Task:
        """Create one task synchronously and return it (with its ``id``).

        Example::

            task = await client.tasks.create_task(Task("1234", {"url": u}, overlap=3))

        Note:
            Not re-sent once it may have been applied: a lost answer, or a 502/504 from a
            gateway, raises :class:`OutcomeUnknownError`.
        """
        payload = normalize_task(task, 0, allow_defaults=allow_defaults)
        await self._acquire(1, None)
        response = await self._core.request(
            "v1",
            "POST",
            "/tasks",
            json=payload,
            params=single_params(allow_defaults=allow_defaults, open_pool=open_pool),
        )
        return Task.from_dict(await self._json(response, "createTasks"))

    async def get_operation(self, operation_id: str | uuid.UUID) -> Operation:
        """Fetch an operation."""
        response = await self._core.request("v1", "GET", f"/operations/{operation_id}")
        return Operation.from_dict(await self._json(response, "getOperation"))

    async def get_operation_log(self, operation_id: str | uuid.UUID) -> list[OperationLogItem]:
        """Fetch an operation's log (one entry per processed task)."""
        response = await self._core.request("v1", "GET", f"/operations/{operation_id}/log")
        return parse_log(await self._json(response, "getOperationLog"))

    async def wait_operation(
        self,
        operation_id: str | uuid.UUID,
        *,
        poll_policy: PollPolicy | None = None,
        timeout: float | None | NotGiven = NOT_GIVEN,
        on_progress: Callable[[Operation], object] | None = None,
    ) -> Operation:
        """Poll with backoff until ``SUCCESS`` and return the operation.

        Raises:
            OperationFailedError: the operation ended ``FAIL`` (``.obj`` is the operation).
            PollTimeoutError: the policy's timeout (or ``timeout`` seconds) passed.
        """

        async def fetch() -> Operation:
            return await self.get_operation(operation_id)

        return await poll_until(
            self._core,
            fetch,
            is_done=lambda op: op.succeeded,
            is_failed=lambda op: op.failed,
            failure=_operation_failed,
            policy=choose_policy(self._core.settings.poll_policy, poll_policy, timeout),
            on_progress=on_progress,
        )

    # -- batches ------------------------------------------------------------------------

    async def create_tasks(
        self,
        tasks: Iterable[TaskLike] | AsyncIterable[TaskLike],
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
        validate_first: bool = False,
    ) -> TaskCreateResult:
        """Create any number of tasks; return what happened to each original position.

        ``tasks`` may be a list or any iterable (a generator of millions is fine: at most
        a few chunks of input are held; the result keeps one entry per task, only the id
        with ``keep_tasks=False``). Sync mode sends requests of at most ``chunk_size`` (≤ 5000)
        tasks; ``async_mode`` starts one operation per chunk with a client-made
        ``operation_id`` reused on every retry, polls it and reads its log. ``open_pool``
        goes with the last request only, after every other chunk is in. See
        :class:`~toloka_ext.types.TaskCreateResult` for the result.

        ``operation_id`` (async mode): with one chunk it is used as is; with several, chunk
        ``k`` uses ``uuid5(operation_id, str(k))``, so re-running the same call with the same
        id and the same tasks re-uses the same operations instead of creating tasks twice.
        Log entries are matched to positions by request order, checked against the
        ``input_values`` the log echoes (by content when the order does not fit); this
        order is an assumption Toloka does not document.

        Example::

            result = await client.tasks.create_tasks(
                (Task(pool_id, {"url": u}, overlap=3) for u in urls),
                async_mode=True, skip_invalid_items=True, open_pool=True,
            )
            print(len(result.task_ids), result.errors, result.unknown)

        Note:
            A list is checked in full before anything is sent; other iterables are checked
            one chunk ahead of sending, so a bad task late in a generator stops the batch
            after earlier chunks were created: the :class:`InvalidInputError` then says how
            many, and ``exc.partial_result`` holds them by position. ``validate_first=True``
            reads the whole iterable first (spooled to disk past a few MB), so nothing is
            sent unless every task is valid. A sync request whose answer is lost (or answered
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
        spool: ValidatedSpool | None = None
        result = TaskCreateResult()
        try:
            if isinstance(tasks, Sequence):
                prevalidate(tasks, options)
            elif validate_first:
                spool = ValidatedSpool(options)
                async for chunk in aiter_chunks(tasks, options.chunk_size):
                    spool.add(chunk)
                tasks = spool
            if options.async_mode:
                await self._create_async(tasks, options, result, on_progress, poll_policy)
            else:
                await self._create_sync(tasks, options, result, on_progress)
        finally:
            if spool is not None:
                spool.close()
        return result

    async def _create_sync(
        self,
        tasks: Iterable[TaskLike] | AsyncIterable[TaskLike],
        options: CreateOptions,
        result: TaskCreateResult,
        on_progress: ProgressCallback | None,
    ) -> None:
        async for chunk in aiter_chunks(tasks, options.chunk_size):
            try:
                payloads, body = normalize_chunk(chunk, options)
                await self._acquire(len(payloads), options.wait_for_quota)
            except TolokaError as exc:
                raise attach(exc, result) from None
            result.total += len(payloads)
            try:
                response = await self._core.request(
                    "v1",
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
                raise attach(exc, result) from None
            except TolokaError as exc:
                raise attach(exc, result) from None
            else:
                try:
                    apply_sync_response(
                        result,
                        chunk,
                        await self._json(response, "createTasks"),
                        keep_tasks=options.keep_tasks,
                    )
                except TolokaError as exc:
                    mark_unaccounted_unknown(result, chunk)
                    raise attach(exc, result) from None
            del payloads, body
            if on_progress is not None:
                on_progress(result.progress(chunk.index + 1))

    async def _submit(self, chunk: Chunk[Any], body: bytes, options: CreateOptions) -> Operation:
        op_id = options.chunk_operation_id(chunk)
        try:
            response = await self._core.request(
                "v1",
                "POST",
                "/tasks",
                content=body,
                headers=_JSON,
                params=options.params(is_last=chunk.is_last, operation_id=op_id),
                idempotent=True,
                wait_for_quota=options.wait_for_quota,
            )
        except (ConflictError, APIConnectionError) as exc:
            # The operation may exist already (409 OPERATION_ALREADY_EXISTS on a retry after a
            # lost answer, or a re-run with the same operation_id): read it by id.
            try:
                return await self.get_operation(op_id)
            except NotFoundError:
                raise exc from None  # it does not exist: nothing of this chunk was created
            except TolokaError:
                # It may exist and be creating the tasks: their fate is unknown.
                raise SubmitOutcomeUnknown(exc) from None
        return Operation.from_dict(
            await self._json(response, "createTasks"), operation="createTasks"
        )

    async def _finish(
        self,
        pending: Pending,
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
        tasks: Iterable[TaskLike] | AsyncIterable[TaskLike],
        options: CreateOptions,
        result: TaskCreateResult,
        on_progress: ProgressCallback | None,
        poll_policy: PollPolicy | None,
    ) -> None:
        in_flight: list[Pending] = []
        done = 0
        finishing = False
        try:
            async for chunk in aiter_chunks(tasks, options.chunk_size):
                payloads, body = normalize_chunk(chunk, options)
                # open_pool rides on the last chunk: everything before it must be in first.
                must_drain = chunk.is_last and options.open_pool
                while in_flight and (len(in_flight) >= MAX_IN_FLIGHT or must_drain):
                    pending = in_flight.pop(0)
                    done += 1
                    finishing = True
                    await self._finish(pending, options, result, on_progress, poll_policy, done)
                    finishing = False
                await self._acquire(len(payloads), options.wait_for_quota)
                result.total += len(payloads)
                try:
                    operation = await self._submit(chunk, body, options)
                except SubmitOutcomeUnknown as unknown:
                    result.unknown.append(chunk.positions)
                    raise unknown.error from None
                result.operations.append(operation)
                in_flight.append(Pending(chunk, payloads, operation))
            finishing = True
            while in_flight:
                pending = in_flight.pop(0)
                done += 1
                await self._finish(pending, options, result, on_progress, poll_policy, done)
        except TolokaError as exc:
            if not finishing:
                # Bad input further on, a quota, a lost submit: the operations already
                # started are still running; wait for them so their results are exact.
                while in_flight:
                    pending = in_flight.pop(0)
                    done += 1
                    try:
                        await self._finish(pending, options, result, on_progress, poll_policy, done)
                    except TolokaError:
                        break
            for pending in in_flight:
                result.unknown.append(pending.chunk.positions)
            raise attach(exc, result) from None
