"""The orjson fast paths of ``toloka_ext._json`` give what the standard library gives.

``dumps_records`` must return ``json``'s exact bytes or ``None`` (the request journal keeps
a digest of every body, and a rerun must make the same bytes whichever path encoded them);
``loads`` must return ``json.loads``'s values, and raise where it raises. Both are checked
over generated values, including the ones where orjson and ``json`` part ways.
"""

from __future__ import annotations

import enum
import gc
import json
import math
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toloka_ext import _json
from toloka_ext._json import dumps, dumps_records, loads

orjson = pytest.importorskip("orjson")


def _stdlib(records: object) -> bytes | None:
    try:
        return dumps(records)
    except (ValueError, TypeError):
        return None


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 2


class Text(str):
    pass


# Every scalar the two encoders disagree on is here: tiny floats (``1e-05`` against
# ``0.00001``), NaN and the infinities (``null``), ints past 64 bits, enums and UUIDs
# (orjson takes them), subclasses, lone surrogates, non-string keys.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**62, max_value=2**66),
    st.floats(),
    st.floats(min_value=-1e-3, max_value=1e-3),
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x7F)),
    st.sampled_from(
        [Colour.RED, Level.HIGH, Text("t"), uuid.UUID(int=7), "\ud800", 1e-05, -0.0, 2**64]
    ),
)
keys = st.one_of(st.text(max_size=5), st.integers(0, 3), st.sampled_from(["\udc00", "a"]))
flat_dicts = st.dictionaries(keys, scalars, max_size=4)
nested = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | flat_dicts, max_leaves=6)
dicts_of_lists = st.dictionaries(
    keys, st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=3
)
records = st.lists(
    st.dictionaries(
        st.text(max_size=5), st.one_of(scalars, flat_dicts, dicts_of_lists, nested), max_size=4
    ),
    max_size=6,
)


@settings(max_examples=400)
@given(records)
def test_dumps_records_is_json_byte_for_byte_or_declines(value: list[dict[str, Any]]) -> None:
    fast = dumps_records(value)
    if fast is not None:
        assert fast == _stdlib(value)


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "pool_id": st.text(min_size=1, max_size=8),
                "input_values": st.dictionaries(
                    st.text(max_size=6),
                    st.one_of(
                        st.none(),
                        st.booleans(),
                        st.integers(-(2**63), 2**64 - 1),
                        st.floats(allow_nan=False, allow_infinity=False).filter(
                            lambda f: f == 0 or abs(f) >= 1e-4
                        ),
                        st.text(),
                        st.lists(st.integers(-(2**63), 2**63) | st.text(max_size=4), max_size=3),
                    ),
                    max_size=4,
                ),
                "overlap": st.integers(1, 30),
            }
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_usual_tasks_take_the_fast_path(value: list[dict[str, Any]]) -> None:
    # The fast path must be taken where it can be (else it buys nothing), with json's bytes.
    text = json.dumps(value)
    if "\\ud8" in text or "\\udb" in text or "\\udc" in text or "\\udd" in text:
        return  # a lone surrogate: orjson refuses it, json writes it, the request fails later
    assert dumps_records(value) == _stdlib(value)


@pytest.mark.parametrize(
    "value",
    [
        [{"a": math.nan}],
        [{"a": {"b": math.inf}}],
        [{"a": 1e-05}],
        [{"a": Colour.RED}],
        [{"a": uuid.UUID(int=1)}],
        [{"a": Level.HIGH}],
        [{"a": Text("x")}],
        [{"a": 2**64}],
        [{"a": [1, 2]}],
        [{"a": {"b": {"c": 1}}}],
        [{"a": {"b": [1, [2]]}}],
        [{"a": {"b": [1, {"c": 2}]}}],
        [{"a": {"b": [1e-05]}}],
        [{"a": {"b": [math.nan]}}],
        [{"a": {"b": [Colour.RED]}}],
        [{1: "x"}],
        [{"a": {2: "x"}}],
        [{"a": "\ud800"}],
        [{"a": orjson.Fragment(b"1")}],
        [{"a": (1, 2)}],
    ],
    ids=repr,
)
def test_dumps_records_declines_what_json_writes_differently_or_refuses(value: Any) -> None:
    assert dumps_records(value) is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


@settings(max_examples=400)
@given(json_values)
def test_loads_gives_json_loads_values(value: object) -> None:
    data = json.dumps(value).encode()
    assert _same(loads(data), json.loads(data))


@pytest.mark.parametrize(
    "data",
    [
        b"123456789012345678901234567890",
        b"-9223372036854775809",
        b'{"n": 18446744073709551616}',
        b'"12345678901234567890"',
        b"1.7976931348623159e308",
        b"[NaN, Infinity, -Infinity]",
        b'\xef\xbb\xbf{"a": 1}',
        '{"a": "é"}'.encode("utf-16"),
        b'"\\ud800"',
        b"1e-400",
    ],
    ids=repr,
)
def test_loads_where_orjson_differs_is_json_loads(data: bytes) -> None:
    assert _same(loads(data), json.loads(data))


@pytest.mark.parametrize("data", [b"", b"[1,]", b"{", b'"\xff"', b"nan"], ids=repr)
def test_loads_raises_what_json_loads_raises(data: bytes) -> None:
    with pytest.raises(ValueError) as ours:
        loads(data)
    with pytest.raises(ValueError) as theirs:
        json.loads(data)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value) == str(theirs.value)


def _same(a: object, b: object) -> bool:
    """Equal, with the same types all the way down (1 == 1.0, and NaN is not NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))  # type: ignore[arg-type]
    if isinstance(a, list):
        return len(a) == len(b) and all(map(_same, a, b))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)  # type: ignore[union-attr]
    return a == b


def test_loads_pauses_the_collector_and_leaves_it_as_it_found_it() -> None:
    seen: list[bool] = []
    real = _json._fast.loads

    def spy(data: bytes) -> Any:
        seen.append(gc.isenabled())
        return real(data)

    was = gc.isenabled()
    try:
        gc.enable()
        _json._fast = _Patched(spy)  # type: ignore[assignment]
        assert loads(b"[1]") == [1]
        assert gc.isenabled()
        gc.disable()
        assert loads(b"[2]") == [2]
        assert not gc.isenabled()  # disabled by the caller: stays disabled
    finally:
        _json._fast = orjson
        if was:
            gc.enable()
    assert seen == [False, False]


class _Patched:
    JSONDecodeError = orjson.JSONDecodeError
    JSONEncodeError = orjson.JSONEncodeError

    def __init__(self, loads: Any) -> None:
        self.loads = loads
        self.dumps = orjson.dumps


def test_without_orjson_the_standard_library_does_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_json, "_fast", None)
    assert dumps_records([{"a": 1}]) is None
    assert loads(b'{"a": [1, 2.5]}') == {"a": [1, 2.5]}


def test_overlapping_decodes_share_one_pause() -> None:
    """Decodes in two threads: the collector comes back on when the last one ends, and
    only if it was on when the first began."""
    was = gc.isenabled()
    try:
        gc.enable()
        _json._pause_collector()
        _json._pause_collector()
        _json._resume_collector()
        assert not gc.isenabled()
        _json._resume_collector()
        assert gc.isenabled()
        gc.disable()
        _json._pause_collector()
        _json._resume_collector()
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()
