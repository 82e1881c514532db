"""The multi-step flows, written once as generators and driven by the sync or async client.

A flow ``yield``s :class:`Call` effects (a method of the client to call) and receives the
result (or the exception, thrown back in). ``drive_sync``/``drive_async`` run the same flow
over :class:`PipelineClient` or :class:`AsyncPipelineClient`, so the journal logic, the
exactly-once reconciliation and the upload steps exist once.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

import attrs

from .._exceptions import APIStatusError, ConflictError, InvalidInputError, OutcomeUnknownError
from .._polling import PollPolicy
from ._journal import Journal
from ._models import (
    Dataset,
    Export,
    FieldSpec,
    ItemFilter,
    Pipeline,
    Run,
    Upload,
    UploadStatus,
)
from ._results import read_result_rows
from ._rows import PreparedRows

__all__ = ["AddItemsSummary", "Call", "ProcessResult", "drive_async", "drive_sync"]

T = TypeVar("T")


@attrs.frozen
class Call:
    """An effect: call ``client.<target>(*args, **kwargs)`` and send back the result."""

    target: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = attrs.field(factory=dict)


Flow = Generator[Call, Any, T]


def _resolve(client: object, target: str) -> Callable[..., Any]:
    obj: Any = client
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[no-any-return]


def drive_sync(client: object, flow: Flow[T]) -> T:
    """Run ``flow`` with blocking calls on ``client``."""
    value: Any = None
    error: Exception | None = None
    while True:
        try:
            call = flow.throw(error) if error is not None else flow.send(value)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        value, error = None, None
        try:
            value = _resolve(client, call.target)(*call.args, **call.kwargs)
        except Exception as exc:  # noqa: BLE001 - thrown back into the flow
            error = exc


async def drive_async(client: object, flow: Flow[T]) -> T:
    """Run ``flow`` awaiting the calls on an async ``client``."""
    value: Any = None
    error: Exception | None = None
    while True:
        try:
            call = flow.throw(error) if error is not None else flow.send(value)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        value, error = None, None
        try:
            value = _resolve(client, call.target)(*call.args, **call.kwargs)
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:  # noqa: BLE001 - thrown back into the flow
            error = exc


@attrs.frozen
class AddItemsSummary:
    """What ``add_items`` did: the path taken, the rows stored, the requests or the upload."""

    dataset_id: str
    rows: int
    path: Literal["inline", "upload"]
    requests: int
    upload: Upload | None
    fields: tuple[FieldSpec, ...]


@attrs.frozen
class ProcessResult:
    """The outcome of ``process_new_data``: the objects created and the downloaded results.

    ``iter_rows()`` streams the result file; ``rows()`` loads it.
    """

    project_id: str
    dataset_id: str
    pipeline: Pipeline
    run: Run
    export: Export
    path: Path
    format: str
    items: AddItemsSummary

    def iter_rows(self) -> Iterator[dict[str, Any]]:
        return read_result_rows(self.path, self.format)

    def rows(self) -> list[dict[str, Any]]:
        return list(self.iter_rows())


# --------------------------------------------------------------------------- add items


def add_items_flow(
    dataset_id: str,
    prepared: PreparedRows,
    *,
    journal: Journal | None = None,
    project_id: str | None = None,
    policy: PollPolicy | None = None,
) -> Flow[AddItemsSummary]:
    """Inline chunks (each recorded done one by one) or one upload (recorded by id)."""
    if prepared.path == "upload":
        upload = yield from _upload_flow(dataset_id, prepared, journal=journal, policy=policy)
        return AddItemsSummary(
            dataset_id, prepared.count, "upload", 0, upload, tuple(prepared.fields)
        )
    stored = 0
    sent = 0
    for i, chunk in enumerate(prepared.chunks):
        step = f"items.{i}"
        if journal is not None:
            if journal.is_done(step):
                stored += chunk.count
                continue
            if journal.get_intent(step) is not None:
                applied = yield from _chunk_was_applied(
                    project_id, dataset_id, before=stored, count=chunk.count, index=i
                )
                if applied:
                    journal.done(step, reconciled=True)
                    stored += chunk.count
                    continue
            journal.intent(step, start=chunk.start, count=chunk.count, before=stored)
        result = yield Call("datasets._post_items", (dataset_id, prepared.chunk_body(chunk)))
        if journal is not None:
            journal.done(step, item_count=result.item_count)
        stored += chunk.count
        sent += 1
    return AddItemsSummary(dataset_id, prepared.count, "inline", sent, None, tuple(prepared.fields))


def _chunk_was_applied(
    project_id: str | None, dataset_id: str, *, before: int, count: int, index: int
) -> Flow[bool]:
    dataset: Dataset | None = None
    if project_id is not None:
        dataset = yield Call("datasets._find", (project_id,), {"dataset_id": dataset_id})
    if dataset is None or dataset.item_count is None:
        raise OutcomeUnknownError(
            f"inline request {index} to dataset {dataset_id} may or may not have been stored, "
            "and the API does not report the dataset's item count to tell; check the dataset "
            "and start a new journal"
        )
    if dataset.item_count == before + count:
        return True
    if dataset.item_count == before:
        return False
    raise OutcomeUnknownError(
        f"dataset {dataset_id} holds {dataset.item_count} items; expected {before} or "
        f"{before + count} while resuming inline request {index}"
    )


def _upload_flow(
    dataset_id: str,
    prepared: PreparedRows,
    *,
    journal: Journal | None,
    policy: PollPolicy | None,
) -> Flow[Upload]:
    # Steps are named per attempt: an upload whose one-time URL was spent without the bytes
    # arriving is abandoned and a new attempt starts (rare: only after a crash mid-PUT).
    abandoned = journal.get_done("upload.abandoned") if journal is not None else None
    attempt = int(abandoned["count"]) if abandoned else 0
    step = f"upload.{attempt}"
    rec = journal.get_done(step) if journal is not None else None
    if rec is None:
        # No list endpoint exists for uploads: an upload created but not recorded (a crash
        # in that window) is never sent bytes nor finalized, so it ingests nothing.
        if journal is not None:
            journal.intent(step, dataset_id=dataset_id)
        upload: Upload = yield Call(
            "uploads.create", (dataset_id,), {"fields": list(prepared.fields)}
        )
        if upload.upload_url is None:
            raise OutcomeUnknownError(f"upload {upload.id} came back without an uploadUrl")
        rec = {"id": upload.id, "url": upload.upload_url, "method": upload.upload_method}
        if journal is not None:
            journal.done(step, **rec)
    upload_id = str(rec["id"])
    put_maybe_applied = False
    if journal is None or not journal.is_done(f"{step}.put"):
        resuming_put = journal is not None and journal.get_intent(f"{step}.put") is not None
        if journal is not None:
            journal.intent(f"{step}.put", bytes=prepared.upload_size)
        try:
            yield Call(
                "uploads._put",
                (str(rec["url"]), prepared),
                {"method": rec.get("method") or "PUT"},
            )
        except APIStatusError as exc:
            # The URL is one-time: after a crash right after a PUT, storage refuses a second
            # one. Finalizing tells whether the first one's bytes arrived.
            if not resuming_put or exc.status_code >= 500:
                raise
            put_maybe_applied = True
        if journal is not None:
            journal.done(f"{step}.put", bytes=prepared.upload_size)
    if journal is None or not journal.is_done(f"{step}.finalize"):
        try:
            yield Call("uploads.finalize", (upload_id,))
        except ConflictError:
            # Already finalized (by the run that crashed), or no bytes: the state tells.
            current: Upload = yield Call("uploads.get", (upload_id,))
            if current.status == UploadStatus.PENDING:
                if not put_maybe_applied or journal is None:
                    raise
                journal.done("upload.abandoned", count=attempt + 1, upload_id=upload_id)
                return (
                    yield from _upload_flow(dataset_id, prepared, journal=journal, policy=policy)
                )
        if journal is not None:
            journal.done(f"{step}.finalize")
    final: Upload = yield Call("uploads.wait", (upload_id,), {"policy": policy})
    return final


# --------------------------------------------------------------------------- the loop


@attrs.frozen
class ProcessOptions:
    project_id: str | None
    name_prefix: str
    item_limit: int | None
    item_filter: ItemFilter | None
    export_fields: tuple[str, ...] | None
    export_format: str | None
    output: Path | None
    policy: PollPolicy | None
    on_progress: Callable[[Run], object] | None


def check_item_limit(item_limit: int | None) -> None:
    if item_limit is None:
        return
    if isinstance(item_limit, bool) or not isinstance(item_limit, int):
        raise InvalidInputError("item_limit must be an integer", field="item_limit")
    if item_limit <= 0:
        raise InvalidInputError(
            f"item_limit must be at least 1, got {item_limit}", field="item_limit"
        )


def check_export_fields(export_fields: object) -> tuple[str, ...] | None:
    """``export_fields`` of ``process_new_data``: a list of field names, or ``None`` (all)."""
    if export_fields is None:
        return None
    if isinstance(export_fields, str | bytes) or not isinstance(export_fields, Iterable):
        raise InvalidInputError(
            "export_fields must be a list of field names, not a string", field="export_fields"
        )
    names = tuple(export_fields)
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise InvalidInputError(
                f"export field names must be non-empty strings, got {name!r}",
                position=i,
                field="export_fields",
            )
    return names


def process_flow(
    pipeline_id: str,
    prepared: PreparedRows,
    journal: Journal,
    opts: ProcessOptions,
) -> Flow[ProcessResult]:
    journal.start(
        pipeline_id=pipeline_id,
        rows_sha256=prepared.fingerprint,
        item_limit=opts.item_limit,
        item_filter=opts.item_filter.to_json() if opts.item_filter else None,
    )
    token = journal.token
    name = f"{opts.name_prefix}-{token}"

    # 1. The project (needed to create the dataset and to reconcile by listing).
    project_id = opts.project_id
    if project_id is None:
        rec = journal.get_done("project")
        if rec is not None:
            project_id = str(rec["id"])
        else:
            project_id = yield Call("pipelines._find_project", (pipeline_id,))
    if not journal.is_done("project"):
        journal.done("project", id=project_id)
    assert project_id is not None

    # 2. The dataset, named with the journal's token.
    rec = journal.get_done("dataset")
    if rec is None:
        found: Dataset | None = None
        if journal.get_intent("dataset") is not None:
            found = yield Call("datasets._find", (project_id,), {"name": name})
        if found is None:
            journal.intent("dataset", name=name)
            found = yield Call("datasets.create", (project_id,), {"name": name})
        assert found is not None
        journal.done("dataset", id=found.id, name=found.name)
        rec = journal.get_done("dataset")
    assert rec is not None
    dataset_id = str(rec["id"])

    # 3. The rows.
    items = yield from add_items_flow(
        dataset_id, prepared, journal=journal, project_id=project_id, policy=opts.policy
    )

    # 4. The pipeline copy, named with the same token.
    rec = journal.get_done("copy")
    copy: Pipeline | None = None
    if rec is None:
        if journal.get_intent("copy") is not None:
            copy = yield Call("pipelines._find", (project_id,), {"name": name})
        if copy is None:
            journal.intent("copy", name=name)
            copy = yield Call(
                "pipelines.copy", (pipeline_id,), {"name": name, "project_id": project_id}
            )
        assert copy is not None
        journal.done("copy", id=copy.id, name=copy.name)
        rec = journal.get_done("copy")
    assert rec is not None
    if copy is None:
        copy = Pipeline(id=str(rec["id"]), name=str(rec["name"]), project_id=project_id)

    # 5. Attach (binding the same dataset again is harmless).
    if not journal.is_done("attach"):
        yield Call(
            "pipelines.attach",
            (copy.id, dataset_id),
            {"item_limit": opts.item_limit, "item_filter": opts.item_filter},
        )
        journal.done("attach")

    # 6. The run: the copy is ours alone, so any run of it is the one we started.
    rec = journal.get_done("run")
    if rec is None:
        started: Run | None = None
        if journal.get_intent("run") is not None:
            runs: list[Run] = yield Call("runs._list_all", (copy.id,))
            started = runs[0] if runs else None
        if started is None:
            journal.intent("run", pipeline_id=copy.id)
            started = yield Call("runs.start", (copy.id,))
        assert started is not None
        journal.done("run", id=started.id)
        rec = journal.get_done("run")
    assert rec is not None
    run_id = str(rec["id"])

    # 7. Watch (a GET loop: safe to repeat).
    run: Run = yield Call(
        "runs.watch", (run_id,), {"policy": opts.policy, "on_progress": opts.on_progress}
    )

    # 8. The export. No list endpoint exists: an export created but not recorded is
    # requested again (exports are read-only, so nothing is duplicated in the data).
    rec = journal.get_done("export")
    if rec is None:
        journal.intent("export", dataset_id=dataset_id)
        created: Export = yield Call(
            "exports.create",
            (dataset_id,),
            {
                "fields": list(opts.export_fields) if opts.export_fields else None,
                "format": opts.export_format,
            },
        )
        journal.done("export", id=created.id)
        rec = journal.get_done("export")
    assert rec is not None
    export: Export = yield Call("exports.wait", (str(rec["id"]),), {"policy": opts.policy})

    # 9. The download (atomic: the final name holds a complete file or nothing).
    from ._results import export_format

    fmt = export_format(export)
    if opts.output is not None:
        output = opts.output
    elif journal.path is not None:
        output = journal.path.with_name(f"{journal.path.name}.results.{fmt}")
    else:
        output = Path(tempfile.mkdtemp(prefix="toloka-results-")) / f"results.{fmt}"
    rec = journal.get_done("download")
    if rec is None or not os.path.exists(str(rec["path"])):
        yield Call("exports.download", (export, output))
        journal.done("download", path=str(output))
    return ProcessResult(
        project_id=project_id,
        dataset_id=dataset_id,
        pipeline=copy,
        run=run,
        export=export,
        path=Path(output),
        format=fmt,
        items=items,
    )
