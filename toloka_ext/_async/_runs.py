"""``client.runs``: start, get, list and watch pipeline runs."""

from __future__ import annotations

import builtins
from collections.abc import Callable

from .._exceptions import RunFailedError
from .._polling import PollPolicy, choose_policy, renamed_policy
from .._progress import bars, run_bar
from .._types import NOT_GIVEN, NotGiven
from .._v2 import _adapter as A
from .._v2._models import Run
from .._v2._workflow import run_is_done, run_is_failed
from ._pagination import AsyncPaginator
from ._polling import poll_until
from ._resource import DEFAULT_PAGE_SIZE, AsyncResource

__all__ = ["AsyncRuns"]


class AsyncRuns(AsyncResource):
    """``client.runs``: start, get, list and watch runs."""

    async def start(self, pipeline_id: str, *, name: str | None = None) -> Run:
        """Start a run over a snapshot of the pipeline's attached dataset."""
        return await self._call(A.req_start_run(pipeline_id, name=name), A.parse_run)

    async def get(self, run_id: str) -> Run:
        """The run's current state (status and progress)."""
        return await self._call(A.req_get_run(run_id), A.parse_run)

    def list(self, pipeline_id: str, *, limit: int = DEFAULT_PAGE_SIZE) -> AsyncPaginator[Run]:
        """The runs of a pipeline, fetched a page at a time."""
        return self._paginate(
            limit,
            lambda off: A.req_list_runs(pipeline_id, limit=limit, offset=off),
            A.parse_run_page,
        )

    async def watch(
        self,
        run_id: str,
        *,
        poll_policy: PollPolicy | None = None,
        policy: PollPolicy | None = None,
        timeout: float | None | NotGiven = NOT_GIVEN,
        on_progress: Callable[[Run], object] | None = None,
        progress: bool = False,
    ) -> Run:
        """Poll a run (backoff up to a cap) until it completes; return the final run.

        ``on_progress(run)`` is called after every poll (``run.progress`` has total /
        completed / failed; ``progress=True`` draws it as a bar on stderr, with Rich).
        ``timeout`` is in seconds (``None`` waits forever; default from the client's policy);
        ``poll_policy`` replaces that policy (``policy`` is its deprecated old name).
        A status this snapshot does not know does not cost the timeout: once it has lasted
        the policy's ``unknown_status_polls`` polls or ``unknown_status_timeout`` seconds
        (10 polls / 120 s by default, whichever comes first), or two polls while the run's
        progress counts every item, the watch ends with ``ApiDriftError``.

        Example::

            run = await client.runs.watch(run.id, timeout=3600, on_progress=print)

        Raises:
            RunFailedError: the run ended ``failed`` or ``cancelled`` (with the server's message).
            ApiDriftError: a status the snapshot does not know persisted (``getRun``,
                ``status`` and the value named).
            PollTimeoutError: still not finished at the timeout; the message names the last
                status and progress seen.
        """

        poll_policy = renamed_policy(poll_policy, policy)

        async def fetch() -> Run:
            return await self.get(run_id)

        with bars(progress) as display:
            return await poll_until(
                self._core,
                fetch,
                is_done=run_is_done,
                is_failed=run_is_failed,
                failure=RunFailedError,
                policy=choose_policy(self._core.settings.poll_policy, poll_policy, timeout),
                on_progress=run_bar(display, on_progress),
            )

    async def _list_all(self, pipeline_id: str) -> builtins.list[Run]:
        return [run async for run in self.list(pipeline_id, limit=100)]
