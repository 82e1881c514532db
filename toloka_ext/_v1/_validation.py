"""Checks run before anything is sent; each failure names the task position and field."""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

from .._exceptions import InvalidInputError
from .._json import dumps, find_non_json
from ._models import BaselineSolution, KnownSolution, Task

__all__ = ["check_operation_id", "encode_tasks", "normalize_task"]


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
    name the position and field.

    Raises:
        InvalidInputError: NaN, infinities, sets, bytes or other objects in a task.
    """
    try:
        return dumps(payloads)
    except (ValueError, TypeError, RecursionError) as exc:
        for offset, payload in enumerate(payloads):
            bad = find_non_json(payload, strict_keys=False)
            if bad is not None:
                path, reason = bad
                raise InvalidInputError(
                    reason, position=start + offset, field=path or None
                ) from None
        raise InvalidInputError(f"tasks cannot be encoded as JSON: {exc}") from None


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
    if isinstance(task, Task):
        data: dict[str, Any] = task.to_dict()
        data.pop("id", None)
        data.pop("created", None)
    elif isinstance(task, Mapping):
        data = dict(task)
    else:
        raise InvalidInputError(
            f"a task must be a Task or a mapping, got {type(task).__name__}", position=position
        )

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
    elif overlap < 1:
        raise InvalidInputError(
            f"overlap must be >= 1, got {overlap}", position=position, field="overlap"
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

    bad = find_non_json(data) if check_json else None
    if bad is not None:
        path, reason = bad
        raise InvalidInputError(reason, position=position, field=path or None)
    return data
