"""How every command reads a file of records: rows (``process``, ``datasets add-items``) and
tasks (``tasks create``) follow one rule, so the same file gets the same answer everywhere.

* a file named ``*.csv`` is CSV with a header line;
* any other file is one JSON array when its first character that is not white space is
  ``[``, else JSON Lines (one JSON value a line; blank lines are skipped).

A file without a single record is refused before anything is sent (exit 2), and so is a
file whose first record cannot be read; a JSON error names the file's line and the column
in it.

For tasks, a CSV file follows the column rules of a DataFrame passed to ``create_tasks``
(:class:`toloka_ext._v1._validation.FrameTasks`): each column is a task field, a column
``input_values.<key>`` fills that key of ``input_values``, and a blank cell leaves its
field out. CSV holds text, so each cell is read as its field's type in the API: ``overlap``
an integer, ``infinite_overlap`` ``true`` or ``false``, ``input_values`` (a whole column),
``known_solutions``, ``baseline_solutions``, ``reserved_for`` and ``unavailable_for`` as
JSON; every other cell, each ``input_values.<key>`` included, is a string (for numbers or
nested values in the input, use a whole ``input_values`` column of JSON, or JSON Lines).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .._exceptions import InvalidInputError
from .._pandas import split_column
from .._v2._rows import CsvFile, JsonArrayFile, JsonLinesFile
from ._exit import CliError

__all__ = ["FORMATS", "Records", "csv_columns", "csv_task", "open_records", "record_reader"]

Records = JsonLinesFile | JsonArrayFile | CsvFile

FORMATS = "a .csv file with a header line, one JSON array, or JSON Lines"
"""What a command reads, for messages and help texts."""

_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
_JSON_FIELDS = frozenset(
    {"input_values", "known_solutions", "baseline_solutions", "reserved_for", "unavailable_for"}
)


def first_char(path: Path) -> str:
    """The first character of ``path`` that is not white space (``""``: none)."""
    with open(path, encoding="utf-8") as fh:
        while block := fh.read(4096):
            stripped = block.lstrip()
            if stripped:
                return stripped[0]
    return ""


def record_reader(path: Path) -> Records:
    """The library's reader for ``path`` by the rule above."""
    if path.suffix.lower() == ".csv":
        return CsvFile(path)
    try:
        opening = first_char(path)
    except UnicodeDecodeError as exc:
        raise CliError(f"{path}: not UTF-8 text ({exc.reason})") from None
    return JsonArrayFile(path) if opening == "[" else JsonLinesFile(path)


def open_records(path: Path, *, what: str) -> Records:
    """``path``'s reader, once its first record has been read: an empty file, or one whose
    first record cannot be read, is refused here, the same way for every command."""
    reader = record_reader(path)
    records = iter(reader)
    try:
        next(records)
    except StopIteration:
        raise CliError(f"{path}: the file holds no {what}") from None
    except UnicodeDecodeError as exc:
        raise CliError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except InvalidInputError as exc:
        if isinstance(reader, JsonLinesFile) and path.suffix.lower() not in _JSON_SUFFIXES:
            # A CSV or TSV file under another name: say how files are told apart.
            raise InvalidInputError(
                f"{exc.reason}; a file not named .csv is read as JSON Lines or one JSON array",
                position=exc.position,
                field=exc.field,
            ) from None
        raise
    finally:
        close = getattr(records, "close", None)
        if close is not None:
            close()
    return reader


def csv_columns(path: Path, names: list[str]) -> None:
    """Refuse a header that names a field both whole and by key, as a DataFrame's would be."""
    paths = [split_column(name) for name in names]
    whole = {top for top, sub in paths if sub is None}
    clash = sorted({top for top, sub in paths if sub is not None and top in whole})
    if clash:
        raise CliError(
            f"{path}: column {clash[0]!r} is given both whole and as {clash[0]}.<key> columns"
        )


def csv_task(path: Path, where: str, row: dict[str, str]) -> dict[str, Any]:
    """One CSV row as a task object (the module docstring's rules)."""
    task: dict[str, Any] = {}
    for name, cell in row.items():
        if cell is None or cell.strip() == "":
            continue  # a blank cell: the field is not given
        top, sub = split_column(name)
        if sub is not None:
            task.setdefault(top, {})[sub] = cell
        elif top in _JSON_FIELDS:
            try:
                task[top] = json.loads(cell)
            except ValueError as exc:
                raise CliError(f"{path}: {where}, column {name}: not JSON ({exc})") from None
        elif top == "overlap":
            try:
                task[top] = int(cell)
            except ValueError:
                raise CliError(
                    f"{path}: {where}, column overlap: {cell!r} is not a whole number"
                ) from None
        elif top == "infinite_overlap":
            flag = cell.strip().lower()
            if flag not in ("true", "false"):
                raise CliError(
                    f"{path}: {where}, column infinite_overlap: {cell!r} is not true or false"
                )
            task[top] = flag == "true"
        else:
            task[top] = cell
    return task
