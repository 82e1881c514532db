"""Strict JSON: find values JSON cannot carry, and encode without silent coercion."""

from __future__ import annotations

import gc
import itertools
import json
import math
import threading
from collections.abc import Iterator, Mapping
from typing import Any, cast

try:
    import orjson as _fast
except ImportError:  # no wheel for this interpreter (PyPy): the standard library alone
    _fast = None  # type: ignore[assignment]

__all__ = [
    "dumps",
    "dumps_acyclic",
    "dumps_plain",
    "dumps_records",
    "find_non_json",
    "loads",
    "plain_records",
    "SCALAR_TYPES",
]

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


def dumps_records(records: list[dict[str, Any]]) -> bytes | None:
    """The bytes :func:`dumps` gives for ``records``, made by orjson, or ``None``.

    orjson encodes a chunk of tasks ten times faster than ``json``, but not always to the
    same bytes or with the same refusals (NaN becomes ``null``, an enum or a UUID is taken,
    ``1e-05`` is written ``0.00001``). So it is used only where its output is byte for byte
    ``json``'s, which the request journal's digests and the tests rely on: see
    :func:`plain_records`. Anything else, or what orjson refuses (an int beyond 64 bits, a
    key that is not a string, a lone surrogate), is ``None``: the caller encodes with
    ``json``.

    >>> dumps_records([{"pool_id": "p", "input_values": {"n": 1, "w": 0.5}}]) in (
    ...     None, b'[{"pool_id":"p","input_values":{"n":1,"w":0.5}}]')
    True
    """
    if not plain_records(records):
        return None
    try:
        return dumps_plain(records)
    except TypeError:
        return None


def plain_records(records: list[dict[str, Any]], *, nested: bool = True) -> bool:
    """True if orjson is here and writes ``records`` (and each of them) as ``json`` does.

    ``records`` are exact dicts whose values are scalars of the exact built-in types or
    (``nested``) dicts of scalars and of lists of scalars, every float finite and 0 or at
    least 1e-4 in size (where the two write the same digits). orjson may still refuse
    them (:func:`dumps_records`).
    """
    if _fast is None or set(map(type, records)) != {dict}:
        return False
    tops = list(itertools.chain.from_iterable(map(dict.values, records)))
    kinds = set(map(type, tops))
    if not kinds <= (_RECORD_FIELD_TYPES if nested else SCALAR_TYPES):
        return False
    inner: list[object] = []
    items: list[object] = []
    if dict in kinds:
        inner = list(itertools.chain.from_iterable(map(dict.values, filter(_is_dict, tops))))
        inner_kinds = set(map(type, inner))
        if not inner_kinds <= _INNER_TYPES:
            return False
        if list in inner_kinds:  # lists of scalars (labels, boxes): one level more
            lists = cast("Iterator[list[object]]", filter(_is_list, inner))
            items = list(itertools.chain.from_iterable(lists))
            item_kinds = set(map(type, items))
            if not item_kinds <= SCALAR_TYPES:
                return False
            inner_kinds |= item_kinds
        kinds |= inner_kinds
    return float not in kinds or all(
        map(_same_float_text, filter(_is_float, itertools.chain(tops, inner, items)))
    )


def dumps_plain(value: Any) -> bytes:
    """orjson's bytes for what :func:`plain_records` accepted (``json``'s bytes).

    Raises:
        TypeError: what orjson refuses (``orjson.JSONEncodeError``): encode with ``json``.
    """
    return _fast.dumps(value)


# The JSON scalars, as exact types (rows' checks use the same set).
SCALAR_TYPES = frozenset({str, int, bool, float, type(None)})
_RECORD_FIELD_TYPES = SCALAR_TYPES | {dict}
_INNER_TYPES = SCALAR_TYPES | {list}
# Exact types only (the sets above): a subclass may encode differently, and bool is an int.
_is_dict = dict.__instancecheck__
_is_float = float.__instancecheck__
_is_list = list.__instancecheck__


def _same_float_text(value: float) -> bool:
    # Both write repr's shortest digits; below 1e-4 repr uses an exponent ("1e-05") where
    # orjson does not ("0.00001"). NaN and the infinities fail both comparisons.
    return value == 0.0 or 1e-4 <= abs(value) < math.inf


# A run of 19 digits or more (found as zeros, after every digit is mapped to "0"): orjson
# decodes an integer beyond 64 bits as a float where ``json`` keeps it exact. Ints shorter
# than that fit; the check also fires on long digit runs in strings and fractions, which
# only sends those answers to ``json``.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19


def loads(data: bytes | str) -> Any:
    """Decode JSON: the values and errors of ``json.loads``, faster.

    orjson decodes where it gives the same values (every answer the API sends, in
    practice); what it refuses and ``json`` may take (NaN, a byte-order mark, UTF-16) and
    answers with integers it would round go to ``json``.

    The cyclic garbage collector is paused while a body is decoded, as Mercurial's
    ``util.nogc`` does for its large structures: an answer of 5,000 tasks makes some
    40,000 containers, each allocation counts towards the next collection, and all of them
    survive it, so collections ran over the whole heap again and again (a third of
    ``create_tasks``'s CPU in async mode) and could free nothing: decoding JSON makes no
    cycles and runs no Python code. A collector the caller had disabled stays disabled.
    """
    _pause_collector()
    try:
        if (
            _fast is not None
            and type(data) is bytes
            and _LONG_DIGIT_RUN not in data.translate(_DIGITS_AS_ZERO)
        ):
            try:
                return _fast.loads(data)
            except _fast.JSONDecodeError:
                pass
        return json.loads(data)
    finally:
        _resume_collector()


# Decodes in several threads share one pause: the first to start disables the collector
# (noting whether it was on), the last to finish turns it back on if it was.
_pause_lock = threading.Lock()
_pauses = 0
_was_enabled = False


def _pause_collector() -> None:
    global _pauses, _was_enabled
    with _pause_lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1


def _resume_collector() -> None:
    global _pauses
    with _pause_lock:
        _pauses -= 1
        if _pauses == 0 and _was_enabled:
            gc.enable()
