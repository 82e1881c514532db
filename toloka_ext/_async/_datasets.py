"""``client.datasets``: create and list datasets, their fields, and adding rows."""

from __future__ import annotations

import builtins

from .._exceptions import OutcomeUnknownError
from .._journal import Journal
from .._polling import PollPolicy, renamed_policy
from .._progress import ProgressBars, bars
from .._v2 import _adapter as A
from .._v2._models import AddItemsResult, Dataset, Field
from .._v2._rows import (
    DEFAULT_UPLOAD_THRESHOLD,
    MAX_REQUEST_BYTES,
    Chunk,
    FieldsArg,
    PreparedRows,
    Rows,
    prepare_rows,
)
from .._v2._workflow import AddItemsSummary
from ._core import AsyncCore
from ._once import create_once
from ._pagination import AsyncPaginator
from ._resource import DEFAULT_PAGE_SIZE, AsyncResource
from ._uploads import AsyncUploads

__all__ = ["AsyncDatasets"]


class AsyncDatasets(AsyncResource):
    """``client.datasets``: create, list, fields and adding rows."""

    def __init__(self, core: AsyncCore, uploads: AsyncUploads) -> None:
        super().__init__(core)
        self._uploads = uploads

    async def create(self, project_id: str, *, name: str) -> Dataset:
        """Create an empty dataset: ``await client.datasets.create("prj-1", name="batch-7")``."""
        return await self._call(A.req_create_dataset(project_id, name=name), A.parse_dataset)

    def list(self, project_id: str, *, limit: int = DEFAULT_PAGE_SIZE) -> AsyncPaginator[Dataset]:
        """The datasets of a project, fetched a page at a time."""
        return self._paginate(
            limit,
            lambda off: A.req_list_datasets(project_id, limit=limit, offset=off),
            A.parse_dataset_page,
        )

    async def list_fields(self, dataset_id: str) -> builtins.list[Field]:
        """The fields of a dataset."""
        return await self._call(A.req_list_fields(dataset_id), A.parse_fields)

    async def add_items(
        self,
        dataset_id: str,
        rows: Rows,
        *,
        fields: FieldsArg = None,
        upload_threshold: int = DEFAULT_UPLOAD_THRESHOLD,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        poll_policy: PollPolicy | None = None,
        policy: PollPolicy | None = None,
        progress: bool = False,
    ) -> AddItemsSummary:
        """Add rows, inline (packed under 2 MB a request) or through an upload, as fits.

        ``rows``: dicts, or a ``.jsonl``/``.json``/``.csv`` path. Fields are inferred from the
        first rows when not given. Everything is validated before the first request.
        ``progress=True`` shows the rows (or bytes) sent as a bar on stderr (Rich);
        ``poll_policy`` replaces the client's polling policy while an upload is ingested
        (``policy`` is its deprecated old name).

        Example::

            await client.datasets.add_items("ds-1", [{"url": "https://x/1.jpg"}])
            await client.datasets.add_items("ds-1", "rows.jsonl", fields=["url", "lang"])
        """
        poll_policy = renamed_policy(poll_policy, policy)
        with (
            prepare_rows(
                rows,
                fields=fields,
                upload_threshold=upload_threshold,
                max_request_bytes=max_request_bytes,
            ) as prepared,
            bars(progress) as display,
        ):
            return await self._add(
                dataset_id, prepared, Journal.memory(), None, poll_policy, display
            )

    async def _add(
        self,
        dataset_id: str,
        prepared: PreparedRows,
        journal: Journal,
        project_id: str | None,
        policy: PollPolicy | None,
        display: ProgressBars,
    ) -> AddItemsSummary:
        """Inline chunks (each journaled one by one) or one upload (journaled by id)."""
        fields = tuple(prepared.fields)
        if prepared.path == "upload":
            upload = await self._uploads._ingest(dataset_id, prepared, journal, policy, display)
            display.finish("upload")
            return AddItemsSummary(dataset_id, prepared.count, "upload", 0, upload, fields)
        stored = 0
        sent = 0
        # Resuming: the dataset's item count tells which chunks the interrupted run stored
        # (read once; kept exact while chunks are sent). None: the API does not say.
        actual: int | None = None
        counted = False
        for i, chunk in enumerate(prepared.chunks):
            step = f"items.{i}"
            if journal.is_done(step):
                stored += chunk.count
                continue
            if journal.resumed and not counted:
                actual = await self._item_count(project_id, dataset_id)
                counted = True
            if actual is not None and actual >= stored + chunk.count:
                journal.done(step, reconciled=True)
                stored += chunk.count
                continue
            if actual is not None and actual != stored:
                raise OutcomeUnknownError(
                    f"dataset {dataset_id} holds {actual} items; expected {stored} or "
                    f"{stored + chunk.count} while resuming inline request {i}"
                )
            sent_before = journal.get_intent(step)
            if actual is None and sent_before is not None:
                raise OutcomeUnknownError(
                    f"inline request {i} to dataset {dataset_id} may or may not have been "
                    "stored, and the API does not report the dataset's item count to tell; "
                    "check the dataset and start a new journal"
                )
            if sent_before is not None:
                # Sent by a run that is gone, not stored (yet): wait until that request can
                # no longer be applied before sending the rows again.
                await self._core.wait_out_hold(self._core.gave_up_on(sent_before.get("at")))
                actual = await self._item_count(project_id, dataset_id)
                if actual is not None and actual >= stored + chunk.count:
                    journal.done(step, reconciled=True)
                    stored += chunk.count
                    continue
                if actual != stored:
                    raise OutcomeUnknownError(
                        f"dataset {dataset_id} holds {actual} items; expected {stored} or "
                        f"{stored + chunk.count} while resuming inline request {i}"
                    )
            await self._post_once(dataset_id, prepared, chunk, journal, step, project_id, stored)
            stored += chunk.count
            display.update(
                "upload", stored, prepared.count, amount=f"{stored} rows", doing="sending"
            )
            if actual is not None:
                actual += chunk.count
            sent += 1
        display.finish("upload")
        return AddItemsSummary(dataset_id, prepared.count, "inline", sent, None, fields)

    async def _post_once(
        self,
        dataset_id: str,
        prepared: PreparedRows,
        chunk: Chunk,
        journal: Journal,
        step: str,
        project_id: str | None,
        stored: int,
    ) -> None:
        """One inline request, journaled. Its answer lost, the dataset's item count tells
        whether it was stored (and, once it can no longer apply, whether to send it again)."""

        def intent() -> None:
            journal.intent(step, start=chunk.start, count=chunk.count, before=stored)

        async def post() -> bool:
            result = await self._post_items(dataset_id, prepared.chunk_body(chunk))
            journal.done(step, item_count=result.item_count)
            return True

        if project_id is None:  # a single add_items call: nothing to count by, say so
            intent()
            await post()
            return

        async def is_stored() -> bool | None:
            count = await self._item_count(project_id, dataset_id)
            if count == stored + chunk.count:
                journal.done(step, reconciled=True)
                return True
            if count == stored:
                return None
            raise OutcomeUnknownError(
                f"inline request {step} to dataset {dataset_id} may or may not have been "
                + (
                    f"stored: the dataset holds {count} items, expected {stored} or "
                    f"{stored + chunk.count}"
                    if count is not None
                    else "stored, and the API does not report the dataset's item count to tell"
                )
                + "; check the dataset and start a new journal"
            )

        await create_once(
            self._core, f"rows of {step}", find=is_stored, create=post, before_send=intent
        )

    async def _post_items(self, dataset_id: str, content: bytes) -> AddItemsResult:
        return await self._call(A.req_add_items(dataset_id, content), A.parse_add_items)

    async def _item_count(self, project_id: str | None, dataset_id: str) -> int | None:
        """The dataset's item count as the API reports it (``None`` if it does not)."""
        dataset = await self._find(project_id, dataset_id=dataset_id) if project_id else None
        return dataset.item_count if dataset is not None else None

    async def _find(
        self, project_id: str, *, name: str | None = None, dataset_id: str | None = None
    ) -> Dataset | None:
        async for ds in self.list(project_id, limit=100):
            if (name is not None and ds.name == name) or (dataset_id and ds.id == dataset_id):
                return ds
        return None
