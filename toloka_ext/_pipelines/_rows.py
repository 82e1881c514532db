"""Rows in: sources, validation, field inference, serialization once, greedy packing.

Rows are validated and serialized exactly once, into a spooled temporary file (memory up to
``spool_memory`` bytes, then disk) as JSON Lines, so memory stays bounded for any input. While
spooling, the inline plan is computed: rows are packed greedily into requests whose *real*
body (``{"fields":[...],"items":[row,row,...]}``) is at most ``max_request_bytes``. The upload
path streams the same bytes back as one JSON array.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Literal

import attrs

from .. import _json
from .._exceptions import InvalidInputError
from ._models import FieldSpec

__all__ = [
    "CsvFile",
    "JsonArrayFile",
    "JsonLinesFile",
    "PreparedRows",
    "Rows",
    "infer_fields",
    "iter_json_array",
    "prepare_rows",
]

MAX_REQUEST_BYTES = 2 * 1024 * 1024
"""The documented limit of one inline ``POST /datasets/{id}/items`` request body."""
DEFAULT_UPLOAD_THRESHOLD = 8 * MAX_REQUEST_BYTES
"""Above this many serialized bytes the upload path is used instead of inline requests."""
DEFAULT_SPOOL_MEMORY = 4 * 1024 * 1024
DEFAULT_INFERENCE_ROWS = 100
_READ_CHUNK = 64 * 1024
# The same settings as ``_json.dumps`` (strict, compact, UTF-8), built once for the hot loop.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


@attrs.frozen
class JsonLinesFile:
    """Rows from a JSON Lines file (one object per line), read lazily; re-iterable."""

    path: Path = attrs.field(converter=Path)
    encoding: str = "utf-8"

    def __iter__(self) -> Iterator[object]:
        with open(self.path, encoding=self.encoding) as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InvalidInputError(
                        f"{self.path}: line {lineno} is not valid JSON: {exc.msg}"
                    ) from None


@attrs.frozen
class JsonArrayFile:
    """Rows from a file holding one JSON array, streamed (never loaded whole); re-iterable."""

    path: Path = attrs.field(converter=Path)
    encoding: str = "utf-8"

    def __iter__(self) -> Iterator[object]:
        with open(self.path, encoding=self.encoding) as fh:
            yield from iter_json_array(fh, name=str(self.path))


@attrs.frozen
class CsvFile:
    """Rows from a CSV file with a header line; every value is a string; re-iterable."""

    path: Path = attrs.field(converter=Path)
    encoding: str = "utf-8"
    dialect: str = "excel"

    def __iter__(self) -> Iterator[object]:
        with open(self.path, encoding=self.encoding, newline="") as fh:
            for index, row in enumerate(csv.DictReader(fh, dialect=self.dialect)):
                if None in row:
                    raise InvalidInputError(
                        f"{self.path}: the row has more columns than the header",
                        position=index,
                    )
                yield row


Rows = (
    Iterable[Mapping[str, Any]] | JsonLinesFile | JsonArrayFile | CsvFile | str | os.PathLike[str]
)
"""What ``add_items``/``process_new_data`` accept: dicts, or a .jsonl/.json/.csv path."""


def open_rows(rows: object) -> Iterable[object]:
    """Turn the accepted inputs into an iterable of raw rows (files by suffix)."""
    if isinstance(rows, str | os.PathLike):
        path = Path(rows)
        suffix = path.suffix.lower()
        if suffix in (".jsonl", ".ndjson"):
            return JsonLinesFile(path)
        if suffix == ".json":
            return JsonArrayFile(path)
        if suffix == ".csv":
            return CsvFile(path)
        raise InvalidInputError(
            f"cannot tell the format of {path}: use a .jsonl, .json or .csv file, or wrap it "
            "in JsonLinesFile/JsonArrayFile/CsvFile"
        )
    if isinstance(rows, Mapping | bytes | bytearray):
        raise InvalidInputError("rows must be an iterable of objects, not a single object")
    if not isinstance(rows, Iterable):
        raise InvalidInputError(f"rows must be an iterable of objects, got {type(rows).__name__}")
    return rows


def iter_json_array(fh: IO[str], *, name: str = "<stream>") -> Iterator[object]:
    """Yield the elements of one JSON array read from ``fh`` without loading it whole.

    Uses ``json.JSONDecoder.raw_decode`` over a sliding buffer: memory is bounded by the
    largest element plus one read chunk.
    """
    decoder = json.JSONDecoder()
    buf = ""
    pos = 0
    eof = False

    def fill() -> bool:
        nonlocal buf, pos, eof
        if eof:
            return False
        chunk = fh.read(_READ_CHUNK)
        if not chunk:
            eof = True
            return False
        buf = buf[pos:] + chunk
        pos = 0
        return True

    def skip_ws() -> None:
        nonlocal pos
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n":
                pos += 1
            if pos < len(buf) or not fill():
                return

    skip_ws()
    if pos >= len(buf) or buf[pos] != "[":
        raise InvalidInputError(f"{name}: expected a JSON array")
    pos += 1
    index = 0
    skip_ws()
    if pos < len(buf) and buf[pos] == "]":
        return
    while True:
        skip_ws()
        while True:
            try:
                value, end = decoder.raw_decode(buf, pos)
            except json.JSONDecodeError as exc:
                if fill():
                    continue
                raise InvalidInputError(
                    f"{name}: element {index} is not valid JSON: {exc.msg}", position=index
                ) from None
            if end >= len(buf) and not eof and not isinstance(value, dict | list | str):
                # A number or literal at the buffer's edge may continue in the next chunk.
                if fill():
                    continue
            break
        pos = end
        yield value
        index += 1
        skip_ws()
        if pos >= len(buf):
            raise InvalidInputError(f"{name}: the array is not closed")
        if buf[pos] == ",":
            pos += 1
            continue
        if buf[pos] == "]":
            pos += 1
            skip_ws()
            if pos < len(buf):
                raise InvalidInputError(f"{name}: unexpected data after the array")
            return
        raise InvalidInputError(f"{name}: expected ',' or ']' after element {index - 1}")


# --------------------------------------------------------------------------- fields


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    return "array"


def infer_fields(rows: Iterable[Mapping[str, Any]]) -> list[FieldSpec]:
    """Field declarations from sample rows: keys in order of first appearance, JSON Schema types.

    Example::

        infer_fields([{"url": "a", "n": 1}, {"url": "b", "n": 2.5}])
        # [FieldSpec("url", {"type": "string"}), FieldSpec("n", {"type": "number"})]
    """
    seen: dict[str, set[str]] = {}
    for row in rows:
        for key, value in row.items():
            seen.setdefault(key, set()).add(_json_type(value))
    out: list[FieldSpec] = []
    for key, types in seen.items():
        if {"integer", "number"} <= types:
            types.discard("integer")
        concrete = sorted(types - {"null"})
        if not concrete:
            out.append(FieldSpec(key, None))
        elif len(types) == 1:
            out.append(FieldSpec(key, {"type": concrete[0]}))
        else:
            out.append(FieldSpec(key, {"type": sorted(types)}))
    return out


def normalize_fields(fields: Sequence[str | FieldSpec | Mapping[str, Any]]) -> list[FieldSpec]:
    """Accept names, ``FieldSpec`` or ``{"name": ..., "jsonSchema": ...}`` mappings."""
    if isinstance(fields, str):
        raise InvalidInputError("fields must be a list of field names or FieldSpec, not a string")
    out: list[FieldSpec] = []
    for i, f in enumerate(fields):
        if isinstance(f, FieldSpec):
            spec = f
        elif isinstance(f, str):
            spec = FieldSpec(f)
        elif isinstance(f, Mapping) and isinstance(f.get("name"), str):
            schema = f.get("jsonSchema", f.get("json_schema"))
            spec = FieldSpec(f["name"], dict(schema) if isinstance(schema, Mapping) else None)
        else:
            raise InvalidInputError("not a field declaration", position=i, field="fields")
        if not spec.name:
            raise InvalidInputError("a field name must not be empty", position=i, field="fields")
        out.append(spec)
    names = [f.name for f in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidInputError(f"fields declared twice: {', '.join(dupes)}", field="fields")
    if not out:
        raise InvalidInputError("fields must not be empty (pass None to infer them)")
    return out


# --------------------------------------------------------------------------- prepare


def _check_row(index: int, row: object) -> Mapping[str, Any]:
    if not isinstance(row, Mapping):
        raise InvalidInputError(
            f"every row must be an object (dict), got {type(row).__name__}", position=index
        )
    problem = _json.find_non_json(row)
    if problem is not None:
        where, reason = problem
        raise InvalidInputError(f"row is not valid JSON: {reason}", position=index, field=where)
    return row


@attrs.frozen
class Chunk:
    """One inline request: rows ``[start, start + count)``, spool bytes ``[offset, ...)``."""

    start: int
    count: int
    offset: int
    request_bytes: int


@attrs.define
class PreparedRows:
    """Validated rows serialized once (JSON Lines in a spooled temp file) plus their plan.

    Use as a context manager (the spool is deleted on exit).
    """

    fields: list[FieldSpec]
    count: int
    row_bytes: int
    largest_request: int
    chunks: list[Chunk]
    oversize_rows: list[int]
    fingerprint: str
    spool: IO[bytes]
    max_request_bytes: int
    upload_threshold: int

    @property
    def path(self) -> Literal["inline", "upload"]:
        """``upload`` when any row cannot fit a request or the data is above the threshold."""
        if self.oversize_rows or self.row_bytes > self.upload_threshold:
            return "upload"
        return "inline"

    @property
    def upload_size(self) -> int:
        """Bytes of the JSON array streamed on the upload path."""
        return 2 + self.row_bytes + max(self.count - 1, 0)

    def fields_json(self) -> list[dict[str, Any]]:
        return [f.to_json() for f in self.fields]

    def request_prefix(self) -> bytes:
        return _request_prefix(self.fields)

    def chunk_body(self, chunk: Chunk) -> bytes:
        """The exact bytes of one inline request."""
        self.spool.seek(chunk.offset)
        parts = [self.request_prefix()]
        for i in range(chunk.count):
            line = self.spool.readline()
            if i:
                parts.append(b",")
            parts.append(line[:-1])
        parts.append(_SUFFIX)
        body = b"".join(parts)
        assert len(body) == chunk.request_bytes, (len(body), chunk.request_bytes)
        return body

    def iter_upload_body(self, block: int = _READ_CHUNK) -> Iterator[bytes]:
        """The rows as one JSON array, in blocks of about ``block`` bytes."""
        self.spool.seek(0)
        out = bytearray(b"[")
        first = True
        for line in self.spool:
            if not first:
                out += b","
            first = False
            out += line[:-1]
            if len(out) >= block:
                yield bytes(out)
                out.clear()
        out += b"]"
        yield bytes(out)

    def upload_body(self) -> _UploadBody:
        """A re-iterable body (a retry can send it again)."""
        return _UploadBody(self)

    def close(self) -> None:
        self.spool.close()

    def __enter__(self) -> PreparedRows:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _UploadBody:
    def __init__(self, rows: PreparedRows) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[bytes]:
        return self._rows.iter_upload_body()

    async def __aiter__(self) -> Any:
        for block in self._rows.iter_upload_body():
            yield block


_SUFFIX = b"]}"


def _request_prefix(fields: Sequence[FieldSpec]) -> bytes:
    if not fields:
        return b'{"items":['
    return b'{"fields":' + _json.dumps([f.to_json() for f in fields]) + b',"items":['


def prepare_rows(
    rows: object,
    *,
    fields: Sequence[str | FieldSpec | Mapping[str, Any]] | None = None,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    upload_threshold: int = DEFAULT_UPLOAD_THRESHOLD,
    inference_rows: int = DEFAULT_INFERENCE_ROWS,
    spool_memory: int = DEFAULT_SPOOL_MEMORY,
) -> PreparedRows:
    """Validate, serialize once and plan; raise ``InvalidInputError`` before any request.

    Example::

        with prepare_rows([{"url": "https://x/1.jpg"}]) as prepared:
            prepared.path  # "inline"
    """
    source = iter(open_rows(rows))
    declared = normalize_fields(fields) if fields is not None else None
    head: list[Mapping[str, Any]] = []
    index = 0
    if declared is None:
        for raw in source:
            head.append(_check_row(index, raw))
            index += 1
            if len(head) >= max(inference_rows, 1):
                break
        declared = infer_fields(head)
    names = {f.name for f in declared}
    prefix_len = len(_request_prefix(declared))
    overhead = prefix_len + len(_SUFFIX)

    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=spool_memory)  # noqa: SIM115
    digest = hashlib.sha256(_json.dumps([f.to_json() for f in declared]))
    count = 0
    row_bytes = 0
    offset = 0
    chunks: list[Chunk] = []
    oversize: list[int] = []
    cur_start = 0
    cur_count = 0
    cur_offset = 0
    cur_size = overhead

    def rows_iter() -> Iterator[tuple[int, Mapping[str, Any]]]:
        yield from enumerate(head)
        for i, raw in enumerate(source, start=len(head)):
            yield i, _check_row(i, raw)

    try:
        for i, row in rows_iter():
            for key in row:
                if key not in names:
                    raise InvalidInputError(
                        f"key {key!r} is not a declared field "
                        f"(declared: {', '.join(sorted(names))})",
                        position=i,
                        field=key,
                    )
            data = _ENCODER.encode(row if isinstance(row, dict) else dict(row)).encode()
            line = data + b"\n"
            spool.write(line)
            digest.update(line)
            size = len(data)
            if overhead + size > max_request_bytes:
                oversize.append(i)
            # Greedy packing on the exact request size.
            extra = size + (1 if cur_count else 0)
            if cur_count and cur_size + extra > max_request_bytes:
                chunks.append(Chunk(cur_start, cur_count, cur_offset, cur_size))
                cur_start, cur_count, cur_offset, cur_size = i, 0, offset, overhead
                extra = size
            cur_count += 1
            cur_size += extra
            offset += size + 1
            row_bytes += size
            count += 1
        if count == 0:
            raise InvalidInputError("no rows: pass at least one row")
        chunks.append(Chunk(cur_start, cur_count, cur_offset, cur_size))
    except BaseException:
        spool.close()
        raise
    spool.flush()
    return PreparedRows(
        fields=declared,
        count=count,
        row_bytes=row_bytes,
        largest_request=max(c.request_bytes for c in chunks),
        chunks=chunks,
        oversize_rows=oversize,
        fingerprint=digest.hexdigest(),
        spool=spool,
        max_request_bytes=max_request_bytes,
        upload_threshold=upload_threshold,
    )


def iter_result_rows(fh: IO[bytes], fmt: str) -> Iterator[dict[str, Any]]:
    """Rows of a downloaded export (``jsonl``, ``json`` array or ``csv``), streamed."""
    text = io.TextIOWrapper(fh, encoding="utf-8", newline="" if fmt == "csv" else None)
    try:
        if fmt == "csv":
            for row in csv.DictReader(text):
                yield dict(row)
        elif fmt == "json":
            for value in iter_json_array(text, name="export"):
                yield value if isinstance(value, dict) else {"value": value}
        else:
            for line in text:
                if line.strip():
                    value = json.loads(line)
                    yield value if isinstance(value, dict) else {"value": value}
    finally:
        text.detach()
