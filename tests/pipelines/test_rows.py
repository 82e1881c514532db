"""Rows in: validation before any request, inference, streaming sources, 2 MB packing."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from toloka_ext import CsvFile, FieldSpec, InvalidInputError, JsonArrayFile, JsonLinesFile, Toloka
from toloka_ext._v2._rows import (
    MAX_REQUEST_BYTES,
    infer_fields,
    iter_json_array,
    open_rows,
    prepare_rows,
)
from toloka_ext.testing import RecordedRequest, Sandbox

LIMIT = MAX_REQUEST_BYTES
PREFIX = b'{"fields":[{"name":"text"}],"items":['
SUFFIX = b"]}"


def _row_of_request_size(size: int) -> dict[str, str]:
    """A row whose single-row request (fields=["text"]) is exactly ``size`` bytes."""
    empty = len(PREFIX) + len(b'{"text":""}') + len(SUFFIX)
    return {"text": "a" * (size - empty)}


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(record_requests=True)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Toloka]:
    with sandbox.client() as client:
        yield client


@pytest.fixture
def dataset_id(sandbox: Sandbox, client: Toloka) -> str:
    dataset_id = client.datasets.create("prj-1", name="d").id
    del sandbox.requests[:]
    return dataset_id


def _item_requests(sandbox: Sandbox) -> list[RecordedRequest]:
    return sandbox.requests_for("addDatasetItems")


# ----------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("rows", "position", "field", "needle"),
    [
        ([], None, None, "no rows"),
        ([{"a": 1}, "text"], 1, None, "object"),
        ([{"a": 1}, {"a": math.nan}], 1, "a", "JSON number"),
        ([{"a": math.inf}], 0, "a", "JSON number"),
        ([{"a": {1, 2}}], 0, "a", "set"),
        ([{"a": {"b": object()}}], 0, "a.b", "object"),
        ([{"a": 1}, {"a": 2, "b": 3}], 1, "b", "not a declared field"),
    ],
    ids=["empty", "non-dict", "nan", "inf", "set", "object", "unknown-key"],
)
def test_bad_rows_fail_before_any_request(
    client: Toloka,
    sandbox: Sandbox,
    dataset_id: str,
    rows: list[object],
    position: int | None,
    field: str | None,
    needle: str,
) -> None:
    fields = ["a"] if field == "b" else None
    with pytest.raises(InvalidInputError) as info:
        client.datasets.add_items(dataset_id, rows, fields=fields)
    assert info.value.position == position
    assert info.value.field == field
    assert needle in str(info.value)
    assert sandbox.requests == []
    assert sandbox.dataset_rows(dataset_id) == []


def test_key_outside_inferred_fields_after_the_sample_is_named(
    client: Toloka, sandbox: Sandbox, dataset_id: str
) -> None:
    rows = [{"a": i} for i in range(150)] + [{"a": 1, "zzz": 2}]
    with pytest.raises(InvalidInputError) as info:
        client.datasets.add_items(dataset_id, rows)
    assert (info.value.position, info.value.field) == (150, "zzz")
    assert sandbox.requests == []


def test_single_mapping_and_non_iterable_are_rejected() -> None:
    with pytest.raises(InvalidInputError):
        prepare_rows({"a": 1})
    with pytest.raises(InvalidInputError):
        prepare_rows(42)


def test_fields_inferred_with_json_schema_types() -> None:
    rows = [
        {"s": "x", "i": 1, "n": 1, "b": True, "o": {"k": 1}, "l": [1], "z": None},
        {"s": "y", "i": 2, "n": 2.5, "b": False, "o": {}, "l": [], "z": None, "m": "x"},
        {"s": None, "i": 3, "n": 3, "b": True, "o": {}, "l": [], "z": None},
    ]
    with prepare_rows(rows) as prepared:
        got = {f.name: f.json_schema for f in prepared.fields}
    assert got == {
        "s": {"type": ["null", "string"]},
        "i": {"type": "integer"},
        "n": {"type": "number"},
        "b": {"type": "boolean"},
        "o": {"type": "object"},
        "l": {"type": "array"},
        "z": None,
        "m": {"type": "string"},
    }
    assert {f.name: f.json_schema for f in infer_fields(rows)} == got


# ----------------------------------------------------------------------- sources


def test_sources_jsonl_json_array_and_csv(tmp_path: Path) -> None:
    rows = [{"url": f"https://x/{i}.jpg", "lang": "en" if i % 2 else "de"} for i in range(5)]
    jl = tmp_path / "r.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    ja = tmp_path / "r.json"
    ja.write_text(" [\n" + ",\n ".join(json.dumps(r) for r in rows) + "\n]\n")
    cs = tmp_path / "r.csv"
    cs.write_text("url,lang\n" + "".join(f"{r['url']},{r['lang']}\n" for r in rows))
    for source in (jl, ja, cs, JsonLinesFile(jl), JsonArrayFile(ja), CsvFile(cs), str(jl)):
        assert list(_iter(source)) == rows, source
        with prepare_rows(source) as prepared:
            assert prepared.count == 5


def _iter(source: object) -> list[object]:
    return list(open_rows(source))


def test_json_array_streaming_handles_chunk_edges() -> None:
    values = [{"k": "x" * n, "n": 10**n} for n in range(40)] + [{"a": [1, 2.5, None]}]
    text = json.dumps(values, indent=1)

    class Trickle(io.StringIO):
        def read(self, size: int | None = -1) -> str:  # 7 characters at a time
            return super().read(7)

    assert list(iter_json_array(Trickle(text))) == values
    assert list(iter_json_array(io.StringIO("[]"))) == []


@pytest.mark.parametrize(
    "text",
    ['{"a": 1}', '[{"a": 1}', '[{"a": 1} {"b": 2}]', '[{"a": }]', '[{"a": 1}] x'],
    ids=["not-array", "unclosed", "no-comma", "bad-element", "trailing"],
)
def test_json_array_streaming_rejects_bad_files(text: str) -> None:
    with pytest.raises(InvalidInputError):
        list(iter_json_array(io.StringIO(text)))


def test_jsonl_bad_line_names_the_line(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    p.write_text('{"a": 1}\n{oops\n')
    with pytest.raises(InvalidInputError, match="line 2"):
        prepare_rows(p)


def test_unknown_suffix_is_rejected(tmp_path: Path) -> None:
    rows = tmp_path / "rows.txt"
    rows.write_text('{"a": 1}\n')
    with pytest.raises(InvalidInputError, match="format"):
        prepare_rows(rows)


# ----------------------------------------------------------------------- 2 MB boundary


def test_request_of_exactly_the_limit_goes_inline(
    client: Toloka, sandbox: Sandbox, dataset_id: str
) -> None:
    row = _row_of_request_size(LIMIT)
    summary = client.datasets.add_items(dataset_id, [row], fields=["text"])
    assert summary.path == "inline" and summary.requests == 1
    sent = _item_requests(sandbox)
    assert [len(r.body) for r in sent] == [LIMIT]
    assert sent[0].json()["items"] == [row]
    assert sandbox.dataset_rows(dataset_id) == [row]


def test_one_byte_more_for_a_single_row_takes_the_upload_path(
    client: Toloka, sandbox: Sandbox, dataset_id: str
) -> None:
    row = _row_of_request_size(LIMIT + 1)
    summary = client.datasets.add_items(dataset_id, [row], fields=["text"])
    assert summary.path == "upload"
    assert _item_requests(sandbox) == []
    applied = sandbox.counters.applied
    assert applied["storagePut"] == 1 and applied["finalizeUpload"] == 1
    assert sandbox.dataset_rows(dataset_id) == [row]


def test_two_rows_one_byte_over_the_limit_are_split(
    client: Toloka, sandbox: Sandbox, dataset_id: str
) -> None:
    # Two rows in one request: PREFIX + r1 + "," + r2 + SUFFIX == LIMIT + 1.
    half = (LIMIT + 1 - len(PREFIX) - len(SUFFIX) - 1) // 2
    empty_row = len(b'{"text":""}')
    r1 = {"text": "a" * (half - empty_row)}
    rest = LIMIT + 1 - len(PREFIX) - len(SUFFIX) - 1 - half
    r2 = {"text": "b" * (rest - empty_row)}
    with prepare_rows([r1, r2], fields=["text"]) as prepared:
        assert len(prepared.request_prefix()) + prepared.row_bytes + 1 + 2 == LIMIT + 1
    summary = client.datasets.add_items(dataset_id, [r1, r2], fields=["text"])
    assert summary.path == "inline" and summary.requests == 2
    sizes = [len(r.body) for r in _item_requests(sandbox)]
    assert len(sizes) == 2 and all(s <= LIMIT for s in sizes)
    assert sandbox.dataset_rows(dataset_id) == [r1, r2]

    # ... and one byte less fits one request of exactly the limit.
    del sandbox.requests[:]
    r2_small = {"text": r2["text"][:-1]}
    summary = client.datasets.add_items(dataset_id, [r1, r2_small], fields=["text"])
    assert summary.requests == 1
    assert [len(r.body) for r in _item_requests(sandbox)] == [LIMIT]
    assert sandbox.dataset_rows(dataset_id) == [r1, r2, r1, r2_small]


def test_greedy_packing_measures_real_bytes(
    client: Toloka, sandbox: Sandbox, dataset_id: str
) -> None:
    rows = [{"text": "é" * (i % 500) + "\u2028x"} for i in range(6000)]  # multi-byte UTF-8
    summary = client.datasets.add_items(dataset_id, rows, fields=[FieldSpec("text")])
    sizes = [len(r.body) for r in _item_requests(sandbox)]
    assert summary.requests == len(sizes) > 1
    assert all(s <= LIMIT for s in sizes)
    # Greedy: no request could have taken the next request's first row.
    bodies = [r.json()["items"] for r in _item_requests(sandbox)]
    for size, nxt in zip(sizes, bodies[1:], strict=False):
        first = len(json.dumps(nxt[0], ensure_ascii=False, separators=(",", ":")).encode())
        assert size + 1 + first > LIMIT
    assert sandbox.dataset_rows(dataset_id) == rows


def test_above_the_threshold_takes_the_upload_path(
    client: Toloka, sandbox: Sandbox, dataset_id: str
) -> None:
    rows = [{"n": i} for i in range(1000)]
    summary = client.datasets.add_items(dataset_id, rows, upload_threshold=1000)
    assert summary.path == "upload" and summary.upload is not None
    assert summary.upload.status == "succeeded"
    assert sandbox.dataset_rows(dataset_id) == rows
    (put,) = sandbox.requests_for("storagePut")
    assert put.method == "PUT" and put.json() == rows
    assert "Authorization" not in put.headers
    assert _item_requests(sandbox) == []
