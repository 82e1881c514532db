"""The models the clients return (and a few they take), for type hints and ``isinstance``.

Example::

    from toloka_ext.types import Run, RunStatus, TaskCreateResult

Every model keeps the fields the bundled snapshot does not describe in ``extra``, and a
status value it does not list as the raw string (``status.is_known`` is ``False``).
"""

from .._async._pagination import AsyncKeysetPaginator, AsyncPage, AsyncPaginator
from .._sync._pagination import KeysetPaginator, Page, Paginator
from .._types import JsonObject, JsonValue
from .._v1._models import (
    BaselineSolution,
    CreateProgress,
    FieldError,
    KnownSolution,
    Operation,
    OperationLogItem,
    Task,
    TaskCreateResult,
)
from .._v2._models import (
    Account,
    Dataset,
    DatasetAttachment,
    ErrorInfo,
    Export,
    ExportFormat,
    ExportStatus,
    Field,
    ItemFilterMatch,
    Pipeline,
    Project,
    Run,
    RunProgress,
    RunStatus,
    Upload,
    UploadStatus,
)
from .._v2._workflow import AddItemsSummary, ProcessResult

__all__ = [
    "Account",
    "AddItemsSummary",
    "AsyncKeysetPaginator",
    "AsyncPage",
    "AsyncPaginator",
    "BaselineSolution",
    "CreateProgress",
    "Dataset",
    "DatasetAttachment",
    "ErrorInfo",
    "Export",
    "ExportFormat",
    "ExportStatus",
    "Field",
    "FieldError",
    "ItemFilterMatch",
    "JsonObject",
    "JsonValue",
    "KeysetPaginator",
    "KnownSolution",
    "Operation",
    "OperationLogItem",
    "Page",
    "Paginator",
    "Pipeline",
    "ProcessResult",
    "Project",
    "Run",
    "RunProgress",
    "RunStatus",
    "Task",
    "TaskCreateResult",
    "Upload",
    "UploadStatus",
]
