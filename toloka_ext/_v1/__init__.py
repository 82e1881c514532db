"""API v1: tasks and operations."""

from ._client import AsyncTasksClient, TasksClient
from ._models import (
    BaselineSolution,
    CreateProgress,
    FieldError,
    KnownSolution,
    Operation,
    OperationLogItem,
    Task,
    TaskCreateResult,
)

__all__ = [
    "AsyncTasksClient",
    "BaselineSolution",
    "CreateProgress",
    "FieldError",
    "KnownSolution",
    "Operation",
    "OperationLogItem",
    "Task",
    "TaskCreateResult",
    "TasksClient",
]
