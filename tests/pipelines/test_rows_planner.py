"""The batched serializer/planner agrees with a plain row-by-row reference, byte for byte."""

from __future__ import annotations

import hashlib
import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toloka_ext._v2._rows import DEFAULT_UPLOAD_THRESHOLD, prepare_rows

KEYS = ["a", "b", "ключ", "c d"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),  # any unicode, control characters, quotes, newlines, '},{'
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=5), scalars, max_size=3),
)
# The scalars orjson writes as json does (ints within 64 bits, floats 0 or from 1e-4 up):
# rows of only these take the orjson path, the others json's.
plain_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f == 0 or abs(f) >= 1e-4),
    st.text(max_size=40),
)
# Plain rows (orjson), flat rows (the batch fast path, proven flat from its text: strings
# may hold brackets) and rows with nested values (the type check, the slow path), alone or
# mixed.
rows_strategy = st.one_of(
    st.lists(
        st.dictionaries(st.sampled_from(KEYS), plain_scalars, max_size=4), min_size=1, max_size=300
    ),
    st.lists(st.dictionaries(st.sampled_from(KEYS), scalars, max_size=4), min_size=1, max_size=300),
    st.lists(
        st.dictionaries(st.sampled_from(KEYS), st.one_of(scalars, values), max_size=4),
        min_size=1,
        max_size=300,
    ),
)


def _reference(rows: list[dict[str, Any]], fields: list[str], limit: int) -> dict[str, Any]:
    """The obvious algorithm: encode each row, pack greedily on the real request size."""
    fields_json = json.dumps(
        [{"name": f} for f in fields], ensure_ascii=False, separators=(",", ":")
    ).encode()
    prefix = b'{"fields":' + fields_json + b',"items":['
    texts = [
        json.dumps(r, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        for r in rows
    ]
    requests: list[list[bytes]] = []
    for t in texts:
        if requests and len(prefix) + len(b",".join([*requests[-1], t])) + 2 <= limit:
            requests[-1].append(t)
        else:
            requests.append([t])
    # The fingerprint is of the rows as sent, each followed by a comma (whichever encoder,
    # in whatever batches, wrote them).
    digest = hashlib.sha256(fields_json)
    for t in texts:
        digest.update(t + b",")
    return {
        "bodies": [prefix + b",".join(r) + b"]}" for r in requests],
        "counts": [len(r) for r in requests],
        "oversize": [i for i, t in enumerate(texts) if len(prefix) + len(t) + 2 > limit],
        "upload": b"[" + b",".join(texts) + b"]",
        "fingerprint": digest.hexdigest(),
        "row_bytes": sum(map(len, texts)),
    }


@settings(max_examples=150, deadline=None)
@given(
    rows=rows_strategy,
    limit=st.integers(min_value=40, max_value=600),
    threshold=st.one_of(st.just(DEFAULT_UPLOAD_THRESHOLD), st.integers(0, 3000)),
)
def test_batched_planner_matches_the_reference(
    rows: list[dict[str, Any]], limit: int, threshold: int
) -> None:
    ref = _reference(rows, KEYS, limit)
    with prepare_rows(
        rows,
        fields=KEYS,
        max_request_bytes=limit,
        spool_memory=512,
        upload_threshold=threshold,
    ) as p:
        assert p.count == len(rows)
        assert p.row_bytes == ref["row_bytes"]
        if ref["row_bytes"] > threshold:
            # Upload whatever follows: the inline plan is not computed (nor needed).
            assert p.path == "upload" and p.chunks == [] and p.oversize_rows == []
        else:
            assert p.path == ("upload" if ref["oversize"] else "inline")
            assert p.oversize_rows == ref["oversize"]
            assert [c.count for c in p.chunks] == ref["counts"]
            assert [p.chunk_body(c) for c in p.chunks] == ref["bodies"]
            assert [c.start for c in p.chunks] == [
                sum(ref["counts"][:i]) for i in range(len(ref["counts"]))
            ]
        body = b"".join(p.iter_upload_body(block=97))
        assert body == ref["upload"] and len(body) == p.upload_size
        assert json.loads(body) == rows
        assert p.fingerprint == ref["fingerprint"]


def _peak_while_preparing(rows: Any) -> tuple[int, int]:
    tracemalloc.start()
    try:
        with prepare_rows(rows, fields=["text", "n"]) as prepared:
            _, peak = tracemalloc.get_traced_memory()
            return peak, prepared.upload_size
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("count", "size"), [(400_000, 20), (40, 512 * 1024)], ids=["many-small", "few-huge"]
)
def test_memory_stays_bounded_for_any_row_size(count: int, size: int) -> None:
    def rows() -> Iterator[dict[str, Any]]:
        for i in range(count):
            yield {"text": "x" * size, "n": i}

    peak, total = _peak_while_preparing(rows())
    assert total > 16 * 1024 * 1024  # more data than the bound below
    # The in-memory spool (4 MiB) plus about one batch (2 Mi characters) and its encoding.
    assert peak < 14 * 1024 * 1024, peak
