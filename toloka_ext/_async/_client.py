"""``AsyncToloka``: one client for both APIs (the sync ``Toloka`` is generated from it)."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

import httpx

from .._auth import Secret
from .._constants import (
    DEFAULT_CALL_TIMEOUT,
    DEFAULT_CONNECTION_LIMITS,
    DEFAULT_MAX_REQUEST_HOLD,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    DEFAULT_UPLOAD_THRESHOLD,
    REQUESTS_PER_SECOND,
    V1_TASKS_PER_DAY,
    V1_TASKS_PER_MINUTE,
)
from .._exceptions import InvalidInputError
from .._journal import Journal
from .._polling import PollPolicy, renamed_policy
from .._primitives_async import sleep as default_sleep
from .._progress import bars
from .._ratelimit import TaskLimits, TokenBucket
from .._settings import Settings, resolve_credentials
from .._types import NOT_GIVEN, NotGiven, TimeoutTypes
from .._v2._models import Account, ItemFilter, Run
from .._v2._rows import FieldsArg, Rows, prepare_rows
from .._v2._workflow import ProcessOptions, ProcessResult, check_export_fields, check_item_limit
from ._core import AsyncCore, AsyncLazyClient, AsyncSleep
from ._operations import AsyncOperations
from ._tasks import AsyncTasks

# The Pipeline API resources, the adapter and the generated models under it are imported
# when first used, so a v1-only script does not pay for them (`make bench` measures the
# import against httpx's; tests/test_import_cost.py keeps them out of a v1 run). The pure
# v2 modules above stay: they are cheap, and `typing.get_type_hints` on the client's
# methods must resolve (their annotations name the row and result types).
if TYPE_CHECKING:
    from ._datasets import AsyncDatasets
    from ._exports import AsyncExports
    from ._pipelines import AsyncPipelines
    from ._projects import AsyncProjects
    from ._resource import AsyncResource
    from ._runs import AsyncRuns
    from ._uploads import AsyncUploads
    from ._workflows import AsyncWorkflows

__all__ = ["AsyncToloka"]


class AsyncToloka:
    """The Pipeline API (v2-beta) and API v1 tasks in one client (sync and async alike).

    Credentials: ``api_key`` or ``TOLOKA_API_KEY`` (``Authorization: ApiKey``, both APIs);
    ``oauth_token`` or ``TOLOKA_OAUTH_TOKEN`` (legacy ``OAuth``, API v1 only). Base URLs:
    ``base_url`` or ``TOLOKA_BASE_URL`` (v2-beta), ``v1_base_url`` or ``TOLOKA_V1_BASE_URL``
    (e.g. ``https://sandbox.toloka.dev/api/v1``). Every request is retried by one loop
    (``max_retries`` re-sends after the first attempt; 408/429/5xx, ``Retry-After`` honoured,
    nothing re-sent that may have been applied); ``timeout`` bounds each attempt and
    ``call_timeout`` (120 s) the whole call, retries included. ``max_request_hold`` (300 s)
    is the longest the server is assumed to take to apply a request the client stopped
    waiting for: a create whose outcome is unknown is settled "not created" only once it
    has passed (see the exactly-once guide). Requests are paced at
    ``requests_per_second``, and v1 tasks at ``tasks_per_minute``/``tasks_per_day``
    (``None`` turns a limit off; a spent day raises :class:`QuotaExceededError` unless
    ``wait_for_quota=True``). ``http_client``,
    ``transport`` and ``storage_client`` replace the networking (retries still apply);
    plain ``http://`` to another machine (API or presigned storage) is refused unless
    ``allow_insecure_http=True``; ``sleep`` and ``clock`` replace how the client waits and
    measures time (tests).

    Example::

        from toloka_ext import AsyncToloka

        async with AsyncToloka() as client:
            result = await client.process_new_data("pl-1", "rows.jsonl", journal="b7.journal")
            created = await client.tasks.create_tasks(tasks, async_mode=True)
    """

    def __init__(
        self,
        *,
        api_key: str | Secret | None = None,
        oauth_token: str | Secret | None = None,
        base_url: str | httpx.URL | None = None,
        v1_base_url: str | httpx.URL | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        call_timeout: float | None = DEFAULT_CALL_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_request_hold: float = DEFAULT_MAX_REQUEST_HOLD,
        wait_for_quota: bool = False,
        poll_policy: PollPolicy | None = None,
        requests_per_second: float | None = REQUESTS_PER_SECOND,
        tasks_per_minute: float | None = V1_TASKS_PER_MINUTE,
        tasks_per_day: float | None = V1_TASKS_PER_DAY,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        storage_client: httpx.AsyncClient | None = None,
        allow_insecure_http: bool = False,
        sleep: AsyncSleep | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if http_client is not None and transport is not None:
            raise TypeError("pass transport or http_client, not both")
        settings = Settings.resolve(
            base_url=base_url,
            v1_base_url=v1_base_url,
            timeout=timeout,
            call_timeout=call_timeout,
            max_retries=max_retries,
            max_request_hold=max_request_hold,
            wait_for_quota=wait_for_quota,
            poll_policy=poll_policy or PollPolicy(),
            default_headers=dict(default_headers or {}),
            allow_insecure_http=allow_insecure_http,
        )
        credentials = resolve_credentials(api_key=api_key, oauth_token=oauth_token)
        owned: list[httpx.AsyncClient | AsyncLazyClient] = []
        if http_client is None:
            http_client = httpx.AsyncClient(
                transport=transport or httpx.AsyncHTTPTransport(limits=DEFAULT_CONNECTION_LIMITS)
            )
            owned.append(http_client)
        storage: httpx.AsyncClient | AsyncLazyClient
        if storage_client is None:
            # Presigned storage lives on other hosts and takes no credentials. Made when an
            # upload or an export first needs it: a v1-only script never does.
            storage = AsyncLazyClient(
                lambda: httpx.AsyncClient(
                    transport=transport or httpx.AsyncHTTPTransport(), follow_redirects=True
                )
            )
            owned.append(storage)
        else:
            storage = storage_client
        core = AsyncCore(
            settings=settings,
            credentials=credentials,
            http=http_client,
            storage=storage,
            owned=tuple(owned),
            request_bucket=TokenBucket(requests_per_second) if requests_per_second else None,
            sleep=sleep if sleep is not None else default_sleep,
            clock=clock,
        )
        limits = TaskLimits(
            tasks_per_minute=tasks_per_minute,
            tasks_per_day=tasks_per_day,
            url=f"{settings.v1_base_url}/tasks",
        )
        self._setup(core, limits)

    def _setup(self, core: AsyncCore, limits: TaskLimits) -> None:
        # The resources are built on first access (cached per client; `with_options` copies
        # start empty and build theirs on the copy's core).
        self._core = core
        self._limits = limits

    @functools.cached_property
    def tasks(self) -> AsyncTasks:
        """API v1 tasks: create, list, get, update."""
        return AsyncTasks(self._core, self._limits, self.operations)

    @functools.cached_property
    def operations(self) -> AsyncOperations:
        """API v1 operations: get, log, wait, list."""
        return AsyncOperations(self._core)

    @functools.cached_property
    def projects(self) -> AsyncProjects:
        """Pipeline API projects."""
        from ._projects import AsyncProjects

        return AsyncProjects(self._core)

    @functools.cached_property
    def datasets(self) -> AsyncDatasets:
        """Pipeline API datasets and their items."""
        from ._datasets import AsyncDatasets

        return AsyncDatasets(self._core, self.uploads)

    @functools.cached_property
    def uploads(self) -> AsyncUploads:
        """Pipeline API uploads (large datasets through presigned storage)."""
        from ._uploads import AsyncUploads

        return AsyncUploads(self._core)

    @functools.cached_property
    def pipelines(self) -> AsyncPipelines:
        """Pipeline API pipelines."""
        from ._pipelines import AsyncPipelines

        return AsyncPipelines(self._core, self.projects)

    @functools.cached_property
    def runs(self) -> AsyncRuns:
        """Pipeline API runs."""
        from ._runs import AsyncRuns

        return AsyncRuns(self._core)

    @functools.cached_property
    def exports(self) -> AsyncExports:
        """Pipeline API exports and their result files."""
        from ._exports import AsyncExports

        return AsyncExports(self._core, self.datasets)

    @functools.cached_property
    def _workflows(self) -> AsyncWorkflows:
        from ._workflows import AsyncWorkflows

        return AsyncWorkflows(
            self._core,
            datasets=self.datasets,
            pipelines=self.pipelines,
            runs=self.runs,
            exports=self.exports,
        )

    @functools.cached_property
    def _root(self) -> AsyncResource:
        from ._resource import AsyncResource

        return AsyncResource(self._core)

    @property
    def base_url(self) -> str:
        """The Pipeline API (v2-beta) base URL."""
        return self._core.settings.base_url

    @property
    def v1_base_url(self) -> str:
        """The API v1 base URL."""
        return self._core.settings.v1_base_url

    @property
    def max_retries(self) -> int:
        return self._core.settings.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        return self._core.settings.timeout

    @property
    def poll_policy(self) -> PollPolicy:
        return self._core.settings.poll_policy

    @property
    def max_request_hold(self) -> float:
        """Seconds the server is assumed to take at most to apply a request given up on."""
        return self._core.settings.max_request_hold

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        call_timeout: float | None | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        max_request_hold: float | NotGiven = NOT_GIVEN,
        wait_for_quota: bool | NotGiven = NOT_GIVEN,
        poll_policy: PollPolicy | NotGiven = NOT_GIVEN,
    ) -> Self:
        """A copy with other settings, sharing the connection pools and rate limits.

        Example::

            patient = client.with_options(timeout=300, max_retries=8)
            await patient.runs.watch(run_id)
        """
        settings = self._core.settings.evolve(
            timeout=timeout,
            call_timeout=call_timeout,
            max_retries=max_retries,
            max_request_hold=max_request_hold,
            wait_for_quota=wait_for_quota,
            poll_policy=poll_policy,
        )
        copy = object.__new__(type(self))
        copy._setup(self._core.with_settings(settings), self._limits)
        return copy

    def __repr__(self) -> str:
        creds = self._core.credentials
        schemes = f"v2={creds.v2.scheme if creds.v2 else None}, v1={creds.v1.scheme}"
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, v1_base_url="
            f"{self.v1_base_url!r}, auth=({schemes}) '**********', max_retries={self.max_retries})"
        )

    async def me(self) -> Account:
        """The account the API key belongs to (a cheap key check).

        Example::

            print((await client.me()).id)
        """
        from .._v2 import _adapter as A

        return await self._root._call(A.req_get_me(), A.parse_account)

    async def process_new_data(
        self,
        pipeline_id: str,
        rows: Rows,
        *,
        journal: str | os.PathLike[str] | None = None,
        project_id: str | None = None,
        fields: FieldsArg = None,
        item_limit: int | None = None,
        item_filter: ItemFilter | None = None,
        export_fields: Sequence[str] | None = None,
        export_format: str | None = None,
        output: str | os.PathLike[str] | None = None,
        name_prefix: str = "toloka-ext",
        on_progress: Callable[[Run], object] | None = None,
        poll_policy: PollPolicy | None = None,
        policy: PollPolicy | None = None,
        upload_threshold: int = DEFAULT_UPLOAD_THRESHOLD,
        progress: bool = False,
    ) -> ProcessResult:
        """Run new rows through a pipeline: new dataset, add rows, copy the pipeline, attach,
        run, watch, export, download. Returns the objects and the result file.

        With ``journal`` (a file path) the call is resumable: run it again with the same
        journal after a crash and it continues from the last completed step, creating
        nothing twice. Rows must then be re-readable (a file, or a list), and identical.
        ``progress=True`` shows bars on stderr for the upload, the run and the download
        (needs Rich: the ``cli`` extra). ``poll_policy`` replaces the client's polling policy
        for the upload, the run and the export (``policy`` is its deprecated old name).

        Example::

            result = await client.process_new_data(
                "pl-1", [{"url": "https://x/1.jpg"}], journal="batch-7.journal"
            )
            rows = result.rows()

        Raises:
            InvalidInputError: bad rows or options (before any request).
            RunFailedError: the run failed or was cancelled.
            JournalMismatchError: the journal belongs to another call.
        """
        from .._v2 import _adapter as A

        A.check_path("copyPipeline", pipelineId=pipeline_id)
        check_item_limit(item_limit)
        if output is not None and Path(output).is_dir():  # known now, not after the run
            raise InvalidInputError(
                f"output {os.fspath(output)!r} is a directory: give the file to write",
                field="output",
            )
        opts = ProcessOptions(
            project_id=project_id,
            name_prefix=name_prefix,
            item_limit=item_limit,
            item_filter=item_filter,
            export_fields=check_export_fields(export_fields),
            export_format=export_format,
            output=Path(output) if output is not None else None,
            poll_policy=renamed_policy(poll_policy, policy),
            on_progress=on_progress,
        )
        with (
            bars(progress) as display,
            prepare_rows(rows, fields=fields, upload_threshold=upload_threshold) as prepared,
            Journal.open(journal) if journal is not None else Journal.memory() as book,
        ):
            return await self._workflows.process(pipeline_id, prepared, book, opts, display)

    async def aclose(self) -> None:
        """Close the connection pools this client created (not those passed in)."""
        await self._core.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
