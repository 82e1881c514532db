"""Toloka from Python: Pipeline API v2-beta workflows and API v1 tasks, isolated from beta drift.

Example::

    from toloka_ext import Toloka

    with Toloka() as client:                      # TOLOKA_API_KEY
        result = client.process_new_data("pl-1", "new_rows.jsonl", journal="batch-7.journal")
        created = client.tasks.create_tasks(tasks, async_mode=True)

The clients and the inputs users construct are here; the models the clients return are in
:mod:`toloka_ext.types`; every error derives from :class:`TolokaError`.
"""

from . import types as types
from ._async._client import AsyncToloka
from ._exceptions import (
    APIConnectionError,
    ApiDriftError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    ExportFailedError,
    InternalServerError,
    InvalidInputError,
    JournalCorruptError,
    JournalError,
    JournalLockedError,
    JournalMismatchError,
    JournalWriteError,
    NotFoundError,
    OperationFailedError,
    OutcomeUnknownError,
    PermissionDeniedError,
    PollTimeoutError,
    QuotaExceededError,
    RateLimitError,
    RunFailedError,
    TolokaError,
    UploadFailedError,
)
from ._polling import PollPolicy
from ._sync._client import Toloka
from ._v1._models import Task
from ._v2._models import FieldSpec, ItemFilter, ItemFilterCondition
from ._v2._rows import CsvFile, JsonArrayFile, JsonLinesFile
from ._version import __version__ as __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "ApiDriftError",
    "AsyncToloka",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "CsvFile",
    "ExportFailedError",
    "FieldSpec",
    "InternalServerError",
    "InvalidInputError",
    "ItemFilter",
    "ItemFilterCondition",
    "JournalCorruptError",
    "JournalError",
    "JournalLockedError",
    "JournalMismatchError",
    "JournalWriteError",
    "JsonArrayFile",
    "JsonLinesFile",
    "NotFoundError",
    "OperationFailedError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PollPolicy",
    "PollTimeoutError",
    "QuotaExceededError",
    "RateLimitError",
    "RunFailedError",
    "Task",
    "Toloka",
    "TolokaError",
    "UploadFailedError",
]

# Tracebacks name the public path (toloka_ext.NotFoundError), not a private module.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and issubclass(_obj, TolokaError):
        _obj.__module__ = __name__
del _name, _obj
