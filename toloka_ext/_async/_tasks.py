"""``client.tasks``: API v1 tasks and operations, created at full rate, exactly once."""

from __future__ import annotations

import os
import uuid
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Mapping,
    Sequence,
    Sized,
)
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from .._constants import V1_MAX_TASKS_PER_SYNC_REQUEST
from .._exceptions import (
    APIConnectionError,
    ApiDriftError,
    APIStatusError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    OperationFailedError,
    OutcomeUnknownError,
    PermissionDeniedError,
    TolokaError,
)
from .._journal import check_journal_path
from .._logging import logger
from .._pandas import DataFrameLike
from .._polling import PollPolicy
from .._primitives_async import Worker, aiter_chunks
from .._progress import bars, tasks_bar
from .._ratelimit import TaskLimits
from .._v1._chunking import Chunk
from .._v1._job import TaskJob, replay
from .._v1._logic import (
    CreateOptions,
    Pending,
    Planned,
    RequestPlanner,
    SubmitOutcomeUnknown,
    ValidatedSpool,
    apply_log,
    apply_sync_response,
    apply_validation_error,
    attach,
    check_tasks_argument,
    in_flight_allowed,
    mark_unaccounted_unknown,
    prevalidate,
    rerun_hint,
    single_params,
    skipped_whole,
)
from .._v1._models import (
    BaselineSolution,
    CreateProgress,
    KnownSolution,
    Operation,
    Task,
    TaskCreateResult,
)
from .._v1._resolve import (
    UnknownTracker,
    apply_settled,
    merge_resent,
    resend_positions,
    settle,
)
from .._v1._validation import (
    list_params,
    normalize_task,
    overlap_patch,
    task_patch,
    tasks_from_frame,
)
from ._core import AsyncCore
from ._operations import AsyncOperations, AsyncV1Resource, path_id
from ._pagination import AsyncKeysetPaginator

__all__ = ["AsyncTasks"]

ProgressCallback = Callable[[CreateProgress], object]
TaskLike = Task | Mapping[str, Any]
_JSON = {"Content-Type": "application/json"}


