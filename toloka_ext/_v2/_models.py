"""This layer's own types for the Pipeline API (users never see the generated classes).

Every object keeps the fields the snapshot does not describe in ``extra``; status values the
snapshot does not list are kept as the raw string (``status.is_known`` is ``False``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import attrs

from .._types import JsonObject, JsonValue

__all__ = [
    "AddItemsResult",
    "Dataset",
    "DatasetAttachment",
    "ErrorInfo",
    "Export",
    "ExportFormat",
    "ExportStatus",
    "Field",
    "FieldSpec",
    "ItemFilter",
    "ItemFilterCondition",
    "ItemFilterMatch",
    "Pipeline",
    "Project",
    "Run",
    "RunProgress",
    "RunStatus",
    "Upload",
    "UploadStatus",
]


class _TolerantEnum(StrEnum):
    """A string enum that keeps values it does not list (as a pseudo-member ``UNKNOWN``)."""

    @property
    def is_known(self) -> bool:
        return self._value_ in type(self)._value2member_map_

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = "UNKNOWN"
        member._value_ = value
        return member

    def __str__(self) -> str:
        return str(self._value_)

    def __repr__(self) -> str:
        suffix = "" if self.is_known else " (unknown)"
        return f"<{type(self).__name__}.{self._name_}: {self._value_!r}{suffix}>"


class RunStatus(_TolerantEnum):
    """Status of a run; ``is_known`` is ``False`` for a value this snapshot does not list."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class UploadStatus(_TolerantEnum):
    """Status of an upload; ``is_known`` is ``False`` for a value this snapshot does not list."""

    PENDING = "pending"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class ExportStatus(_TolerantEnum):
    """Status of an export; ``is_known`` is ``False`` for a value this snapshot does not list."""

    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class ItemFilterMatch(_TolerantEnum):
    """How an :class:`ItemFilter` combines its conditions (``all`` or ``any``)."""

    ALL = "all"
    ANY = "any"


class ExportFormat(_TolerantEnum):
    """File format of an export."""

    JSONL = "jsonl"
    JSON = "json"
    CSV = "csv"


def _extra() -> dict[str, Any]:
    return {}


def _presigned(url: str | None) -> str:
    """A presigned URL for a repr: the query (its signature, a credential) is hidden."""
    if url is None:
        return "None"
    base, sep, _ = url.partition("?")
    return repr(f"{base}?<signature hidden>" if sep else base)


@attrs.frozen
class ErrorInfo:
    """Why a run, upload or export failed, as the server said it."""

    message: str
    code: str | None = None
    extra: dict[str, Any] = attrs.field(factory=_extra, eq=False)


@attrs.frozen
class Account:
    """Who the API key belongs to (``GET /me``)."""

    id: str
    email: str | None = None
    name: str | None = None
    extra: dict[str, Any] = attrs.field(factory=_extra, eq=False)


@attrs.frozen
class Project:
    id: str
    name: str
    description: str | None = None
    created_at: datetime.datetime | None = None
    extra: dict[str, Any] = attrs.field(factory=_extra, eq=False)


@attrs.frozen
class Dataset:
    id: str
    name: str
    project_id: str | None = None
    item_count: int | None = None
    created_at: datetime.datetime | None = None
    extra: dict[str, Any] = attrs.field(factory=_extra, eq=False)


@attrs.frozen
class Field:
    """A dataset field (``json_schema`` describes its values)."""

    id: str
    name: str
    json_schema: dict[str, Any] | None = None
    extra: dict[str, Any] = attrs.field(factory=_extra, eq=False)


@attrs.frozen
class FieldSpec:
    """A field to declare with the data: ``FieldSpec("url", {"type": "string"})``."""

    name: str
    json_schema: dict[str, Any] | None = None

    def to_json(self) -> JsonObject:
        out: dict[str, Any] = {"name": self.name}
        if self.json_schema is not None:
            out["jsonSchema"] = self.json_schema
        return out


@attrs.frozen
class AddItemsResult:
    item_count: int
    dataset_id: str | None = None
    fields: tuple[Field, ...] = ()
    extra: dict[str, Any] = attrs.field(factory=_extra, eq=False)


@attrs.frozen
class Upload:
    id: str
    status: UploadStatus
    dataset_id: str | None = None
    upload_url: str | None = attrs.field(default=None, repr=_presigned)
    upload_method: str | None = None
    expires_at: datetime.datetime | None = None
    item_count: int | None = None
    error: ErrorInfo | None = None
    extra: dict[str, Any] = attrs.field(factory=_extra, eq=False)


@attrs.frozen
class Pipeline:
    id: str
    name: str
    project_id: str | None = None
    source_pipeline_id: str | None = None
    dataset_id: str | None = None
    created_at: datetime.datetime | None = None
    extra: dict[str, Any] = attrs.field(factory=_extra, eq=False)


@attrs.frozen
class ItemFilterCondition:
    """One condition: ``ItemFilterCondition("lang", "eq", "en")`` (operators: eq, ne, in,
    not_in, contains, exists)."""

    field: str
    operator: str
    value: JsonValue = None

    def to_json(self) -> JsonObject:
        out: dict[str, Any] = {"field": self.field, "operator": self.operator}
        if self.operator != "exists" or self.value is not None:
            out["value"] = self.value
        return out


def _conditions(value: Iterable[ItemFilterCondition]) -> tuple[ItemFilterCondition, ...]:
    return tuple(value)


@attrs.frozen
class ItemFilter:
    """Which items a run processes: ``ItemFilter([ItemFilterCondition("lang", "eq", "en")])``."""

    conditions: tuple[ItemFilterCondition, ...] = attrs.field(converter=_conditions)
    match: ItemFilterMatch = attrs.field(default=ItemFilterMatch.ALL, converter=ItemFilterMatch)
    """``"all"`` or ``"any"`` (a value the snapshot does not know is kept as sent)."""
    extra: dict[str, Any] = attrs.field(factory=_extra, eq=False)

    def to_json(self) -> JsonObject:
        return {"match": str(self.match), "conditions": [c.to_json() for c in self.conditions]}


@attrs.frozen
class DatasetAttachment:
    pipeline_id: str
    dataset_id: str
    item_limit: int | None = None
    item_filter: ItemFilter | None = None
    extra: dict[str, Any] = attrs.field(factory=_extra, eq=False)


@attrs.frozen
class RunProgress:
    total: int
    completed: int
    failed: int
    extra: dict[str, Any] = attrs.field(factory=_extra, eq=False)


@attrs.frozen
class Run:
    id: str
    status: RunStatus
    pipeline_id: str | None = None
    progress: RunProgress | None = None
    created_at: datetime.datetime | None = None
    started_at: datetime.datetime | None = None
    finished_at: datetime.datetime | None = None
    error: ErrorInfo | None = None
    extra: dict[str, Any] = attrs.field(factory=_extra, eq=False)


@attrs.frozen
class Export:
    id: str
    status: ExportStatus
    dataset_id: str | None = None
    format: ExportFormat | None = None
    download_url: str | None = attrs.field(default=None, repr=_presigned)
    expires_at: datetime.datetime | None = None
    item_count: int | None = None
    error: ErrorInfo | None = None
    extra: dict[str, Any] = attrs.field(factory=_extra, eq=False)
