"""Strict JSON: find values JSON cannot carry, and encode without silent coercion."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps", "dumps_acyclic", "find_non_json", "loads"]

_MAX_DEPTH = 200


_JSON_KEY_TYPES = (str, int, float, bool, type(None))


def find_non_json(
    value: object, path: str = "", *, strict_keys: bool = True
) -> tuple[str, str] | None:
    """Return ``(path, reason)`` of the first value JSON cannot carry, or ``None``.

    Allowed: ``None``, ``bool``, ``int``, finite ``float``, ``str``, lists/tuples of those,
    and mappings with ``str`` keys (with ``strict_keys=False`` also the scalar keys that
    ``json`` turns into strings). Rejected: NaN and infinities, sets, bytes, other keys and
    any other object. ``path`` is dotted (``input_values.tags[2]``).
    """
    key_types = str if strict_keys else _JSON_KEY_TYPES
    stack: list[tuple[object, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if item is None or isinstance(item, bool | int | str):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return where, f"{item!r} is not a valid JSON number"
            continue
        if depth >= _MAX_DEPTH:
            return where, "nested too deeply"
        if isinstance(item, Mapping):
            children: list[tuple[object, str, int]] = []
            for key, child in item.items():
                if not isinstance(key, key_types):
                    return where, f"mapping key {key!r} is not a string"
                children.append((child, f"{where}.{key}" if where else str(key), depth + 1))
            stack.extend(reversed(children))
            continue
        if isinstance(item, list | tuple):
            stack.extend(
                (child, f"{where}[{i}]", depth + 1) for i, child in reversed(list(enumerate(item)))
            )
            continue
        return where, f"{type(item).__name__} values cannot be sent as JSON"
    return None


def dumps(value: Any) -> bytes:
    """Encode compactly as UTF-8; raise ``ValueError``/``TypeError`` instead of coercing."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


# The same settings without the encoder's cycle check (a dict of ids kept for every
# container: about a sixth of encoding a chunk of tasks). A cycle then recurses until
# RecursionError, which the one caller catches and walks with find_non_json.
_ACYCLIC = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), check_circular=False
)


def dumps_acyclic(value: Any) -> bytes:
    """:func:`dumps` for a caller that handles ``RecursionError`` (a cycle raises it)."""
    return _ACYCLIC.encode(value).encode()


def loads(data: bytes | str) -> Any:
    """Decode JSON."""
    return json.loads(data)
