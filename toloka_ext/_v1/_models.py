"""attrs models of API v1 tasks, operations and the per-position result of ``create_tasks``.

Every model keeps response keys it does not know in ``extra`` (never dropped), and
``to_dict`` sends ``extra`` back, so fields added by the API survive a round trip.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import (
    Callable,
    ItemsView,
    Iterator,
    KeysView,
    Mapping,
    MutableMapping,
    ValuesView,
)
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import attrs

from .._exceptions import ApiDriftError
from .._pandas import require_pandas
from .._polling import Observation
from .._types import JsonObject

if TYPE_CHECKING:
    import pandas  # type: ignore[import-untyped]
else:  # `pandas.DataFrame` in signatures resolves at run time without importing pandas early
    from .._pandas import pandas_on_demand as pandas

__all__ = [
    "CreatedTasks",
    "BaselineSolution",
    "CreateProgress",
    "FieldError",
    "KnownSolution",
    "Operation",
    "OperationLogItem",
    "Task",
    "TaskCreateResult",
]

SNAPSHOT_VERSION: Final = "v1 (openapi/v1.yaml, 2026-11-23)"


def _drift(operation: str, field: str, detail: str, body: object = None) -> ApiDriftError:
    return ApiDriftError(
        operation=operation,
        field=field,
        snapshot_version=SNAPSHOT_VERSION,
        detail=detail,
        body=body,
    )


def parse_utc(value: object, *, operation: str, field: str) -> datetime | None:
    """Parse v1 time ``YYYY-MM-DDThh:mm:ss[.sss]`` (UTC, no offset) into an aware datetime."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _drift(operation, field, f"expected a time string, got {type(value).__name__}")
    try:
        return _parse_time(value)
    except ValueError:
        raise _drift(operation, field, f"unparseable time {value!r}") from None


