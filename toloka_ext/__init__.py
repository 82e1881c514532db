"""Toloka from Python: Pipeline API v2-beta workflows and API v1 tasks, isolated from beta drift.

Example::

    from toloka_ext import Toloka

    with Toloka() as client:                      # TOLOKA_API_KEY
        result = client.process_new_data("pl-1", "new_rows.jsonl", journal="batch-7.journal")
        created = client.tasks.create_tasks(tasks, async_mode=True)

The clients, the inputs users construct and the retrying transport (for HTTP calls the
clients do not make) are here; the models the clients return are in
:mod:`toloka_ext.types`; every error derives from :class:`TolokaError`.
"""

import importlib
import typing

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
from ._version import __version__ as __version__

if typing.TYPE_CHECKING:
    from . import types as types
    from ._async._client import AsyncToloka
    from ._async._core import AsyncRetryTransport
    from ._polling import PollPolicy
    from ._sync._client import Toloka
    from ._sync._core import RetryTransport
    from ._v1._models import Task
    from ._v2._models import FieldSpec, ItemFilter, ItemFilterCondition
    from ._v2._rows import CsvFile, JsonArrayFile, JsonLinesFile

# Loaded on first use (PEP 562), so `import toloka_ext` costs little more than httpx: a v1
# script never loads the v2 layer or the generated models. The errors above stay eager
# (cheap, and `except toloka_ext.NotFoundError` must not import anything).
_LAZY: dict[str, str] = {
    "AsyncRetryTransport": "._async._core",
    "AsyncToloka": "._async._client",
    "CsvFile": "._v2._rows",
    "FieldSpec": "._v2._models",
    "ItemFilter": "._v2._models",
    "ItemFilterCondition": "._v2._models",
    "JsonArrayFile": "._v2._rows",
    "JsonLinesFile": "._v2._rows",
    "PollPolicy": "._polling",
    "RetryTransport": "._sync._core",
    "Task": "._v1._models",
    "Toloka": "._sync._client",
}


def __getattr__(name: str) -> object:
    if name == "types":
        value: object = importlib.import_module(".types", __name__)
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # the next access is a plain lookup
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "types"})


__all__ = [
    "APIConnectionError",
    "APIError",
    "APIStatusError",
    "APITimeoutError",
    "ApiDriftError",
    "AsyncRetryTransport",
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
    "RetryTransport",
    "RunFailedError",
    "Task",
    "Toloka",
    "TolokaError",
    "UploadFailedError",
]

# Tracebacks name the public path (toloka_ext.NotFoundError), not a private module.
for _name in __all__:
    _obj = globals().get(_name)  # the errors; the lazy names are not errors
    if isinstance(_obj, type) and issubclass(_obj, TolokaError):
        _obj.__module__ = __name__
del _name, _obj
