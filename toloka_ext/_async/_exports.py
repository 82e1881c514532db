"""``client.exports``: create an export, wait for it, download it, read its rows."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx

from .._exceptions import (
    ApiDriftError,
    ConflictError,
    ExportFailedError,
    local_status_error,
)
from .._logging import logger
from .._polling import PollPolicy, choose_policy, renamed_policy
from .._progress import ProgressBars, bars
from .._retry import transport_error
from .._types import NOT_GIVEN, JsonObject, NotGiven
from .._v2 import _adapter as A
from .._v2._models import Export, ExportStatus
from .._v2._results import AtomicFile, export_format
from .._v2._rows import iter_result_rows
from .._v2._workflow import (
    check_export_choice,
    export_field_refs,
    export_is_done,
    export_is_failed,
)
from ._core import AsyncCore
from ._datasets import AsyncDatasets
from ._pagination import AsyncPaginator
from ._polling import poll_until
from ._resource import DEFAULT_PAGE_SIZE, AsyncResource

__all__ = ["AsyncExports"]

_RESULT_CHUNK = 64 * 1024
_SPOOL_MEMORY = 4 * 1024 * 1024


class AsyncExports(AsyncResource):
    """``client.exports``: create, wait, download, iterate result rows."""

    def __init__(self, core: AsyncCore, datasets: AsyncDatasets) -> None:
        super().__init__(core)
        self._datasets = datasets

    async def create(
        self,
        dataset_id: str,
        *,
        fields: Sequence[str] | None = None,
        field_ids: Sequence[str] | None = None,
        format: str | None = None,
    ) -> Export:
        """Request an export of fields chosen by name (``fields``) or id (``field_ids``).

        With neither, every field is exported. The names are checked against the dataset's
        fields first; an unknown one raises ``InvalidInputError`` listing those that exist.

        Example::

            export = await client.exports.create("ds-1", fields=["url", "label"])
        """
        check_export_choice(fields, field_ids, format)
        available = await self._datasets.list_fields(dataset_id)
        refs = export_field_refs(available, fields, field_ids)
        spec = A.req_create_export(dataset_id, fields=refs, format=format)
        if not refs:
            # The dataset's state, not the caller's input: what the API would answer.
            raise local_status_error(
                ConflictError,
                409,
                httpx.Request(spec.method, f"{self._core.settings.base_url}{spec.url}"),
                code="CONFLICT",
                message=(
                    f"dataset {dataset_id} has no fields yet, so there is nothing to export "
                    "(checked before sending: add rows to the dataset first)"
                ),
            )
        return await self._call(spec, A.parse_export)

    def list(self, dataset_id: str, *, limit: int = DEFAULT_PAGE_SIZE) -> AsyncPaginator[Export]:
        """The exports of a dataset, fetched a page at a time."""
        return self._paginate(
            limit,
            lambda off: A.req_list_exports(dataset_id, limit=limit, offset=off),
            A.parse_export_page,
        )

    async def get(self, export_id: str) -> Export:
        """The export's current state."""
        return await self._call(A.req_get_export(export_id), A.parse_export)

    async def wait(
        self,
        export_id: str,
        *,
        poll_policy: PollPolicy | None = None,
        policy: PollPolicy | None = None,
        timeout: float | None | NotGiven = NOT_GIVEN,
    ) -> Export:
        """Poll until the export is ``ready`` (with a ``download_url``).

        ``poll_policy`` replaces the client's polling policy (``policy`` is its deprecated
        old name); ``timeout`` replaces its deadline.

        A status the snapshot does not know ends the wait with ``ApiDriftError`` once it
        has lasted the policy's bounds (see :class:`~toloka_ext.PollPolicy`), or at once on
        the second poll that carries a download URL under that unknown status.

        Raises:
            ExportFailedError: the export failed (with the server's reason).
            ApiDriftError: a status the snapshot does not know persisted, or ``ready``
                came without a ``downloadUrl``.
            PollTimeoutError: not ready in time; the message names the last state seen.
        """

        poll_policy = renamed_policy(poll_policy, policy)

        async def fetch() -> Export:
            return await self.get(export_id)

        return await poll_until(
            self._core,
            fetch,
            is_done=export_is_done,
            is_failed=export_is_failed,
            failure=ExportFailedError,
            policy=choose_policy(self._core.settings.poll_policy, poll_policy, timeout),
        )

    async def _existing(self, dataset_id: str) -> Export | None:
        """An export of ``dataset_id`` that did not fail, if the API lists one."""
        try:
            async for export in self.list(dataset_id, limit=100):
                if export.status != ExportStatus.FAILED:
                    return export
        except ApiDriftError as exc:
            # listExports is a guess of the snapshot: without it, ask for a new export
            # (exports only read the dataset; a second one duplicates no data).
            logger.warning("cannot list the exports of %s to resume (%s)", dataset_id, exc)
        return None

    async def _ready(self, export: Export | str) -> Export:
        current = await self.get(export) if isinstance(export, str) else export
        if not export_is_done(current):
            current = await self.wait(current.id)
        return current

    async def _open(self, export: Export) -> httpx.Response:
        assert export.download_url is not None
        return await self._core.storage("GET", export.download_url, stream=True)

    async def download(
        self, export: Export | str, path: str | os.PathLike[str], *, progress: bool = False
    ) -> Path:
        """Download the result file to ``path``, streamed, atomically (no partial file).
        ``progress=True`` shows the bytes received as a bar on stderr (Rich).

        Example::

            await client.exports.download(export, "results.jsonl")
        """
        with bars(progress) as display:
            return await self._download(export, path, display)

    async def _download(
        self, export: Export | str, path: str | os.PathLike[str], display: ProgressBars
    ) -> Path:
        # The scratch file first: a directory that cannot be written fails before any request.
        with AtomicFile(path) as out:
            return await self._download_into(export, out, display)

    async def _download_into(
        self, export: Export | str, out: AtomicFile, display: ProgressBars
    ) -> Path:
        ready = await self._ready(export)
        response = await self._open(ready)
        size = response.headers.get("content-length")
        total = int(size) if size and size.isdigit() else None
        received = 0
        try:
            async for block in response.aiter_bytes(_RESULT_CHUNK):
                out.write(block)
                received += len(block)
                display.bytes("download", received, total, doing="downloading")
            saved = out.commit()
            display.finish("download")
            return saved
        except httpx.TransportError as exc:
            raise transport_error(exc, response.request) from exc
        finally:
            await response.aclose()

    async def iter_rows(self, export: Export | str) -> AsyncIterator[JsonObject]:
        """The result rows, streamed through a spooled temporary file (bounded memory)."""
        ready = await self._ready(export)
        response = await self._open(ready)
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_MEMORY) as spool:
            try:
                async for block in response.aiter_bytes(_RESULT_CHUNK):
                    spool.write(block)
            except httpx.TransportError as exc:
                raise transport_error(exc, response.request) from exc
            finally:
                await response.aclose()
            spool.seek(0)
            for row in iter_result_rows(spool, export_format(ready)):
                yield row