@functools.lru_cache(maxsize=256)
def _parse_time(value: str) -> datetime:
    # Cached: the tasks of one request share their creation time, often to the millisecond.
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_utc(value: datetime) -> str:
    """Format a datetime the way v1 writes times (UTC, milliseconds, no offset)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds")


def _mapping(data: object, *, operation: str, field: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise _drift(operation, field, f"expected an object, got {type(data).__name__}", data)
    return data


def _take_str(data: Mapping[str, Any], key: str, *, operation: str, prefix: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _drift(operation, f"{prefix}{key}", f"expected a string, got {type(value).__name__}")
    return str(value)


def _take_int(data: Mapping[str, Any], key: str, *, operation: str, prefix: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _drift(operation, f"{prefix}{key}", f"expected an integer, got {value!r}")
    return value


@attrs.define(kw_only=True)
class KnownSolution:
    """A correct answer for a control/training task; ``correctness_weight`` in 0..1."""

    output_values: dict[str, Any]
    correctness_weight: float = 1.0
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)

    def to_dict(self) -> JsonObject:
        return {
            **self.extra,
            "output_values": self.output_values,
            "correctness_weight": self.correctness_weight,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KnownSolution:
        rest = dict(data)
        return cls(
            output_values=dict(rest.pop("output_values", None) or {}),
            correctness_weight=rest.pop("correctness_weight", 1.0),
            extra=rest,
        )


@attrs.define(kw_only=True)
class BaselineSolution:
    """A preliminary answer (dynamic overlap); ``confidence_weight`` in 0..1.

    Note:
        Not allowed in task suites: the API answers 400 ``VALUE_NOT_ALLOWED``.
    """

    output_values: dict[str, Any]
    confidence_weight: float = 1.0
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)

    def to_dict(self) -> JsonObject:
        return {
            **self.extra,
            "output_values": self.output_values,
            "confidence_weight": self.confidence_weight,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BaselineSolution:
        rest = dict(data)
        return cls(
            output_values=dict(rest.pop("output_values", None) or {}),
            confidence_weight=rest.pop("confidence_weight", 1.0),
            extra=rest,
        )


_TASK_KEYS: Final = frozenset(
    {
        "pool_id",
        "input_values",
        "known_solutions",
        "baseline_solutions",
        "message_on_unknown_solution",
        "overlap",
        "infinite_overlap",
        "reserved_for",
        "unavailable_for",
        "origin_task_id",
        "remaining_overlap",
        "id",
        "created",
    }
)


@attrs.define
class Task:
    """A v1 task: what you send to create one, and what the API returns (with ``id``).

    ``overlap`` is required unless ``allow_defaults=True`` (the pool's default overlap) or
    ``infinite_overlap=True``. Keys the model does not know are kept in ``extra`` and sent.

    Example::

        Task("1234", {"image": "https://example.com/1.png"}, overlap=3)
    """

    pool_id: str
    input_values: dict[str, Any]
    known_solutions: list[KnownSolution] | None = attrs.field(default=None, kw_only=True)
    baseline_solutions: list[BaselineSolution] | None = attrs.field(default=None, kw_only=True)
    message_on_unknown_solution: str | None = attrs.field(default=None, kw_only=True)
    overlap: int | None = attrs.field(default=None, kw_only=True)
    infinite_overlap: bool = attrs.field(default=False, kw_only=True)
    reserved_for: list[str] | None = attrs.field(default=None, kw_only=True)
    unavailable_for: list[str] | None = attrs.field(default=None, kw_only=True)
    origin_task_id: str | None = attrs.field(default=None, kw_only=True)
    remaining_overlap: int | None = attrs.field(default=None, kw_only=True)
    """How many more Tolokers may still get the task (read-only, set by the API)."""
    id: str | None = attrs.field(default=None, kw_only=True)
    created: datetime | None = attrs.field(default=None, kw_only=True)
    extra: dict[str, Any] = attrs.field(factory=dict, kw_only=True, repr=False)

    def to_dict(self) -> JsonObject:
        """The JSON object the API expects (``None`` fields left out)."""
        out: dict[str, Any] = dict(self.extra)
        out["pool_id"] = self.pool_id
        out["input_values"] = self.input_values
        if self.known_solutions is not None:
            out["known_solutions"] = [
                s.to_dict() if isinstance(s, KnownSolution) else s for s in self.known_solutions
            ]
        if self.baseline_solutions is not None:
            out["baseline_solutions"] = [
                s.to_dict() if isinstance(s, BaselineSolution) else s
                for s in self.baseline_solutions
            ]
        if self.message_on_unknown_solution is not None:
            out["message_on_unknown_solution"] = self.message_on_unknown_solution
        if self.overlap is not None:
            out["overlap"] = self.overlap
        if self.infinite_overlap:
            out["infinite_overlap"] = True
        if self.reserved_for is not None:
            out["reserved_for"] = self.reserved_for
        if self.unavailable_for is not None:
            out["unavailable_for"] = self.unavailable_for
        if self.origin_task_id is not None:
            out["origin_task_id"] = self.origin_task_id
        if self.remaining_overlap is not None:
            out["remaining_overlap"] = self.remaining_overlap
        if self.id is not None:
            out["id"] = self.id
        if self.created is not None:
            out["created"] = format_utc(self.created)
        return out

    @classmethod
    def from_dict(cls, data: object, *, operation: str = "createTasks", field: str = "") -> Task:
        """Parse a task object; unknown keys go to ``extra``.

        Raises:
            ApiDriftError: the object does not have the documented shape.
        """
        if type(data) is dict and data.keys() <= _PLAIN_ANSWER_KEYS:
            fast = cls._from_plain(data)
            if fast is not None:
                return fast
        prefix = f"{field}." if field else ""
        obj = _mapping(data, operation=operation, field=field or "task")
        pool_id = _take_str(obj, "pool_id", operation=operation, prefix=prefix)
        if not pool_id:
            raise _drift(operation, f"{prefix}pool_id", "a task without its pool_id")
        infinite = obj.get("infinite_overlap", False)
        if not isinstance(infinite, bool):
            raise _drift(
                operation, f"{prefix}infinite_overlap", f"expected true or false, got {infinite!r}"
            )
        input_values = obj.get("input_values")
        if input_values is not None and not isinstance(input_values, Mapping):
            raise _drift(operation, f"{prefix}input_values", "expected an object")
        known = obj.get("known_solutions")
        baseline = obj.get("baseline_solutions")
        overlap = obj.get("overlap")
        if overlap is not None and (isinstance(overlap, bool) or not isinstance(overlap, int)):
            raise _drift(operation, f"{prefix}overlap", f"expected an integer, got {overlap!r}")
        return cls(
            pool_id=pool_id,
            input_values=dict(input_values or {}),
            known_solutions=(
                [KnownSolution.from_dict(s) for s in known] if isinstance(known, list) else None
            ),
            baseline_solutions=(
                [BaselineSolution.from_dict(s) for s in baseline]
                if isinstance(baseline, list)
                else None
            ),
            message_on_unknown_solution=obj.get("message_on_unknown_solution"),
            overlap=overlap,
            infinite_overlap=infinite,
            reserved_for=obj.get("reserved_for"),
            unavailable_for=obj.get("unavailable_for"),
            origin_task_id=_take_str(obj, "origin_task_id", operation=operation, prefix=prefix),
            remaining_overlap=_take_int(
                obj, "remaining_overlap", operation=operation, prefix=prefix
            ),
            id=_take_str(obj, "id", operation=operation, prefix=prefix),
            created=parse_utc(obj.get("created"), operation=operation, field=f"{prefix}created"),
            extra={k: v for k, v in obj.items() if k not in _TASK_KEYS},
        )

    @classmethod
    def _from_plain(cls, data: dict[str, Any]) -> Task | None:
        """The usual answer (scalar fields of the exact types), without the general checks;
        ``None`` sends anything else down the general path, which names what is wrong."""
        pool_id, task_id = data.get("pool_id"), data.get("id")
        input_values, overlap = data.get("input_values"), data.get("overlap")
        remaining, created = data.get("remaining_overlap"), data.get("created")
        infinite = data.get("infinite_overlap", False)
        message, origin = data.get("message_on_unknown_solution"), data.get("origin_task_id")
        if not (
            type(pool_id) is str
            and pool_id
            and (task_id is None or type(task_id) is str)
            and (input_values is None or type(input_values) is dict)
            and (overlap is None or type(overlap) is int)
            and (remaining is None or type(remaining) is int)
            and type(infinite) is bool
            and (message is None or type(message) is str)
            and (origin is None or type(origin) is str)
            and (created is None or type(created) is str)
        ):
            return None
        try:
            when = None if created is None else _parse_time(created)
        except ValueError:
            return None
        return cls(
            pool_id=pool_id,
            input_values=dict(input_values or {}),
            message_on_unknown_solution=message,
            overlap=overlap,
            infinite_overlap=infinite,
            origin_task_id=origin,
            remaining_overlap=remaining,
            id=task_id,
            created=when,
            reserved_for=data.get("reserved_for"),
            unavailable_for=data.get("unavailable_for"),
        )


# The keys of an answer :meth:`Task._from_plain` reads: no solutions, nothing extra.
_PLAIN_ANSWER_KEYS: Final = _TASK_KEYS - {"known_solutions", "baseline_solutions"}
_LOG_KEYS: Final = frozenset({"type", "success", "input", "output"})


@attrs.define(kw_only=True)
class FieldError:
    """Why one field of one task failed validation (e.g. ``VALUE_REQUIRED``)."""

    code: str
    message: str = ""
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: object, *, operation: str, field: str) -> FieldError:
        obj = _mapping(data, operation=operation, field=field)
        rest = dict(obj)
        code = rest.pop("code", None)
        message = rest.pop("message", "")
        return cls(
            code=str(code) if code is not None else "UNKNOWN",
            message=str(message) if message is not None else "",
            extra=rest,
        )


def parse_field_errors(data: object, *, operation: str, field: str) -> dict[str, FieldError]:
    """Parse ``{"<field path>": {code, message}}``."""
    obj = _mapping(data, operation=operation, field=field)
    return {
        str(path): FieldError.from_dict(err, operation=operation, field=f"{field}.{path}")
        for path, err in obj.items()
    }


_OPERATION_KEYS: Final = frozenset(
    {
        "id",
        "type",
        "status",
        "submitted",
        "started",
        "finished",
        "progress",
        "parameters",
        "details",
    }
)


OPERATION_STATUSES: Final = ("PENDING", "RUNNING", "SUCCESS", "FAIL")
"""The operation statuses ``openapi/v1.yaml`` lists."""


@attrs.define(kw_only=True)
class Operation:
    """An asynchronous v1 operation (e.g. ``TASK.BATCH_CREATE``).

    ``status`` is ``PENDING``, ``RUNNING``, ``SUCCESS`` or ``FAIL`` (kept as a string, so a
    new value does not break parsing; it is then treated as not final, and how long waiting
    for it may last is bounded: see :class:`~toloka_ext.PollPolicy`).
    """

    id: str
    type: str | None = None
    status: str = "PENDING"
    submitted: datetime | None = None
    started: datetime | None = None
    finished: datetime | None = None
    progress: int | None = None
    parameters: dict[str, Any] = attrs.field(factory=dict)
    details: dict[str, Any] = attrs.field(factory=dict)
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def is_final(self) -> bool:
        return self.status in ("SUCCESS", "FAIL")

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESS"

    @property
    def is_known(self) -> bool:
        """Whether the snapshot (``openapi/v1.yaml``) lists ``status``."""
        return self.status in OPERATION_STATUSES

    def observation(self) -> Observation:
        """This state for the poll loop: the work is done at 100% or with a finish time."""
        shown = f"operation {self.id} status {self.status!r}"
        if not self.is_known:
            shown += " (not in the snapshot)"
        if self.progress is not None:
            shown += f", {self.progress}%"
        if self.details:
            shown += f", details {self.details}"
        return Observation(
            operation="getOperation",
            field="status",
            value=self.status,
            known=self.is_known,
            summary=shown,
            snapshot_version=SNAPSHOT_VERSION,
            work_done=self.progress == 100 or self.finished is not None,
        )

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"

    @classmethod
    def from_dict(cls, data: object, *, operation: str = "getOperation") -> Operation:
        obj = _mapping(data, operation=operation, field="operation")
        op_id = obj.get("id")
        if not isinstance(op_id, str) or not op_id:
            raise _drift(operation, "id", f"expected a non-empty string, got {op_id!r}", data)
        status = obj.get("status")
        if not isinstance(status, str):
            raise _drift(operation, "status", f"expected a string, got {status!r}", data)
        progress = obj.get("progress")
        if progress is not None and (isinstance(progress, bool) or not isinstance(progress, int)):
            raise _drift(operation, "progress", f"expected an integer percent, got {progress!r}")
        parameters = obj.get("parameters")
        details = obj.get("details")
        for key, value in (("parameters", parameters), ("details", details)):
            if value is not None and not isinstance(value, Mapping):
                raise _drift(operation, key, f"expected an object, got {type(value).__name__}")
        return cls(
            id=op_id,
            type=obj.get("type"),
            status=status,
            submitted=parse_utc(obj.get("submitted"), operation=operation, field="submitted"),
            started=parse_utc(obj.get("started"), operation=operation, field="started"),
            finished=parse_utc(obj.get("finished"), operation=operation, field="finished"),
            progress=progress,
            parameters=dict(parameters) if isinstance(parameters, Mapping) else {},
            details=dict(details) if isinstance(details, Mapping) else {},
            extra={k: v for k, v in obj.items() if k not in _OPERATION_KEYS},
        )


@attrs.define(kw_only=True)
class OperationLogItem:
    """One entry of an operation log: ``TASK_CREATE`` (``output.task_id``) or ``TASK_VALIDATE``."""

    type: str
    success: bool
    input: dict[str, Any] | None = None
    output: dict[str, Any] | None = None
    extra: dict[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: object, *, index: int = 0) -> OperationLogItem:
        if type(data) is dict and data.keys() <= _LOG_KEYS:
            # The usual entry, every field of its exact type: nothing to copy or set aside.
            item_type, success = data.get("type"), data.get("success")
            item_input, item_output = data.get("input"), data.get("output")
            if (
                type(item_type) is str
                and type(success) is bool
                and (item_input is None or type(item_input) is dict)
                and (item_output is None or type(item_output) is dict)
            ):
                return cls(type=item_type, success=success, input=item_input, output=item_output)
        field = f"[{index}]"
        obj = _mapping(data, operation="getOperationLog", field=field)
        rest = dict(obj)
        item_type = rest.pop("type", None)
        success = rest.pop("success", None)
        if not isinstance(item_type, str) or not isinstance(success, bool):
            raise _drift("getOperationLog", f"{field}.type/success", "missing or mistyped", data)
        item_input = rest.pop("input", None)
        item_output = rest.pop("output", None)
        return cls(
            type=item_type,
            success=success,
            input=dict(item_input) if isinstance(item_input, Mapping) else None,
            output=dict(item_output) if isinstance(item_output, Mapping) else None,
            extra=rest,
        )


@attrs.define(kw_only=True)
class CreateProgress:
    """Passed to ``on_progress`` after each chunk (and on each poll in async mode)."""

    submitted: int
    """Tasks sent so far."""
    created: int
    failed: int
    unknown: int
    chunks_done: int
    operation: Operation | None = None


RawTasks = Callable[[], Mapping[int, Mapping[str, Any]]]
"""A chunk's created tasks as the server described them, by position (built on demand)."""


class CreatedTasks(MutableMapping[int, Task]):
    """``TaskCreateResult.created``: position → the created :class:`Task`, a mapping like a
    ``dict``, whose tasks are built from the server's answer only when read.

    A chunk's answer is kept as it came (its bytes, or the request's and the ids), and a
    :class:`Task` is made from it on first access (the chunk last read stays parsed): a batch
    whose tasks nobody looks at costs what ``keep_tasks=False`` does, in CPU.
    """

    __slots__ = ("_built", "_chunk", "_hidden", "_sources", "_starts")

    def __init__(self, tasks: Mapping[int, Task] | None = None) -> None:
        self._built: dict[int, Task] = dict(tasks or {})
        self._hidden: set[int] = set()  # positions removed from a chunk kept as it came
        self._starts: list[int] = []
        self._sources: list[tuple[int, int, RawTasks]] = []
        self._chunk: tuple[int, Mapping[int, Mapping[str, Any]]] | None = None

    def add_chunk(self, start: int, stop: int, raw: RawTasks) -> None:
        """Positions ``[start, stop)`` created by one request: ``raw()`` describes them."""
        index = bisect.bisect_left(self._starts, start)
        self._starts.insert(index, start)
        self._sources.insert(index, (start, stop, raw))

    def _chunk_of(self, index: int) -> Mapping[int, Mapping[str, Any]]:
        if self._chunk is None or self._chunk[0] != index:
            self._chunk = (index, self._sources[index][2]())
        return self._chunk[1]

    def _raw(self, position: int) -> Mapping[str, Any] | None:
        if position in self._hidden:
            return None
        index = bisect.bisect_right(self._starts, position) - 1
        if index < 0 or position >= self._sources[index][1]:
            return None
        return self._chunk_of(index).get(position)

    def __getitem__(self, position: int) -> Task:
        task = self._built.get(position)
        if task is not None:
            return task
        data = self._raw(position)
        if data is None:
            raise KeyError(position)
        task = Task.from_dict(data, field=f"items.{position}")
        self._built[position] = task
        return task

    def __setitem__(self, position: int, task: Task) -> None:
        self._built[position] = task
        self._hidden.discard(position)

    def __delitem__(self, position: int) -> None:
        if position not in self:
            raise KeyError(position)
        self._built.pop(position, None)
        self._hidden.add(position)

    def __contains__(self, position: object) -> bool:
        if position in self._built:
            return True
        return isinstance(position, int) and self._raw(position) is not None

    def _lazy(self) -> Iterator[int]:
        for index in range(len(self._sources)):
            for position in self._chunk_of(index):
                if position not in self._built and position not in self._hidden:
                    yield position

    def __iter__(self) -> Iterator[int]:
        yield from sorted([*self._built, *self._lazy()])

    def __len__(self) -> int:
        return len(self._built) + sum(1 for _ in self._lazy())

    def __repr__(self) -> str:
        return f"CreatedTasks({len(self)} tasks)"

    # The mapping methods, as a dict's (annotated here: the abstract base leaves them bare).
    def get(self, position: int, default: Task | None = None) -> Task | None:  # type: ignore[override]
        return self[position] if position in self else default

    def keys(self) -> KeysView[int]:
        return super().keys()

    def items(self) -> ItemsView[int, Task]:
        return super().items()

    def values(self) -> ValuesView[Task]:
        return super().values()

    def pop(self, position: int, default: Task | None = None) -> Task | None:  # type: ignore[override]
        if position not in self:
            return default
        task = self[position]
        del self[position]
        return task

    def popitem(self) -> tuple[int, Task]:
        return super().popitem()

    def setdefault(self, position: int, default: Task) -> Task:
        return super().setdefault(position, default)

    def update(self, other: Mapping[int, Task] = {}, /, **_: Task) -> None:  # type: ignore[override]  # noqa: B006
        for position, task in other.items():
            self[position] = task

    def clear(self) -> None:
        self._built.clear()
        self._sources.clear()
        self._starts.clear()
        self._chunk = None


def _created(value: Mapping[int, Task]) -> CreatedTasks:
    return value if isinstance(value, CreatedTasks) else CreatedTasks(value)


@attrs.define(kw_only=True, repr=False)
class TaskCreateResult:
    """What ``create_tasks`` did, by *original* position in the caller's iterable.

    * ``task_ids``: position → id of the created task;
    * ``created``: position → the created :class:`Task` (empty with ``keep_tasks=False``);
    * ``errors``: position → field path → :class:`FieldError` (tasks not created);
    * ``unknown``: ranges of positions whose request may or may not have been applied
      (sent, then the connection failed or the server answered a 5xx): check before
      re-sending them;
    * ``operations``: the async operations, in chunk order.

    Positions not in ``task_ids``, ``errors`` or ``unknown`` were not processed
    (only after an exception; see its ``partial_result``).
    """

    total: int = 0
    task_ids: dict[int, str] = attrs.field(factory=dict)
    created: CreatedTasks = attrs.field(factory=CreatedTasks, converter=_created)
    errors: dict[int, dict[str, FieldError]] = attrs.field(factory=dict)
    unknown: list[range] = attrs.field(factory=list)
    operations: list[Operation] = attrs.field(factory=list)

    @property
    def ok(self) -> bool:
        """True if every task was created."""
        return not self.errors and not self.unknown and len(self.task_ids) == self.total

    @property
    def unknown_count(self) -> int:
        return sum(len(r) for r in self.unknown)

    def unknown_positions(self) -> Iterator[int]:
        for r in self.unknown:
            yield from r

    def to_pandas(self) -> pandas.DataFrame:
        """One row per position of the input, in order (needs ``pip install 'toloka-ext[pandas]'``).

        Columns: ``position``; ``status`` (``created``, ``failed``, ``unknown`` or
        ``not_processed``); ``task_id``; ``unknown`` (the request may or may not have been
        applied); ``error_field``, ``error_code``, ``error_message`` (several field errors of
        one task are joined with ``"; "``, in the same order in the three columns).

        Example::

            frame = result.to_pandas()
            retry = tasks_df[frame["status"] == "failed"]   # the same positions
        """
        pd = require_pandas("TaskCreateResult.to_pandas()")
        last = max([self.total - 1, *self.task_ids, *self.errors, *self.unknown_positions()])
        count = last + 1
        status: list[str] = ["not_processed"] * count
        task_id: list[str | None] = [None] * count
        unknown = [False] * count
        error_field: list[str | None] = [None] * count
        error_code: list[str | None] = [None] * count
        error_message: list[str | None] = [None] * count
        for position, tid in self.task_ids.items():
            status[position] = "created"
            task_id[position] = tid
        for position, errors in self.errors.items():
            status[position] = "failed"
            error_field[position] = "; ".join(errors)
            error_code[position] = "; ".join(e.code for e in errors.values())
            error_message[position] = "; ".join(e.message for e in errors.values())
        for position in self.unknown_positions():
            status[position] = "unknown"
            unknown[position] = True
        return pd.DataFrame(
            {
                "position": range(count),
                "status": status,
                "task_id": task_id,
                "unknown": unknown,
                "error_field": error_field,
                "error_code": error_code,
                "error_message": error_message,
            }
        )

    def __repr__(self) -> str:
        return (
            f"TaskCreateResult(total={self.total}, created={len(self.task_ids)}, "
            f"errors={len(self.errors)}, unknown={self.unknown_count}, "
            f"operations={len(self.operations)})"
        )

    def progress(self, chunks_done: int, operation: Operation | None = None) -> CreateProgress:
        return CreateProgress(
            submitted=self.total,
            created=len(self.task_ids),
            failed=len(self.errors),
            unknown=self.unknown_count,
            chunks_done=chunks_done,
            operation=operation,
        )
