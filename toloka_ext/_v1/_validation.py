"""Checks run before anything is sent; each failure names the task position and field."""

from __future__ import annotations

import math
import operator
import uuid
from collections.abc import AsyncIterable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast, overload

from .._exceptions import InvalidInputError
from .._json import dumps_acyclic, dumps_records, find_non_json
from .._pandas import DataFrameLike, is_dataframe, iter_frame_rows
from ._models import BaselineSolution, KnownSolution, Task, format_utc

__all__ = [
    "MAX_OVERLAP",
    "FrameTasks",
    "check_id",
    "check_operation_id",
    "encode_tasks",
    "list_params",
    "normalize_chunk",
    "normalize_task",
    "overlap_patch",
    "pool_of",
    "task_patch",
    "tasks_from_frame",
]

MAX_OVERLAP = 30_000
"""The published bound of ``overlap`` (1..30000; 0 only to stop a task, see
``set_overlap_or_min``)."""
MAX_PAGE = 300
SORTS = ("id", "-id")
"""What the list iterators page by (keyset: ``id_gt``/``id_lt``, no offset exists)."""


def check_operation_id(value: object) -> uuid.UUID:
    """Parse an RFC 4122 UUID (``uuid.UUID`` or its string form)."""
    if isinstance(value, uuid.UUID):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = uuid.UUID(value)
        except ValueError:
            raise InvalidInputError(
                f"operation_id must be an RFC 4122 UUID, got {value!r}", field="operation_id"
            ) from None
    else:
        raise InvalidInputError(
            f"operation_id must be a UUID, got {type(value).__name__}", field="operation_id"
        )
    if parsed.variant != uuid.RFC_4122:
        raise InvalidInputError(
            f"operation_id {value!s} is not an RFC 4122 (variant 1) UUID", field="operation_id"
        )
    return parsed