class AsyncTasks(AsyncV1Resource):
    """``client.tasks``: API v1 tasks: create one or millions, list, read, change."""

    def __init__(self, core: AsyncCore, limits: TaskLimits, operations: AsyncOperations) -> None:
        super().__init__(core)
        self._limits = limits
        self._operations = operations

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
            Not re-sent once it may have been applied: a lost answer or a 5xx raises
            :class:`OutcomeUnknownError`, which says how to look for the task.
        """
        payload = normalize_task(task, 0, allow_defaults=allow_defaults)
        await self._acquire(1, None)
        began = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
        try:
            response = await self._core.request(
                "v1",
                "POST",
                "/tasks",
                json=payload,
                params=single_params(allow_defaults=allow_defaults, open_pool=open_pool),
            )
        except OutcomeUnknownError as exc:
            exc.message = (
                f"{exc.message}: look for it in client.tasks.list(pool_id="
                f"{payload.get('pool_id')!r}, created_gte={began.isoformat()!r}) before "
                "creating it again (create_tasks settles this by itself)"
            )
            exc.args = (exc.message,)
            raise
        return Task.from_dict(await self._json(response, "createTasks"))

    async def get(self, task_id: str) -> Task:
        """One task by id: ``await client.tasks.get("00012bb84--62d8...")``."""
        path = f"/tasks/{path_id(task_id, 'task_id')}"
        response = await self._core.request("v1", "GET", path)
        return Task.from_dict(await self._json(response, "getTask"), operation="getTask")

    def list(
        self,
        *,
        pool_id: str,
        overlap: int | None = None,
        overlap_gt: int | None = None,
        overlap_gte: int | None = None,
        overlap_lt: int | None = None,
        overlap_lte: int | None = None,
        created_gt: datetime | str | None = None,
        created_gte: datetime | str | None = None,
        created_lt: datetime | str | None = None,
        created_lte: datetime | str | None = None,
        id_gt: str | None = None,
        id_gte: str | None = None,
        id_lt: str | None = None,
        id_lte: str | None = None,
        sort: str = "id",
        limit: int = 50,
    ) -> AsyncKeysetPaginator[Task]:
        """The tasks of a pool matching every filter given, a page at a time.

        Pages follow one another by id (``sort="id"``, or ``"-id"`` newest first) with
        ``limit`` tasks each (at most 300): only a page is held, whatever the pool's size.
        ``created_*`` take a datetime or an ISO 8601 string (UTC unless it has an offset).

        Example::

            async for task in client.tasks.list(pool_id="1234", overlap_gte=3, limit=300):
                print(task.id, task.remaining_overlap)
        """
        params = list_params(
            sort=sort,
            limit=limit,
            times={
                "created_gt": created_gt,
                "created_gte": created_gte,
                "created_lt": created_lt,
                "created_lte": created_lte,
            },
            counts={
                "overlap": overlap,
                "overlap_gt": overlap_gt,
                "overlap_gte": overlap_gte,
                "overlap_lt": overlap_lt,
                "overlap_lte": overlap_lte,
            },
            strings={
                "pool_id": pool_id,
                "id_gt": id_gt,
                "id_gte": id_gte,
                "id_lt": id_lt,
                "id_lte": id_lte,
            },
        )
        return self._keyset(
            "/tasks",
            "listTasks",
            params,
            lambda item, field: Task.from_dict(item, operation="listTasks", field=field),
            key=lambda task: task.id or "",
        )

    async def update(
        self,
        task_id: str,
        *,
        overlap: int | None = None,
        infinite_overlap: bool | None = None,
        known_solutions: Sequence[KnownSolution | Mapping[str, Any]] | None = None,
        baseline_solutions: Sequence[BaselineSolution | Mapping[str, Any]] | None = None,
        message_on_unknown_solution: str | None = None,
        open_pool: bool = False,
    ) -> Task:
        """Change a task (``PATCH /tasks/{id}``): only the fields given are sent.

        ``overlap`` is 1..30000; ``open_pool`` opens the task's pool afterwards.

        Example::

            task = await client.tasks.update(task_id, overlap=5, open_pool=True)
        """
        body = task_patch(
            overlap=overlap,
            infinite_overlap=infinite_overlap,
            known_solutions=known_solutions,
            baseline_solutions=baseline_solutions,
            message_on_unknown_solution=message_on_unknown_solution,
        )
        path = f"/tasks/{path_id(task_id, 'task_id')}"
        response = await self._core.request(
            "v1",
            "PATCH",
            path,
            json=body,
            params={"open_pool": True} if open_pool else None,
            idempotent=True,  # setting fields to values: the same twice is the same
        )
        return Task.from_dict(await self._json(response, "patchTask"), operation="patchTask")

    async def set_overlap_or_min(
        self,
        task_id: str,
        *,
        overlap: int | None = None,
        infinite_overlap: bool | None = None,
    ) -> Task:
        """Stop giving out a task: its overlap becomes ``overlap`` (0..30000), or the least it
        can be (what Tolokers already took). ``infinite_overlap=False`` ends an infinite one.

        Example::

            await client.tasks.set_overlap_or_min(task_id, overlap=0)
        """
        body = overlap_patch(overlap=overlap, infinite_overlap=infinite_overlap)
        path = f"/tasks/{path_id(task_id, 'task_id')}/set-overlap-or-min"
        response = await self._core.request("v1", "PATCH", path, json=body, idempotent=True)
        data = await self._json(response, "setTaskOverlapOrMin")
        return Task.from_dict(data, operation="setTaskOverlapOrMin")

    # -- batches ------------------------------------------------------------------------

    async def create_tasks(
        self,
        tasks: Iterable[TaskLike] | AsyncIterable[TaskLike] | DataFrameLike,
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
        resolve_unknown: bool = True,
        resend_missing: bool = False,
        raise_on_unknown: bool = True,
        progress: bool = False,
        journal: str | os.PathLike[str] | None = None,
    ) -> TaskCreateResult:
        """Create any number of tasks; return what happened to each original position.

        ``tasks`` may be a list or any iterable (a generator of millions is fine: at most
        a few chunks of input are held; the result keeps one entry per task, only the id
        with ``keep_tasks=False``). A ``pandas.DataFrame`` gives one task a row: columns
        ``pool_id``, ``overlap``..., ``input_values`` holding dicts or ``input_values.<key>``
        columns; a missing cell leaves its field out. Sync mode sends requests of at most
        ``chunk_size`` (≤ 5000) tasks; ``async_mode`` starts one operation per chunk with a
        client-made ``operation_id`` reused on every retry, polls it and reads its log.
        ``open_pool`` goes with the last request only, after every other chunk is in. See
        :class:`~toloka_ext.types.TaskCreateResult` for the result.

        ``operation_id`` (async mode): with one chunk it is used as is; with several, chunk
        ``k`` uses ``uuid5(operation_id, str(k))``, so re-running the same call with the same
        id and the same tasks re-uses the same operations instead of creating tasks twice.
        Without one, the call makes its own (named by the error if a submission stays in
        doubt). Log entries are matched to positions by request order, checked against the
        ``input_values`` the log echoes (by content when the order does not fit); this
        order is an assumption Toloka does not document.

        ``journal`` (a file path) makes the batch a resumable job: run the same call again
        after a crash, Ctrl-C or kill and it goes on from the journal, creating nothing
        twice, in either mode; run again once finished, it sends nothing and returns the
        recorded result (``created`` then holds only this run's tasks). The journal binds
        the options and each request's bytes (``JournalMismatchError`` otherwise), is held
        by one process at a time (``JournalLockedError``), and positions proven not created
        are always sent again as part of the job.

        Example::

            result = await client.tasks.create_tasks(
                (Task(pool_id, {"url": u}, overlap=3) for u in urls),
                async_mode=True, skip_invalid_items=True, open_pool=True,
            )
            print(len(result.task_ids), result.errors, result.unknown)

        Note:
            A list is checked in full before anything is sent, and sent as checked (each
            task read and encoded once; twice past 64 MiB of requests). Other iterables are
            checked one chunk ahead of sending, so a bad task late in a generator stops the batch
            after earlier chunks were created: the :class:`InvalidInputError` then says how
            many, and ``exc.partial_result`` holds them by position. ``validate_first=True``
            reads the whole iterable first (spooled to disk past a few MB), so nothing is
            sent unless every task is valid. A sync request whose answer is lost (a dropped
            connection, a timeout, any 5xx) is never re-sent blindly. With
            ``resolve_unknown`` (the default) the call then reads the pool's tasks created
            since it began (one extra request per pool notes where that is, before its first
            request) and matches them to the lost positions by content: a position matched
            once is created; one matched by nothing is not created (an error
            ``NOT_CREATED``) only once its request can no longer be applied: the call waits
            until the client's ``max_request_hold`` (300 s) has passed since it gave up on
            it, and reads again. With ``resend_missing=True`` such positions are sent once
            more, through async operations with ids of their own (a lost answer to the
            resend is asked again, never sent twice). Anything ambiguous stays in
            ``result.unknown``. If any position is still unknown at the end,
            :class:`OutcomeUnknownError` is raised with the whole result in
            ``exc.partial_result``, unless ``raise_on_unknown=False``.
            The client-side ``tasks_per_day`` budget, like the API's daily quota, raises
            :class:`QuotaExceededError` rather than sleeping, unless ``wait_for_quota``.
            ``progress=True`` shows a bar on stderr (needs Rich: the ``cli`` extra).
            In async mode an error stops new submissions, but operations already started
            are still waited for, so their results are exact. An error that stops the batch
            carries the result so far in ``exc.partial_result``. No tasks, no request: an
            empty iterable does not open the pool.
        """
        tasks = tasks_from_frame(tasks)
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
        return await self._create_tasks(
            tasks,
            options,
            check_journal_path(journal) if journal is not None else None,
            on_progress=on_progress,
            poll_policy=poll_policy,
            validate_first=validate_first,
            # A job settles what its runs lost, run after run, and resends what is proven
            # not created: that is part of the job.
            resolve_unknown=resolve_unknown or journal is not None,
            resend_missing=resend_missing or journal is not None,
            raise_on_unknown=raise_on_unknown,
            progress=progress,
        )

    async def _create_tasks(
        self,
        tasks: Iterable[TaskLike] | AsyncIterable[TaskLike],
        options: CreateOptions,
        journal: Path | None,
        *,
        on_progress: ProgressCallback | None,
        poll_policy: PollPolicy | None,
        validate_first: bool,
        resolve_unknown: bool,
        resend_missing: bool,
        raise_on_unknown: bool,
        progress: bool,
    ) -> TaskCreateResult:
        spool: ValidatedSpool | None = None
        job: TaskJob | None = None
        result = TaskCreateResult()
        tracker = UnknownTracker() if resolve_unknown else None
        display = bars(progress)
        # Any sized input gives the bar its total (a list, or a file source that counted).
        on_progress = tasks_bar(
            display, len(tasks) if isinstance(tasks, Sized) else None, on_progress
        )
        planned: list[Planned] | None = None
        try:
            if isinstance(tasks, Sequence):
                planned = prevalidate(tasks, options)
            elif validate_first:
                spool = ValidatedSpool(options)
                async for chunk in aiter_chunks(tasks, options.chunk_size):
                    spool.add(chunk)
                tasks = spool
            if journal is not None:
                # Opened once the input is checked: bad input leaves no journal behind.
                job = TaskJob.open(journal, options)
                options = job.options
                if tracker is not None:
                    tracker.floors.update(job.floors())
            requests = _requests(tasks, options, planned)
            if job is not None and job.finished:
                return await _recorded(job, requests)
            await self._create(requests, options, result, on_progress, poll_policy, tracker, job)
            if tracker is not None and result.unknown:
                await self._settle(tracker, result, options)
                if job is not None:
                    job.record_settled(result)
            if resend_missing and tracker is not None:
                if job is not None:
                    await self._resend_job(job, tracker, result, options, poll_policy)
                else:
                    await self._resend(tracker, result, options, poll_policy)
            if job is not None and not result.unknown:
                job.finish(result)
        except TolokaError as exc:
            if exc.partial_result is None and result.total:
                attach(exc, result)  # stopped after requests were sent: say what they did
            raise
        finally:
            display.close()
            if spool is not None:
                spool.close()
            if job is not None:
                job.close()
        if result.unknown and raise_on_unknown:
            how = (
                f"run the same call again with operation_id={str(options.base_operation_id)!r} "
                "to finish them exactly once"
                if options.async_mode
                else "the pool's tasks could not tell; check the pool before sending them again"
            )
            raise attach(
                OutcomeUnknownError(
                    f"{result.unknown_count} task(s) may or may not have been created (their "
                    f"answers were lost): {how}. See exc.partial_result.unknown; pass "
                    "raise_on_unknown=False to get the result instead"
                ),
                result,
            ) from None
        return result

    async def _create(
        self,
        requests: AsyncIterator[Planned],
        options: CreateOptions,
        result: TaskCreateResult,
        on_progress: ProgressCallback | None,
        poll_policy: PollPolicy | None,
        tracker: UnknownTracker | None,
        job: TaskJob | None = None,
    ) -> None:
        if options.async_mode:
            await self._create_async(
                requests, options, result, on_progress, poll_policy, tracker, job
            )
        else:
            await self._create_sync(requests, options, result, on_progress, tracker, job)

    async def _floors(
        self,
        tracker: UnknownTracker | None,
        payloads: Sequence[dict[str, Any]],
        result: TaskCreateResult,
        job: TaskJob | None = None,
    ) -> None:
        """Note each new pool's newest task id before the call's first request to it (a
        job's, before its first request in any run: the journal keeps it)."""
        if tracker is None:
            return
        for pool in tracker.pools_to_floor(payloads):
            if job is not None:
                known, floor = job.floor(pool)
                if known:
                    tracker.floors[pool] = floor
                    continue
            try:
                newest = await self.list(pool_id=pool, sort="-id", limit=1).first_page()
            except (ApiDriftError, BadRequestError, PermissionDeniedError, NotFoundError) as exc:
                # The list is not readable here (changed shape, a key without the right to
                # read tasks): creating still works, only settling a lost answer would not.
                logger.warning(
                    "cannot read the tasks of pool %s to settle lost answers (%s)", pool, exc
                )
                tracker.unavailable.add(pool)
                continue
            except TolokaError as exc:
                # A bad key, a quota or an outage would answer the create the same way:
                # raised here, before anything is sent, it costs nothing and names the cause.
                raise attach(exc, result) from None
            tracker.floors[pool] = newest[0].id if newest else None
            if job is not None:
                job.record_floor(pool, tracker.floors[pool])

    async def _settle(
        self, tracker: UnknownTracker, result: TaskCreateResult, options: CreateOptions
    ) -> None:
        """Read back what each pool created since the call began; settle lost positions.

        A position nothing matches is "not created" only from a read made once no lost
        request can still be applied (``max_request_hold`` after the client gave up on the
        last one): if the first read leaves such positions, the call waits for that moment
        and reads again.
        """
        clock = self._core.clock
        until = tracker.settle_after
        final = until is None or clock() >= until
        absent = await self._settle_pass(tracker, result, options, final=final)
        if absent and until is not None and not final:
            logger.info(
                "%d lost position(s) not found yet: reading the pool again in %.0f s, when "
                "their requests can no longer be applied (max_request_hold)",
                absent,
                until - clock(),
            )
            await self._core.sleep(until - clock())
            await self._settle_pass(tracker, result, options, final=True)

    async def _settle_pass(
        self,
        tracker: UnknownTracker,
        result: TaskCreateResult,
        options: CreateOptions,
        *,
        final: bool,
    ) -> int:
        """One read of the pools; returns how many positions were absent (not ``final``)."""
        known = set(result.task_ids.values())
        bound = 2 * result.total + 10_000
        absent = 0
        for pool, lost in tracker.by_pool(result.unknown_positions()).items():
            if pool not in tracker.floors:
                continue
            floor = tracker.floors[pool]
            new: list[Task] = []
            complete = True
            try:
                async for task in self.list(pool_id=pool, id_gt=floor, sort="id", limit=300):
                    new.append(task)
                    if len(new) >= bound:
                        complete = False  # a concurrent writer this busy: trust nothing
                        break
            except TolokaError as exc:
                logger.warning("cannot read back pool %s to settle lost answers (%s)", pool, exc)
                continue
            if not complete:
                continue
            settled = settle(lost, new, known, complete=complete, final=final)
            apply_settled(result, settled, keep_tasks=options.keep_tasks)
            known |= {t.id for t in settled.created.values() if t.id}
            absent += len(settled.absent)
        return absent

    async def _resend(
        self,
        tracker: UnknownTracker,
        result: TaskCreateResult,
        options: CreateOptions,
        poll_policy: PollPolicy | None,
    ) -> None:
        """Send the positions found not created once more."""
        missing = resend_positions(result, tracker.lost)
        if missing:
            await self._send_again(missing, tracker, result, options, poll_policy, uuid.uuid4())

    async def _resend_job(
        self,
        job: TaskJob,
        tracker: UnknownTracker,
        result: TaskCreateResult,
        options: CreateOptions,
        poll_policy: PollPolicy | None,
    ) -> None:
        """A job's resends: each request's positions found not created, under an operation
        id of the job's, so that a resend interrupted in any run is asked again, not sent
        twice."""
        for index, positions in list(job.not_created()):
            if any(p not in tracker.lost for p in positions):
                continue  # not part of this run's input: JournalMismatchError said so before
            job.resend_intent(index, positions)
            operation_id = job.resend_operation_id(index)
            if await self._send_again(
                positions, tracker, result, options, poll_policy, operation_id
            ):
                job.resend_done(index, positions, result)

    async def _send_again(
        self,
        positions: Sequence[int],
        tracker: UnknownTracker,
        result: TaskCreateResult,
        options: CreateOptions,
        poll_policy: PollPolicy | None,
        operation_id: uuid.UUID,
    ) -> bool:
        """Create ``positions`` (found not created) through async operations derived from
        ``operation_id``: the idempotent path, so a lost answer to it is asked again, never
        sent twice. Returns whether every position is decided; the undecided are unknown."""
        again = attrs.evolve(options, open_pool=False, async_mode=True, operation_id=operation_id)
        sub = TaskCreateResult()
        payloads = [tracker.lost[p] for p in positions]
        try:
            await self._create(
                _requests(payloads, again, None), again, sub, None, poll_policy, None
            )
        except TolokaError as exc:
            logger.warning("resending %d task(s) stopped (%s)", len(positions), exc)
        return not merge_resent(result, positions, sub)

    async def _create_sync(
        self,
        requests: AsyncIterator[Planned],
        options: CreateOptions,
        result: TaskCreateResult,
        on_progress: ProgressCallback | None,
        tracker: UnknownTracker | None,
        job: TaskJob | None = None,
    ) -> None:
        try:
            async for request in requests:
                if job is not None:
                    if replay(job, request, result, tracker, on_progress):
                        continue
                    intent = job.sent(request.chunk.index)
                    if intent is not None and tracker is not None:
                        # Sent by a run that is gone, its answer never recorded: settled
                        # with the others at the end, never sent blindly again.
                        result.total += len(request.payloads)
                        result.unknown.append(request.chunk.positions)
                        tracker.note(request.chunk, request.payloads, result)
                        gave_up = self._core.gave_up_on(intent.get("at"))
                        tracker.gave_up(self._core.settings.settle_deadline(gave_up))
                        continue
                await self._floors(tracker, request.payloads, result, job)
                lost = await self._send_sync_chunk(request, options, result, on_progress, job)
                if tracker is not None:
                    tracker.note(request.chunk, request.payloads, result)
                    if lost:
                        settings = self._core.settings
                        tracker.gave_up(settings.settle_deadline(self._core.clock()))
        except TolokaError as exc:
            raise attach(exc, result) from None  # bad input met while planning, mostly

    async def _send_sync_chunk(
        self,
        request: Planned,
        options: CreateOptions,
        result: TaskCreateResult,
        on_progress: ProgressCallback | None,
        job: TaskJob | None = None,
    ) -> bool:
        """One sync-mode request; its answer merged into ``result`` by position (and into
        the job's journal before anything else happens). True if its outcome is unknown
        (the positions are in ``result.unknown``)."""
        chunk = request.chunk
        try:
            await self._acquire(len(request.payloads), options.wait_for_quota)
            if job is not None:
                job.intent(request, None)
        except TolokaError as exc:
            raise attach(exc, result) from None
        result.total += len(request.payloads)
        lost = False
        try:
            response = await self._core.request(
                "v1",
                "POST",
                "/tasks",
                content=request.body,
                headers=_JSON,
                params=options.params(is_last=chunk.is_last),
                wait_for_quota=options.wait_for_quota,
            )
        except OutcomeUnknownError as exc:
            logger.warning("chunk %d: outcome unknown (%s)", chunk.index, exc)
            result.unknown.append(chunk.positions)
            lost = True
        except APIStatusError as exc:
            recorded = apply_validation_error(result, chunk, exc)
            if not (recorded and skipped_whole(result, chunk, options)):
                raise attach(exc, result) from None
            # Every task of the request was invalid: Toloka refuses the whole request even
            # with skip_invalid_items, which asked to skip them: recorded, and on we go.
        except TolokaError as exc:
            raise attach(exc, result) from None
        else:
            try:
                apply_sync_response(
                    result,
                    chunk,
                    await self._json(response, "createTasks"),
                    keep_tasks=options.keep_tasks,
                    body=response.content,  # the created tasks are built from it when read
                )
            except TolokaError as exc:
                mark_unaccounted_unknown(result, chunk)
                raise attach(exc, result) from None
        if job is not None and not lost:
            try:
                job.record(chunk, len(request.payloads), result)
            except TolokaError as exc:
                raise attach(exc, result) from None
        if on_progress is not None:
            on_progress(result.progress(chunk.index + 1))
        return lost

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
        except ConflictError as exc:
            # 409 OPERATION_ALREADY_EXISTS: an earlier attempt (or run) with this id got
            # there first; read that operation. A 409 for another reason created nothing.
            try:
                return await self._operations.get(op_id)
            except NotFoundError:
                raise exc from None
            except TolokaError:
                raise SubmitOutcomeUnknown(exc, op_id) from None
        except (APIConnectionError, InternalServerError) as exc:
            # No answer, or a 5xx after every retry: the operation may exist, or still come
            # to exist (a request held and applied late). Read it by id; if it is not there,
            # its fate stays unknown: asking again with the same id settles it exactly once.
            try:
                return await self._operations.get(op_id)
            except TolokaError:
                raise SubmitOutcomeUnknown(exc, op_id) from None
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
        job: TaskJob | None = None,
    ) -> None:
        def progress(op: Operation) -> None:
            if on_progress is not None:
                on_progress(result.progress(chunks_done, op))

        try:
            final = await self._operations.wait(
                pending.operation.id, poll_policy=poll_policy, on_progress=progress
            )
        except OperationFailedError as exc:
            failed = exc.obj if isinstance(exc.obj, Operation) else pending.operation
            result.operations[pending.slot] = failed
            try:
                log = await self._operations._log_body(failed.id)
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
                body=pending.body,
            )
            if job is not None:
                job.record(pending.chunk, len(pending.payloads), result)
            if not skipped_whole(result, pending.chunk, options):
                raise
            # Every task was invalid (Toloka fails such a batch even with skip_invalid_items,
            # which asked to skip them): recorded by position, and on we go.
            if on_progress is not None:
                on_progress(result.progress(chunks_done, failed))
            return
        except TolokaError:
            result.unknown.append(pending.chunk.positions)
            raise
        result.operations[pending.slot] = final
        try:
            log = await self._operations._log_body(final.id)
            apply_log(
                result,
                pending.chunk,
                pending.payloads,
                log,
                keep_tasks=options.keep_tasks,
                body=pending.body,
            )
        except TolokaError:
            mark_unaccounted_unknown(result, pending.chunk)
            raise
        if job is not None:
            job.record(pending.chunk, len(pending.payloads), result)
        if on_progress is not None:
            on_progress(result.progress(chunks_done, final))

    async def _create_async(
        self,
        requests: AsyncIterator[Planned],
        options: CreateOptions,
        result: TaskCreateResult,
        on_progress: ProgressCallback | None,
        poll_policy: PollPolicy | None,
        tracker: UnknownTracker | None,
        job: TaskJob | None = None,
    ) -> None:
        done = 0

        async def finish(pending: Pending) -> None:
            nonlocal done
            done += 1
            await self._finish(pending, options, result, on_progress, poll_policy, done, job)
            if tracker is not None:
                tracker.note(pending.chunk, pending.payloads, result)

        # Operations already submitted are polled and their logs read by the worker while
        # the next chunk is planned and submitted (the sync client: when it must wait).
        async with Worker(finish) as worker:
            try:
                async for request in requests:
                    chunk = request.chunk
                    if job is not None and replay(job, request, result, None, on_progress):
                        continue
                    await worker.wait_until(in_flight_allowed(chunk, options))
                    if worker.error is not None:
                        break
                    await self._floors(tracker, request.payloads, result, job)
                    await self._acquire(len(request.payloads), options.wait_for_quota)
                    op_id = options.chunk_operation_id(chunk)
                    if job is not None and job.sent(chunk.index) is None:
                        # A request sent by an earlier run is asked again with the same id.
                        job.intent(request, op_id)
                    result.total += len(request.payloads)
                    try:
                        operation = await self._submit(chunk, request.body, options)
                    except SubmitOutcomeUnknown as unknown:
                        result.unknown.append(chunk.positions)
                        raise rerun_hint(unknown.error, options) from None
                    result.operations.append(operation)
                    slot = len(result.operations) - 1
                    await worker.put(
                        Pending(chunk, request.payloads, operation, slot, request.body)
                    )
                await worker.wait_until(0)
            except TolokaError as exc:
                # Bad input further on, a quota, a lost submit: the operations already
                # started are still running; wait for them so their results are exact.
                await worker.wait_until(0)
                for pending in worker.left():
                    result.unknown.append(pending.chunk.positions)
                raise attach(exc, result) from None
        if worker.error is not None:
            for pending in worker.left():
                result.unknown.append(pending.chunk.positions)
            if isinstance(worker.error, TolokaError):
                raise attach(worker.error, result) from None
            raise worker.error


async def _requests(
    tasks: Iterable[TaskLike] | AsyncIterable[TaskLike],
    options: CreateOptions,
    planned: list[Planned] | None,
) -> AsyncIterator[Planned]:
    """The create requests of a call, in order: ``planned`` (a list already checked and
    planned by :func:`prevalidate`) as it is, else planned chunk by chunk as they are sent
    (bad input then raises here, between requests: the caller attaches the result so far)."""
    if planned is not None:
        for request in planned:
            yield request
        return
    planner = RequestPlanner(options)
    async for chunk in aiter_chunks(tasks, options.chunk_size):
        for request in planner.plan(chunk):
            yield request


async def _recorded(job: TaskJob, requests: AsyncIterator[Planned]) -> TaskCreateResult:
    """A finished job run again: nothing is sent; its input is checked against the journal
    (request by request) and the recorded result returned."""
    count = 0
    async for request in requests:
        job.check(request)
        if job.decided(request.chunk.index) is None:
            raise job.mismatch(request)
        count += 1
    recorded = job.recorded_result()
    if count != job.request_count():
        raise job.mismatch(None)
    return recorded
