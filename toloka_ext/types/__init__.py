"""The models the clients return (and a few they take), for type hints and ``isinstance``.

Example::

    from toloka_ext.types import Run, RunStatus, TaskCreateResult

Every model keeps the fields the bundled snapshot does not describe in ``extra``, and a
status value it does not list as the raw string (``status.is_known`` is ``False``).
"""

import importlib
import typing

if typing.TYPE_CHECKING:
    from .._async._pagination import AsyncKeysetPaginator, AsyncPage, AsyncPaginator
    from .._sync._pagination import KeysetPaginator, Page, Paginator
    from .._types import JsonObject, JsonValue
    from .._v1._models import (
        BaselineSolution,
        CreatedTasks,
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

# Loaded on first use (PEP 562): the v2 models and the pages must not cost a v1 user an
# import, nor the generated client behind them.
_LAZY: dict[str, tuple[str, ...]] = {
    "toloka_ext._async._pagination": ("AsyncKeysetPaginator", "AsyncPage", "AsyncPaginator"),
    "toloka_ext._sync._pagination": ("KeysetPaginator", "Page", "Paginator"),
    "toloka_ext._types": ("JsonObject", "JsonValue"),
    "toloka_ext._v1._models": (
        "BaselineSolution",
        "CreatedTasks",
        "CreateProgress",
        "FieldError",
        "KnownSolution",
        "Operation",
        "OperationLogItem",
        "Task",
        "TaskCreateResult",
    ),
    "toloka_ext._v2._models": (
        "Account",
        "Dataset",
        "DatasetAttachment",
        "ErrorInfo",
        "Export",
        "ExportFormat",
        "ExportStatus",
        "Field",
        "ItemFilterMatch",
        "Pipeline",
        "Project",
        "Run",
        "RunProgress",
        "RunStatus",
        "Upload",
        "UploadStatus",
    ),
    "toloka_ext._v2._workflow": ("AddItemsSummary", "ProcessResult"),
}
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: object = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access is a plain lookup
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Account",
    "AddItemsSummary",
    "AsyncKeysetPaginator",
    "AsyncPage",
    "AsyncPaginator",
    "BaselineSolution",
    "CreateProgress",
    "CreatedTasks",
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