def _weight(value: object, position: int, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(
            f"must be a number from 0 to 1, got {value!r}", position=position, field=field
        )
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise InvalidInputError(
            f"must be from 0 to 1, got {value!r}", position=position, field=field
        )


def _solutions(
    value: object, position: int, name: str, weight_key: str, model: type[Any]
) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise InvalidInputError(
            f"must be a list, got {type(value).__name__}", position=position, field=name
        )
    out: list[Any] = []
    for i, item in enumerate(value):
        where = f"{name}[{i}]"
        if isinstance(item, model):
            item = item.to_dict()
        if not isinstance(item, Mapping):
            raise InvalidInputError(
                f"must be an object, got {type(item).__name__}", position=position, field=where
            )
        outputs = item.get("output_values")
        if not isinstance(outputs, Mapping):
            raise InvalidInputError(
                "output_values is required and must be an object",
                position=position,
                field=f"{where}.output_values",
            )
        if weight_key in item:
            _weight(item[weight_key], position, f"{where}.{weight_key}")
        out.append(item)
    return out


def _string_list(value: object, position: int, field: str) -> None:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise InvalidInputError("must be a list of strings", position=position, field=field)


def encode_tasks(payloads: list[dict[str, Any]], start: int) -> bytes:
    """Encode a chunk as the request body, rejecting what JSON cannot carry.

    One strict C-speed encode serves as the check; only on failure is the chunk walked to
    name the position and field. Flat tasks of plain values are encoded by orjson, to the
    same bytes (:func:`~toloka_ext._json.dumps_records`).

    Raises:
        InvalidInputError: NaN, infinities, sets, bytes or other objects in a task.
    """
    body = dumps_records(payloads)
    if body is not None:
        return body
    try:
        return dumps_acyclic(payloads)
    except (ValueError, TypeError, RecursionError) as exc:
        for offset, payload in enumerate(payloads):
            bad = find_non_json(payload, strict_keys=False)
            if bad is not None:
                path, reason = bad
                raise InvalidInputError(
                    reason, position=start + offset, field=path or None
                ) from None
        raise InvalidInputError(f"tasks cannot be encoded as JSON: {exc}") from None


# A task made only of these fields, each of the exact type checked below, needs nothing of
# the general path but a copy: it is most tasks, and the general path costs several times more.
_PLAIN_KEYS = frozenset(
    {
        "pool_id",
        "input_values",
        "overlap",
        "infinite_overlap",
        "message_on_unknown_solution",
        "origin_task_id",
    }
)


def _plain_task(task: dict[str, Any]) -> bool:
    if not task.keys() <= _PLAIN_KEYS:
        return False
    pool_id = task.get("pool_id")
    if type(pool_id) is not str or not pool_id or type(task.get("input_values")) is not dict:
        return False
    overlap = task.get("overlap")
    if overlap is None:
        if task.get("infinite_overlap") is not True:
            return False  # the general path decides (allow_defaults, the error message)
    elif type(overlap) is not int or not 1 <= overlap <= MAX_OVERLAP:
        return False
    infinite = task.get("infinite_overlap")
    if infinite is not None and type(infinite) is not bool:
        return False
    for key in ("message_on_unknown_solution", "origin_task_id"):
        value = task.get(key)
        if value is not None and type(value) is not str:
            return False
    return True


# The usual task has exactly these fields: a chunk of them is checked by whole-chunk passes.
_USUAL_KEYS = frozenset({"pool_id", "input_values", "overlap"})
pool_of = operator.itemgetter("pool_id")  # also the tracker's, over normalized payloads
_input_of = operator.itemgetter("input_values")
_overlap_of = operator.itemgetter("overlap")


def normalize_chunk(
    items: Sequence[object], start: int, *, allow_defaults: bool
) -> list[dict[str, Any]]:
    """:func:`normalize_task` (``check_json=False``) over a chunk, ``start`` its first position.

    A chunk whose every task is a dict of the usual fields (``pool_id`` a non-empty string,
    ``input_values`` a dict, ``overlap`` an int in range) is checked by a few passes over
    the whole chunk, each at C speed, and returned as they are (the caller's own dicts, read
    and never changed): the result is the same as task by task, several times cheaper.
    Any other chunk goes task by task (copies; errors name the position).
    """
    if _usual_chunk(items):
        return list(cast(Sequence[dict[str, Any]], items))
    return [
        normalize_task(task, start + offset, allow_defaults=allow_defaults, check_json=False)
        for offset, task in enumerate(items)
    ]


def _usual_chunk(items: Sequence[object]) -> bool:
    # Types are compared as sets of types, never values as sets: 1 == 1.0 == True would hide
    # a float or a bool behind an int.
    if not items or set(map(type, items)) != {dict}:
        return False
    tasks = cast(Sequence[dict[str, Any]], items)
    if not all(map(_USUAL_KEYS.issuperset, tasks)):
        return False  # a field beyond the usual three (keys of each task within the set)
    try:
        pools = list(map(pool_of, tasks))
        overlaps = list(map(_overlap_of, tasks))
        inputs = set(map(type, map(_input_of, tasks)))
    except KeyError:
        return False  # a usual field missing: the general path decides (allow_defaults)
    return (
        inputs == {dict}
        and set(map(type, pools)) == {str}
        and "" not in pools
        and set(map(type, overlaps)) == {int}
        and min(overlaps) >= 1
        and max(overlaps) <= MAX_OVERLAP
    )


def normalize_task(
    task: object, position: int, *, allow_defaults: bool, check_json: bool = True
) -> dict[str, Any]:
    """Turn a :class:`Task` or a mapping into the JSON object to send, checking it.

    Raises:
        InvalidInputError: with ``position`` and ``field`` of the first problem found:
            missing ``pool_id``/``input_values``; a weight outside 0..1; ``overlap`` below 1,
            or missing without ``allow_defaults`` (unless ``infinite_overlap``); wrong types;
            values JSON cannot carry (NaN, infinities, sets, arbitrary objects; with
            ``check_json=False`` this is left to :func:`encode_tasks`).
    """
    plain = type(task) is dict and _plain_task(cast(dict[str, Any], task))
    data: dict[str, Any]
    if plain:
        data = dict(cast(dict[str, Any], task))  # the usual shape: every field right
    elif isinstance(task, Task):
        data = task.to_dict()
        data.pop("id", None)
        data.pop("created", None)
        data.pop("remaining_overlap", None)
    elif isinstance(task, Mapping):
        data = dict(task)
    else:
        raise InvalidInputError(
            f"a task must be a Task or a mapping, got {type(task).__name__}", position=position
        )
    if not plain:
        _check_fields(data, position, allow_defaults=allow_defaults)
    bad = find_non_json(data) if check_json else None
    if bad is not None:
        path, reason = bad
        raise InvalidInputError(reason, position=position, field=path or None)
    return data


def _check_fields(data: dict[str, Any], position: int, *, allow_defaults: bool) -> None:
    """The general checks of :func:`normalize_task`; fixes ``data`` in place (int pool ids,
    solutions as plain objects)."""
    pool_id = data.get("pool_id")
    if pool_id is None or pool_id == "":
        raise InvalidInputError("pool_id is required", position=position, field="pool_id")
    if isinstance(pool_id, bool) or not isinstance(pool_id, str | int):
        raise InvalidInputError(
            f"pool_id must be a string, got {type(pool_id).__name__}",
            position=position,
            field="pool_id",
        )
    if isinstance(pool_id, int):
        data["pool_id"] = str(pool_id)

    input_values = data.get("input_values")
    if input_values is None:
        raise InvalidInputError("input_values is required", position=position, field="input_values")
    if not isinstance(input_values, Mapping):
        raise InvalidInputError(
            f"input_values must be an object, got {type(input_values).__name__}",
            position=position,
            field="input_values",
        )

    if "known_solutions" in data and data["known_solutions"] is not None:
        data["known_solutions"] = _solutions(
            data["known_solutions"],
            position,
            "known_solutions",
            "correctness_weight",
            KnownSolution,
        )
    if "baseline_solutions" in data and data["baseline_solutions"] is not None:
        data["baseline_solutions"] = _solutions(
            data["baseline_solutions"],
            position,
            "baseline_solutions",
            "confidence_weight",
            BaselineSolution,
        )

    infinite = data.get("infinite_overlap")
    if infinite is not None and not isinstance(infinite, bool):
        raise InvalidInputError(
            "infinite_overlap must be true or false", position=position, field="infinite_overlap"
        )
    overlap = data.get("overlap")
    if overlap is None:
        if not allow_defaults and not infinite:
            raise InvalidInputError(
                "overlap is required unless allow_defaults=True (pool default overlap) "
                "or infinite_overlap=True",
                position=position,
                field="overlap",
            )
    elif isinstance(overlap, bool) or not isinstance(overlap, int):
        raise InvalidInputError(
            f"overlap must be an integer >= 1, got {overlap!r}", position=position, field="overlap"
        )
    elif not 1 <= overlap <= MAX_OVERLAP:
        raise InvalidInputError(
            f"overlap must be from 1 to {MAX_OVERLAP}, got {overlap}",
            position=position,
            field="overlap",
        )

    for key in ("reserved_for", "unavailable_for"):
        if data.get(key) is not None:
            _string_list(data[key], position, key)
    for key in ("message_on_unknown_solution", "origin_task_id"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise InvalidInputError(
                f"must be a string, got {type(value).__name__}", position=position, field=key
            )


T = TypeVar("T")


class FrameTasks(Sequence[dict[str, Any]]):
    """A ``pandas.DataFrame`` as tasks: one task a row, converted a block at a time.

    Columns are task fields (``pool_id``, ``input_values``, ``overlap``...); a column
    ``input_values.<key>`` (e.g. from ``df.add_prefix("input_values.")``) fills that key of
    ``input_values``, and an ``input_values`` column holds dicts. A missing cell leaves the
    field out (so a gap in ``overlap`` means "not given"), and whole floats in ``overlap``
    (pandas turns an integer column with gaps into floats) are sent as integers. A sequence,
    so ``create_tasks`` checks every row before sending anything, as for a list.
    """

    def __init__(self, frame: DataFrameLike) -> None:
        self.frame = frame
        self._len = len(frame)

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._len)
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return list(self._rows(start, stop))
        i = operator.index(index)
        if i < 0:
            i += self._len
        if not 0 <= i < self._len:
            raise IndexError("task position out of range")
        return next(self._rows(i, i + 1))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._rows(0, self._len)

    def _rows(self, start: int, stop: int) -> Iterator[dict[str, Any]]:
        frame = self.frame if (start, stop) == (0, self._len) else self.frame.iloc[start:stop]
        for row in iter_frame_rows(frame, drop_missing=True, nest_dotted=True, first=start):
            overlap = row.get("overlap")
            if type(overlap) is float and overlap.is_integer():
                row["overlap"] = int(overlap)
            yield row


@overload
def tasks_from_frame(tasks: Iterable[T] | DataFrameLike) -> Iterable[T]: ...
@overload
def tasks_from_frame(
    tasks: Iterable[T] | AsyncIterable[T] | DataFrameLike,
) -> Iterable[T] | AsyncIterable[T]: ...
def tasks_from_frame(
    tasks: Iterable[T] | AsyncIterable[T] | DataFrameLike,
) -> Iterable[T] | AsyncIterable[T]:
    """``tasks`` as given, or a DataFrame as :class:`FrameTasks` (pandas is never imported)."""
    if is_dataframe(tasks):
        return cast("Iterable[T]", FrameTasks(cast(DataFrameLike, tasks)))
    return cast("Iterable[T] | AsyncIterable[T]", tasks)


def check_id(value: object, field: str) -> str:
    """A non-empty object id (``task_id``, ``operation_id``...)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(f"{field} must be a non-empty string, got {value!r}", field=field)
    return value


def _time(value: object, field: str) -> str:
    """A time filter as v1 writes times (UTC, milliseconds, no offset).

    A string is read as ISO 8601, so a time printed by this package (``...+00:00``), one
    with ``Z`` or another offset, and v1's own form all mean what they say: sent as given,
    an offset made the server compare other strings and match nothing. A naive time or
    string is UTC, as v1's are."""
    if isinstance(value, str) and value:
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInputError(
                f"{field} must be an ISO 8601 time such as 2026-01-31T12:00:00 (UTC unless an "
                f"offset is given), got {value!r}",
                field=field,
            ) from None
    if isinstance(value, datetime):
        return format_utc(value)
    raise InvalidInputError(f"{field} must be a datetime or a string, got {value!r}", field=field)


def _flag(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{field} must be true or false, got {value!r}", field=field)
    return value


def _count(value: object, field: str, *, low: int = 0, high: int = MAX_OVERLAP) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInputError(
            f"{field} must be an integer from {low} to {high}, got {value!r}", field=field
        )
    return value


def list_params(
    *,
    sort: str,
    limit: int,
    times: Mapping[str, object],
    counts: Mapping[str, object],
    strings: Mapping[str, object],
) -> dict[str, str | int]:
    """Checked query parameters of a v1 list: ``times`` take a datetime or a string,
    ``counts`` an integer, ``strings`` a non-empty string; ``None`` means not given."""
    if sort not in SORTS:
        raise InvalidInputError(
            f"sort must be one of {', '.join(SORTS)} (lists page by id), got {sort!r}",
            field="sort",
        )
    params: dict[str, str | int] = {
        "sort": sort,
        "limit": _count(limit, "limit", low=1, high=MAX_PAGE),
    }
    for name, value in times.items():
        if value is not None:
            params[name] = _time(value, name)
    for name, value in counts.items():
        if value is not None:
            params[name] = _count(value, name, high=2**31)
    for name, value in strings.items():
        if value is not None:
            params[name] = check_id(value, name)
    return params


def task_patch(
    *,
    overlap: int | None,
    infinite_overlap: bool | None,
    known_solutions: object,
    baseline_solutions: object,
    message_on_unknown_solution: str | None,
) -> dict[str, Any]:
    """The body of ``PATCH /tasks/{id}`` (only the fields given)."""
    body: dict[str, Any] = {}
    if overlap is not None:
        body["overlap"] = _count(overlap, "overlap", low=1)
    if infinite_overlap is not None:
        body["infinite_overlap"] = _flag(infinite_overlap, "infinite_overlap")
    if known_solutions is not None:
        body["known_solutions"] = _solutions(
            known_solutions, 0, "known_solutions", "correctness_weight", KnownSolution
        )
    if baseline_solutions is not None:
        body["baseline_solutions"] = _solutions(
            baseline_solutions, 0, "baseline_solutions", "confidence_weight", BaselineSolution
        )
    if message_on_unknown_solution is not None:
        if not isinstance(message_on_unknown_solution, str):
            raise InvalidInputError(
                "message_on_unknown_solution must be a string", field="message_on_unknown_solution"
            )
        body["message_on_unknown_solution"] = message_on_unknown_solution
    if not body:
        raise InvalidInputError("nothing to change: pass at least one field")
    bad = find_non_json(body)
    if bad is not None:
        raise InvalidInputError(bad[1], field=bad[0] or None)
    return body  # solutions are plain mappings already (_solutions turns models into dicts)


def overlap_patch(*, overlap: int | None, infinite_overlap: bool | None) -> dict[str, Any]:
    """The body of ``PATCH /tasks/{id}/set-overlap-or-min``."""
    body: dict[str, Any] = {}
    if overlap is not None:
        body["overlap"] = _count(overlap, "overlap")
    if infinite_overlap is not None:
        body["infinite_overlap"] = _flag(infinite_overlap, "infinite_overlap")
    if not body:
        raise InvalidInputError("pass overlap (0 stops the task) or infinite_overlap")
    return body
