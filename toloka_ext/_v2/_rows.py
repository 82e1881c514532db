"""Rows in: sources, validation, field inference, serialization once, greedy packing.

Rows are validated and serialized exactly once, into a spooled temporary file (memory up to
``spool_memory`` bytes, then disk), a batch a line: rows of plain scalars as orjson writes
them (``json``'s bytes, commas between rows), any other with every item separator a newline
(the C encoder's own output); a reader turns each newline into a comma, so memory stays
bounded for any input. While spooling, the inline plan is computed: rows are packed greedily into
requests whose *real* body (``{"fields":[...],"items":[row,row,...]}``) is at most
``max_request_bytes``, until the rows are past the upload threshold. The upload path
streams the same bytes back as one JSON array.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
import itertools
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Literal, cast

import attrs

from .. import _json

# Defined with the other limits so the client's signatures need not import this module.
from .._constants import DEFAULT_UPLOAD_THRESHOLD as DEFAULT_UPLOAD_THRESHOLD
from .._constants import MAX_REQUEST_BYTES as MAX_REQUEST_BYTES
from .._exceptions import InvalidInputError
from .._pandas import DataFrameLike, is_dataframe, iter_frame_rows
from ._models import FieldSpec

__all__ = [
    "CsvFile",
    "FieldsArg",
    "JsonArrayFile",
    "JsonLinesFile",
    "PreparedRows",
    "Rows",
    "infer_fields",
    "iter_json_array",
    "json_line_error",
    "prepare_rows",
]

DEFAULT_SPOOL_MEMORY = 4 * 1024 * 1024
DEFAULT_INFERENCE_ROWS = 100
_READ_CHUNK = 64 * 1024
UPLOAD_BLOCK = 1024 * 1024
"""Bytes per block of the streamed upload body (bounded memory, few write calls)."""


def json_line_error(path: object, lineno: int, exc: json.JSONDecodeError) -> str:
    """``rows.jsonl: line 3 is not valid JSON: Expecting value (column 18)``: the file's
    line, and the column in it (the decoder's own "line 2 column 1" counts inside the one
    line it was given, so it is left out: one line number per error)."""
    column = min(exc.pos, len(exc.doc.rstrip("\r\n"))) + 1  # at the end: past its last character
    return f"{path}: line {lineno} is not valid JSON: {exc.msg} (column {column})"


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
                    raise InvalidInputError(json_line_error(self.path, lineno, exc)) from None


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
    Iterable[Mapping[str, Any]]
    | JsonLinesFile
    | JsonArrayFile
    | CsvFile
    | str
    | os.PathLike[str]
    | DataFrameLike
)
"""What ``add_items``/``process_new_data`` accept: dicts, a .jsonl/.json/.csv path, or a
``pandas.DataFrame`` (one row a row, columns as keys, a missing value as ``null``; see
:mod:`toloka_ext._pandas`)."""

FieldsArg = Sequence[str | FieldSpec | Mapping[str, Any]] | None
"""Field declarations: names, :class:`FieldSpec` or ``{"name", "jsonSchema"}`` mappings."""


class _FrameRows:
    """A DataFrame's rows, converted lazily a block at a time; re-iterable (a journal
    resume reads the rows again)."""

    def __init__(self, frame: DataFrameLike) -> None:
        self.frame = frame

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter_frame_rows(self.frame, drop_missing=False)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InvalidInputError(f"rows file {path} does not exist", field="rows")
    if not path.is_file():
        raise InvalidInputError(f"rows file {path} is not a file", field="rows")


def open_rows(rows: object) -> Iterable[object]:
    """Turn the accepted inputs into an iterable of raw rows (files by suffix)."""
    if isinstance(rows, JsonLinesFile | JsonArrayFile | CsvFile):
        _check_file(rows.path)
        return rows
    if is_dataframe(rows):
        return _FrameRows(cast(DataFrameLike, rows))
    if isinstance(rows, str | os.PathLike):
        path = Path(rows)
        _check_file(path)
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
    """Validated rows serialized once (in a spooled temp file) plus their inline plan
    (``chunks``: empty when the rows are past the upload threshold).

    Use as a context manager (the spool is deleted on exit).
    """

    fields: list[FieldSpec]
    count: int
    row_bytes: int
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

    def plan_digest(self) -> str:
        """Which rows go in which inline request, as a short digest: a resumed job must cut
        the rows where the interrupted one did, or a chunk would be stored twice."""
        digest = hashlib.sha256()
        for chunk in self.chunks:
            digest.update(b"%d:%d;" % (chunk.start, chunk.count))
        return digest.hexdigest()[:16]

    def request_prefix(self) -> bytes:
        return _request_prefix(self.fields)

    def chunk_body(self, chunk: Chunk) -> bytes:
        """The exact bytes of one inline request."""
        self.spool.seek(chunk.offset)
        # The spool's newlines are the separators; JSON text holds no other raw newline.
        span = chunk.request_bytes - len(self.request_prefix()) - len(_SUFFIX)
        rows = self.spool.read(span).replace(b"\n", b",")
        body = self.request_prefix() + rows + _SUFFIX
        assert len(body) == chunk.request_bytes, (len(body), chunk.request_bytes)
        return body

    def iter_upload_body(self, block: int = UPLOAD_BLOCK) -> Iterator[bytes]:
        """The rows as one JSON array, in blocks of about ``block`` bytes.

        The spool (rows, and their members, joined by newlines) is read in big blocks and
        each newline becomes a comma; the final one becomes the closing bracket. No per-row
        work.
        """
        self.spool.seek(0)
        remaining = self.row_bytes + self.count  # rows + one newline each
        first = True
        while remaining > 0:
            data = self.spool.read(min(block, remaining))
            if not data:
                raise RuntimeError("the row spool is shorter than planned")
            remaining -= len(data)
            data = data.replace(b"\n", b",")
            if remaining == 0:
                data = data[:-1] + b"]"
            yield b"[" + data if first else data
            first = False

    def close(self) -> None:
        self.spool.close()

    def __enter__(self) -> PreparedRows:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    if declared is None:
        for raw in source:
            head.append(_check_row(len(head), raw))
            if len(head) >= max(inference_rows, 1):
                break
        declared = infer_fields(head)
    planner = _Planner(declared, max_request_bytes, spool_memory, upload_threshold)
    try:
        planner.add(iter(head), 0, checked=True)
        planner.add(source, len(head), checked=False)
        return planner.finish()
    except BaseException:
        planner.spool.close()
        raise


_DICT_ONLY = {dict}
_FIRST_BATCH_ROWS = 1  # doubles up to _MAX_BATCH_ROWS: a few huge rows are never batched
_MAX_BATCH_ROWS = 8192
_BATCH_CHARS = 2 * 1024 * 1024


# The one encoder of rows, for flat batches and the slow path alike, so a row's bytes (and
# the rows' fingerprint) do not depend on which path took it: strict and UTF-8, with a raw
# newline between items (list elements and object members alike), which JSON text never
# contains anywhere else (strings escape control characters). In a batch of flat rows a
# newline followed by ``{`` therefore starts a row, and one followed by ``"`` the next member
# of the same row. The spool keeps this form: whoever reads it turns every newline into a
# comma (one pass over bytes), so no row is rewritten per member while they are prepared.
# No cycle check: the slow path encodes only what find_non_json accepted, and a batch that
# holds a cycle recurses to RecursionError, which sends it to the slow path.
_SPOOL_ENCODER = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, check_circular=False, separators=("\n", ":")
)
_encode_batch = _SPOOL_ENCODER.encode


def _encode_checked(index: int, raw: object, names: frozenset[str], checked: bool) -> str:
    """The slow path: full validation with a precise error, then encoding."""
    row = cast("Mapping[str, Any]", raw) if checked else _check_row(index, raw)
    _check_keys(index, row, names)
    try:
        return _SPOOL_ENCODER.encode(row if isinstance(row, dict) else dict(row))
    except (TypeError, ValueError, RecursionError) as exc:
        # find_non_json accepted it, but the encoder cannot carry it (e.g. a nested Mapping
        # that is not a dict): still a caller error, never a bare encoder exception.
        raise InvalidInputError(f"row is not valid JSON: {exc}", position=index) from None


def _check_keys(index: int, row: Mapping[str, Any], names: frozenset[str]) -> None:
    for key in row:
        if key not in names:
            raise InvalidInputError(
                f"key {key!r} is not a declared field (declared: {', '.join(sorted(names))})",
                position=index,
                field=key,
            )


def _all_scalar(flat: list[dict[str, Any]]) -> bool:
    return _json.SCALAR_TYPES.issuperset(
        map(type, itertools.chain.from_iterable(map(dict.values, flat)))
    )


class _Planner:
    """Serializes rows in batches into the spool and packs them greedily into requests.

    The fast path takes a run of "flat" rows (a ``dict`` whose keys are declared fields and
    whose values are JSON scalars) and encodes it in one C call; no recursive
    ``find_non_json`` walk is needed, the encoder (``allow_nan=False``) being an exact check
    for such rows. A batch the encoder refuses (NaN, infinity), and every other row, takes
    the slow path row by row, which names the row and field of the problem.

    Once the rows are past ``upload_threshold`` they go by upload whatever follows, so the
    inline plan (each row's size, the packing) is no longer computed: only the count and
    the bytes are.
    """

    def __init__(
        self,
        declared: list[FieldSpec],
        max_request_bytes: int,
        spool_memory: int,
        upload_threshold: int,
    ):
        self.declared = declared
        self.names = frozenset(f.name for f in declared)
        self.max_request_bytes = max_request_bytes
        self.upload_threshold = upload_threshold
        self.overhead = len(_request_prefix(declared)) + len(_SUFFIX)
        self.spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=spool_memory)  # noqa: SIM115
        self.digest = hashlib.sha256(_json.dumps([f.to_json() for f in declared]))
        self.count = 0
        self.row_bytes = 0
        self.offset = 0
        self.planning = True
        self.nested = False  # a batch had nested values: check types before encoding
        self.chunks: list[Chunk] = []
        self.oversize: list[int] = []
        self.cur = (0, 0, 0, self.overhead)  # start, count, offset, size

    def add(self, source: Iterator[object], start: int, *, checked: bool) -> None:
        """Take rows in batches; a batch of flat rows is checked and encoded with no per-row
        Python code. The batch size adapts so one batch stays near ``_BATCH_CHARS``."""
        names = self.names
        index = start
        size = _FIRST_BATCH_ROWS
        while batch := list(itertools.islice(source, size)):
            flat = cast("list[dict[str, Any]]", batch)  # checked just below
            chars = None
            if set(map(type, batch)) == _DICT_ONLY and names.issuperset(
                itertools.chain.from_iterable(flat)
            ):
                chars = self._try_flat(flat, index, checked)
            if chars is None:
                chars = self._add_mixed(batch, index, checked)
            index += len(batch)
            # Aim for about _BATCH_CHARS of JSON a batch: bounded memory for any row size.
            per_row = max(chars // len(batch), 1)
            size = max(1, min(_MAX_BATCH_ROWS, _BATCH_CHARS // per_row, size * 2))

    def _try_flat(self, flat: list[dict[str, Any]], first: int, checked: bool) -> int | None:
        """Place a batch of dicts with declared keys if every value is a scalar (else None).

        The usual batch is encoded first and proven flat from its text: every row opens
        one ``{`` and a nested value would add a ``{`` or a ``[`` outside any string, so a
        text holding exactly one ``{`` a row and no ``[`` has no nested value (two C scans
        instead of a type per value). A string holding a bracket only sends the batch to
        the type check; once a batch had nested values, the types are checked first.
        """
        if not self.nested and _json.plain_records(flat, nested=False):
            placed = self._place_plain(flat, first)
            if placed is not None:
                return placed
        body = None
        if not self.nested:
            try:
                body = _encode_batch(flat)[1:-1]
            except (TypeError, ValueError, RecursionError):
                pass  # NaN, an object JSON cannot carry, a cycle: the checks below decide
            if body is not None and body.count("{") == len(flat) and "[" not in body:
                self._place_flat(body, first, len(flat))
                return len(body)
        if not _all_scalar(flat):
            self.nested = True
            return None
        if body is None:  # NaN or infinity (named row by row), or types checked first
            return self._flush(flat, first, checked)
        self._place_flat(body, first, len(flat))  # flat: a string held a bracket
        return len(body)

    def _place_plain(self, flat: list[dict[str, Any]], first: int) -> int | None:
        """Place a batch of plain scalar rows encoded by orjson, to ``json``'s bytes with
        commas between rows and members (``None``: orjson refused one, e.g. an int beyond
        64 bits). While the plan needs each row's size, each row is also encoded alone and
        only its length kept (orjson's bytes of a small row hold a buffer of about 4 KiB:
        a batch of them kept would cost 30 MiB)."""
        try:
            data = _json.dumps_plain(flat)[1:-1]
            sizes = list(map(len, map(_json.dumps_plain, flat))) if self.planning else None
        except TypeError:
            return None
        if sizes is not None:
            self._place(first, data, sizes, commas=True)
        else:
            self._append(data, len(flat), commas=True)
        return len(data)

    def _add_mixed(self, batch: list[object], first: int, checked: bool) -> int:
        names = self.names
        scalar = _json.SCALAR_TYPES.issuperset
        chars = 0
        flat: list[dict[str, Any]] = []
        for index, raw in enumerate(batch, start=first):
            if type(raw) is dict and raw.keys() <= names and scalar(map(type, raw.values())):
                flat.append(raw)
                continue
            if flat:
                chars += self._flush(flat, index - len(flat), checked)
                flat = []
            text = _encode_checked(index, raw, names, checked)
            self._place_one(index, text)
            chars += len(text)
        if flat:
            chars += self._flush(flat, first + len(batch) - len(flat), checked)
        return chars

    def _flush(self, flat: list[dict[str, Any]], first: int, checked: bool) -> int:
        """Encode a run of flat rows in one call; return the characters written."""
        try:
            body = _encode_batch(flat)[1:-1]
        except ValueError:
            chars = 0
            for i, raw in enumerate(flat, start=first):
                text = _encode_checked(i, raw, self.names, checked)
                self._place_one(i, text)
                chars += len(text)
            return chars
        self._place_flat(body, first, len(flat))
        return len(body)

    def _place_flat(self, body: str, first: int, count: int) -> None:
        """Place a run of flat rows encoded by ``_encode_batch`` (outer brackets cut)."""
        data = body.encode()
        if not self.planning:
            self._append(data, count)
            return
        pieces = body.split("\n{")  # a newline then "{" starts a row (see _SPOOL_ENCODER)
        if len(data) == len(body):  # ASCII: characters are bytes
            sizes = [len(p) + 1 for p in pieces]
        else:
            sizes = [len(p.encode()) + 1 for p in pieces]
        sizes[0] -= 1  # the first piece kept its "{"
        self._place(first, data, sizes)

    def _place_one(self, index: int, text: str) -> None:
        data = text.encode()
        if self.planning:
            self._place(index, data, [len(data)])
        else:
            self._append(data, 1)

    def _append(self, data: bytes, count: int, *, commas: bool = False) -> None:
        """Spool ``count`` rows, unplanned: ``data`` is the rows with a newline between two
        (and, inside a flat row, between members), or with a comma (``commas``: orjson's
        form, which holds no raw newline); the newline after the last is added.

        The fingerprint is of the rows as sent, every separator a comma: the same rows give
        the same fingerprint whichever encoder wrote them, in whatever batches."""
        self.spool.write(data)
        self.spool.write(b"\n")
        self.digest.update(data if commas else data.replace(b"\n", b","))
        self.digest.update(b",")
        self.offset += len(data) + 1
        self.row_bytes += len(data) + 1 - count  # all but the count - 1 newlines between rows
        self.count += count

    def _place(self, first: int, data: bytes, sizes: list[int], *, commas: bool = False) -> None:
        """Append rows (``data``: the rows, a newline or, with ``commas``, a comma between
        two) and plan them into requests; ``sizes`` are the rows' bytes."""
        offset = self.offset
        self._append(data, len(sizes), commas=commas)
        # Greedy packing on the exact request size, a run of rows at a time: cum[k] is the
        # spool length of rows [0, k) (each row plus its newline, which becomes a comma).
        max_bytes = self.max_request_bytes
        overhead = self.overhead
        if overhead + max(sizes) > max_bytes:
            self.oversize.extend(first + i for i, n in enumerate(sizes) if overhead + n > max_bytes)
        cum = list(itertools.accumulate(map((1).__add__, sizes), initial=0))
        cur_start, cur_count, cur_offset, cur_size = self.cur
        j, n = 0, len(sizes)
        while j < n:
            base = cur_size if cur_count else overhead - 1  # a chunk's first row has no comma
            k = bisect.bisect_right(cum, max_bytes - base + cum[j], lo=j) - 1
            if k <= j and not cur_count:
                k = j + 1  # a row too big for any request still gets a chunk of its own
            if k > j:
                if not cur_count:
                    cur_start, cur_offset = first + j, offset + cum[j]
                cur_count += k - j
                cur_size = base + cum[k] - cum[j]
                j = k
            if j < n:  # row j does not fit: close the chunk
                self.chunks.append(Chunk(cur_start, cur_count, cur_offset, cur_size))
                cur_count, cur_size = 0, overhead
        self.cur = (cur_start, cur_count, cur_offset, cur_size)
        if self.row_bytes > self.upload_threshold:
            # The rows go by upload whatever follows: the inline plan is moot from here.
            self.planning = False
            self.chunks = []
            self.oversize = []

    def finish(self) -> PreparedRows:
        if self.count == 0:
            raise InvalidInputError("no rows: pass at least one row")
        if self.planning:
            cur_start, cur_count, cur_offset, cur_size = self.cur
            self.chunks.append(Chunk(cur_start, cur_count, cur_offset, cur_size))
        self.spool.flush()
        return PreparedRows(
            fields=self.declared,
            count=self.count,
            row_bytes=self.row_bytes,
            chunks=self.chunks,
            oversize_rows=self.oversize,
            fingerprint=self.digest.hexdigest(),
            spool=self.spool,
            max_request_bytes=self.max_request_bytes,
            upload_threshold=self.upload_threshold,
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
