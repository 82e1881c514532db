"""Failures of long-running Pipeline API objects (subclasses of ``OperationFailedError``)."""

from __future__ import annotations

from .._exceptions import OperationFailedError
from ._models import Export, Run, Upload

__all__ = ["ExportFailedError", "RunFailedError", "UploadFailedError"]


def _reason(obj: Run | Upload | Export) -> str:
    if obj.error is not None:
        return obj.error.message
    return "the server gave no reason"


class RunFailedError(OperationFailedError):
    """A run ended ``failed`` or ``cancelled``; ``run`` is its last state, ``reason`` the
    server's message."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.reason = _reason(run)
        progress = ""
        if run.progress is not None:
            p = run.progress
            progress = f" ({p.completed}/{p.total} completed, {p.failed} failed)"
        super().__init__(f"run {run.id} ended {run.status}{progress}: {self.reason}", obj=run)


class UploadFailedError(OperationFailedError):
    """An upload's ingestion failed; ``reason`` is the server's message."""

    def __init__(self, upload: Upload) -> None:
        self.upload = upload
        self.reason = _reason(upload)
        super().__init__(f"upload {upload.id} {upload.status}: {self.reason}", obj=upload)


class ExportFailedError(OperationFailedError):
    """An export failed; ``reason`` is the server's message."""

    def __init__(self, export: Export) -> None:
        self.export = export
        self.reason = _reason(export)
        super().__init__(f"export {export.id} {export.status}: {self.reason}", obj=export)
