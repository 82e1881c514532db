"""The pure parts of the multi-step flows: their options, results and checks (no I/O).

The flows themselves are plain code in ``toloka_ext/_async/`` (datasets, uploads,
workflows), written once; the sync client runs the generated twin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

import attrs

from .._exceptions import InvalidInputError
from .._polling import Observation, PollPolicy
from .._types import JsonObject
from ._models import (
    Export,
    ExportStatus,
    Field,
    FieldSpec,
    ItemFilter,
    Pipeline,
    Run,
    RunStatus,
    Upload,
    UploadStatus,
)
from ._results import read_result_rows, result_frame

if TYPE_CHECKING:
    import pandas  # type: ignore[import-untyped]
else:  # `pandas.DataFrame` in signatures resolves at run time without importing pandas early
    from .._pandas import pandas_on_demand as pandas

__all__ = [
    "AddItemsSummary",
    "ProcessOptions",
    "ProcessResult",
    "check_export_fields",
    "check_item_limit",
    "export_field_refs",
]


def run_is_done(run: Run) -> bool:
    return run.status == RunStatus.COMPLETED


def run_is_failed(run: Run) -> bool:
    # An unknown status is neither: the poll's StatusWatch bounds how long it may last.
    return run.status in (RunStatus.FAILED, RunStatus.CANCELLED)


def upload_is_done(upload: Upload) -> bool:
    return upload.status == UploadStatus.SUCCEEDED


def upload_is_failed(upload: Upload) -> bool:
    return upload.status == UploadStatus.FAILED


def export_is_done(export: Export) -> bool:
    if export.status != ExportStatus.READY:
        return False
    if not export.download_url:
        # Ready, but nothing to download: waiting longer cannot help.
        from ._adapter import drift  # here: the generated client loads only when v2 is used

        raise drift(
            "getExport",
            "downloadUrl",
            f"export {export.id} is ready but carries no downloadUrl to fetch it from",
        )
    return True


def export_is_failed(export: Export) -> bool:
    return export.status == ExportStatus.FAILED


def _status(
    operation: str, what: str, obj: Run | Upload | Export, details: str, *, work_done: bool
) -> Observation:
    from ._adapter import SNAPSHOT_VERSION  # here: the generated client loads with v2 use

    status = obj.status
    shown = f"{what} {obj.id} status {str(status)!r}"
    if not status.is_known:
        shown += " (not in the snapshot)"
    return Observation(
        operation=operation,
        field="status",
        value=str(status),
        known=status.is_known,
        summary=f"{shown}{details}",
        snapshot_version=SNAPSHOT_VERSION,
        work_done=work_done,
    )


def observe_run(run: Run) -> Observation:
    """A run's state: its work is done once every item is completed or failed, or it has a
    finish time."""
    p = run.progress
    details = "" if p is None else f", {p.completed}/{p.total} completed, {p.failed} failed"
    counted = p is not None and p.total > 0 and p.completed + p.failed >= p.total
    return _status("getRun", "run", run, details, work_done=counted or run.finished_at is not None)


def observe_upload(upload: Upload) -> Observation:
    """An upload's state (no field of it says the ingestion is over but its status)."""
    details = "" if upload.item_count is None else f", {upload.item_count} items"
    return _status("getUpload", "upload", upload, details, work_done=False)


def observe_export(export: Export) -> Observation:
    """An export's state: its work is done once it carries a file to download."""
    ready = bool(export.download_url)
    details = ", with a downloadUrl" if ready else ""
    return _status("getExport", "export", export, details, work_done=ready)


def observe_status(obj: object) -> Observation | None:
    """The observation of a polled v2 object (``None`` for any other object)."""
    if isinstance(obj, Run):
        return observe_run(obj)
    if isinstance(obj, Upload):
        return observe_upload(obj)
    if isinstance(obj, Export):
        return observe_export(obj)
    return None


def _field_list(
    value: object, *, field: str, what: str, accept: type = Iterable
) -> tuple[str, ...] | None:
    """A list of field ``what`` (names or ids) given as ``field``: ``None``, or an ``accept``
    collection (not one string) of non-empty strings, as a tuple."""
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, accept):
        raise InvalidInputError(
            f"{field} must be a list of field {what}, not {type(value).__name__}", field=field
        )
    items = tuple(cast(Iterable[object], value))
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item:
            raise InvalidInputError(
                f"{field} must hold non-empty strings, got {item!r}", position=i, field=field
            )
    return cast(tuple[str, ...], items)


def check_export_choice(names: object, ids: object, format: object) -> None:
    """``fields`` / ``field_ids`` / ``format`` of an export, checked before any request:
    lists of non-empty strings (or ``None``), and a non-empty format string (or ``None``;
    any value, so that a format the API adds later can be asked for)."""
    chosen_names = _field_list(names, field="fields", what="names", accept=Sequence)
    chosen_ids = _field_list(ids, field="field_ids", what="ids", accept=Sequence)
    if (chosen_names is not None or chosen_ids is not None) and not (chosen_names or chosen_ids):
        raise InvalidInputError("choose at least one field to export", field="fields")
    if format is not None and (not isinstance(format, str) or not format):
        raise InvalidInputError(
            f"format must be a non-empty string such as jsonl, json or csv, got {format!r}",
            field="format",
        )


def export_field_refs(
    available: Sequence[Field], names: Sequence[str] | None, ids: Sequence[str] | None
) -> list[dict[str, str]]:
    """The ``fields`` of an export request, checked against the dataset's fields (their
    shape was checked before any request: :func:`check_export_choice`).

    With neither names nor ids: every field (an empty list when the dataset has none: the
    caller reports that state of the server, which is not bad input).
    """
    if names is None and ids is None:
        return [{"id": f.id} for f in available]
    refs: list[dict[str, str]] = []
    known_names = {f.name for f in available}
    known_ids = {f.id for f in available}
    listing = ", ".join(f"{f.name} ({f.id})" for f in available) or "none"
    missing = [n for n in names or () if n not in known_names]
    if missing:
        raise InvalidInputError(
            f"no such field(s) to export: {', '.join(missing)}; the dataset has: {listing}",
            field="fields",
        )
    missing = [i for i in ids or () if i not in known_ids]
    if missing:
        raise InvalidInputError(
            f"no such field id(s) to export: {', '.join(missing)}; the dataset has: {listing}",
            field="field_ids",
        )
    refs.extend({"name": n} for n in names or ())
    refs.extend({"id": i} for i in ids or ())
    return refs


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

    def iter_rows(self) -> Iterator[JsonObject]:
        return read_result_rows(self.path, self.format)

    def rows(self) -> list[JsonObject]:
        return list(self.iter_rows())

    def to_pandas(self) -> pandas.DataFrame:
        """The result rows as a DataFrame (needs ``pip install 'toloka-ext[pandas]'``)."""
        return result_frame(self.path, self.format)


@attrs.frozen
class ProcessOptions:
    project_id: str | None
    name_prefix: str
    item_limit: int | None
    item_filter: ItemFilter | None
    export_fields: tuple[str, ...] | None
    export_format: str | None
    output: Path | None
    poll_policy: PollPolicy | None
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
    return _field_list(export_fields, field="export_fields", what="names")
