"""``client.uploads``: the large-data path (create, send the bytes, finalize, wait)."""

from __future__ import annotations

from collections.abc import Iterator

from .._exceptions import (
    APIStatusError,
    ConflictError,
    InvalidInputError,
    OutcomeUnknownError,
    UploadFailedError,
)
from .._journal import Journal
from .._polling import PollPolicy, choose_policy, renamed_policy
from .._primitives_async import stream_body
from .._progress import ProgressBars
from .._types import NOT_GIVEN, NotGiven
from .._v2 import _adapter as A
from .._v2._adapter import drift
from .._v2._models import Upload, UploadStatus
from .._v2._rows import FieldsArg, PreparedRows, Rows, normalize_fields, prepare_rows
from .._v2._workflow import upload_is_done, upload_is_failed
from ._once import MAX_CREATE_ATTEMPTS
from ._polling import poll_until
from ._resource import AsyncResource

__all__ = ["AsyncUploads"]


class AsyncUploads(AsyncResource):
    """``client.uploads``: create an upload, send its bytes, finalize it, wait for it."""

    async def create(
        self, dataset_id: str, *, fields: FieldsArg = None, file_name: str | None = None
    ) -> Upload:
        """Start an upload; its ``upload_url`` takes the bytes (see :meth:`send`)."""
        specs = normalize_fields(fields) if fields else None
        return await self._call(
            A.req_create_upload(dataset_id, fields=specs, file_name=file_name), A.parse_upload
        )

    async def finalize(self, upload_id: str) -> Upload:
        """Start ingesting the uploaded bytes.

        A finalize whose answer was lost (a 5xx, a dropped connection) is settled by the
        upload's state: past ``pending``, it was applied and the upload is returned; still
        ``pending``, it is sent again (finalizing is a change of state: a second one is
        refused with a 409, never applied twice), and a 409 then means this call's own
        finalize got there first.

        Raises:
            ConflictError: the upload was already finalized before this call, or holds no
                bytes.
        """
        try:
            return await self._call(A.req_finalize_upload(upload_id), A.parse_upload)
        except OutcomeUnknownError:
            current = await self.get(upload_id)
            if current.status != UploadStatus.PENDING:
                return current
        try:
            return await self._call(A.req_finalize_upload(upload_id), A.parse_upload)
        except ConflictError:
            current = await self.get(upload_id)
            if current.status == UploadStatus.PENDING:
                raise
            return current

    async def get(self, upload_id: str) -> Upload:
        """The upload's current state."""
        return await self._call(A.req_get_upload(upload_id), A.parse_upload)

    async def wait(
        self,
        upload_id: str,
        *,
        poll_policy: PollPolicy | None = None,
        policy: PollPolicy | None = None,
        timeout: float | None | NotGiven = NOT_GIVEN,
    ) -> Upload:
        """Poll until the upload ``succeeded``.

        ``poll_policy`` replaces the client's polling policy (``policy`` is its deprecated
        old name); ``timeout`` replaces its deadline.

        Raises:
            UploadFailedError: the upload failed (with the server's reason).
            PollTimeoutError: not done in time.
        """

        poll_policy = renamed_policy(poll_policy, policy)

        async def fetch() -> Upload:
            return await self.get(upload_id)

        return await poll_until(
            self._core,
            fetch,
            is_done=upload_is_done,
            is_failed=upload_is_failed,
            failure=UploadFailedError,
            policy=choose_policy(self._core.settings.poll_policy, poll_policy, timeout),
        )

    async def send(self, upload: Upload, rows: Rows, *, fields: FieldsArg = None) -> None:
        """Stream ``rows`` as one JSON array to ``upload.upload_url`` (no credentials sent).

        Example::

            upload = await client.uploads.create("ds-1", fields=["url", "lang"])
            await client.uploads.send(upload, "rows.jsonl", fields=["url", "lang"])
            await client.uploads.finalize(upload.id)
            await client.uploads.wait(upload.id)
        """
        if not upload.upload_url:
            raise InvalidInputError(f"upload {upload.id} has no upload_url", field="upload")
        with prepare_rows(rows, fields=fields, upload_threshold=0) as prepared:
            await self._put(upload.upload_url, prepared, method=upload.upload_method or "PUT")

    async def _put(
        self,
        url: str,
        prepared: PreparedRows,
        *,
        method: str = "PUT",
        display: ProgressBars | None = None,
    ) -> None:
        def blocks() -> Iterator[bytes]:
            # Called once per attempt: a re-sent body counts from 0 again.
            sent = 0
            for block in prepared.iter_upload_body():
                sent += len(block)
                if display is not None:
                    display.bytes("upload", sent, prepared.upload_size, doing="sending")
                yield block

        response = await self._core.storage(
            method,
            url,
            content=stream_body(blocks),
            headers={
                "Content-Type": "application/json",
                "Content-Length": str(prepared.upload_size),
            },
        )
        await response.aclose()

    async def _create_for(
        self, dataset_id: str, prepared: PreparedRows, journal: Journal, step: str
    ) -> Upload:
        """A new upload for the job. One whose answer was lost is left as it is: it never
        gets bytes nor a finalize, so it ingests nothing, and another is created."""
        for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
            journal.intent(step, dataset_id=dataset_id)
            try:
                return await self.create(dataset_id, fields=list(prepared.fields))
            except OutcomeUnknownError:
                if attempt == MAX_CREATE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    async def _ingest(
        self,
        dataset_id: str,
        prepared: PreparedRows,
        journal: Journal,
        policy: PollPolicy | None,
        display: ProgressBars,
    ) -> Upload:
        """Create, send, finalize and wait, each step journaled so a rerun goes on from it."""
        # Steps are named per attempt: an upload whose one-time URL was spent without the
        # bytes arriving is abandoned and a new attempt starts (only after a crash mid-PUT).
        abandoned = journal.get_done("upload.abandoned")
        attempt = int(abandoned["count"]) if abandoned else 0
        step = f"upload.{attempt}"
        rec = journal.get_done(step)
        if rec is None:
            # No list endpoint exists for uploads: one created but not recorded (a crash in
            # that window) is never sent bytes nor finalized, so it ingests nothing.
            upload = await self._create_for(dataset_id, prepared, journal, step)
            if not upload.upload_url:
                raise drift(
                    "createUpload",
                    "uploadUrl",
                    f"upload {upload.id} came back without an uploadUrl to send the rows to",
                )
            rec = {"id": upload.id, "url": upload.upload_url, "method": upload.upload_method}
            journal.done(step, **rec)
        upload_id = str(rec["id"])
        put_maybe_applied = False
        if not journal.is_done(f"{step}.put"):
            resuming_put = journal.get_intent(f"{step}.put") is not None
            journal.intent(f"{step}.put", bytes=prepared.upload_size)
            display.note("upload", "sending")
            try:
                await self._put(
                    str(rec["url"]),
                    prepared,
                    method=str(rec.get("method") or "PUT"),
                    display=display,
                )
            except APIStatusError as exc:
                # The URL is one-time: after a crash right after a PUT, storage refuses a
                # second one. Finalizing tells whether the first one's bytes arrived.
                if not resuming_put or exc.status_code >= 500:
                    raise
                put_maybe_applied = True
            journal.done(f"{step}.put", bytes=prepared.upload_size)
        if not journal.is_done(f"{step}.finalize"):
            try:
                await self.finalize(upload_id)
            except ConflictError:
                # Already finalized (by the run that crashed), or no bytes: the state tells.
                current = await self.get(upload_id)
                if current.status == UploadStatus.PENDING:
                    if not put_maybe_applied:
                        raise
                    journal.done("upload.abandoned", count=attempt + 1, upload_id=upload_id)
                    return await self._ingest(dataset_id, prepared, journal, policy, display)
            journal.done(f"{step}.finalize")
        display.note("upload", "ingesting")
        return await self.wait(upload_id, poll_policy=policy)
