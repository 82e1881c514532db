"""What commands print: one JSON document (``--json``) or Rich tables for people.

Models become JSON through :func:`jsonable` (attrs fields by name, times in ISO 8601,
statuses as their strings). Presigned URLs are credentials: their query is replaced by
``<signature hidden>`` in every form of output (``exports download`` fetches the file).
"""

from __future__ import annotations

import datetime
import enum
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

import attrs
from rich import box
from rich.console import Console
from rich.table import Table

from ..types import FieldError, TaskCreateResult
from ._exit import flag_wording

__all__ = ["Output", "error_lines", "hide_presigned", "jsonable", "result_document"]

_PRESIGNED_FIELDS = frozenset({"upload_url", "download_url"})


def hide_presigned(url: str | None) -> str | None:
    """``url`` without its query (the signature that makes it a credential)."""
    if url is None:
        return None
    base, sep, _ = url.partition("?")
    return f"{base}?<signature hidden>" if sep else base


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (attrs models, enums, times, paths, ranges)."""
    if attrs.has(type(value)):
        out: dict[str, Any] = {}
        for f in attrs.fields(type(value)):
            item = getattr(value, f.name)
            if f.name == "extra" and not item:
                continue  # fields the snapshot does not know: shown only when there are some
            if f.name in _PRESIGNED_FIELDS and isinstance(item, str):
                item = hide_presigned(item)
            out[f.name] = jsonable(item)
        return out
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, range):
        return [value.start, value.stop]
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _errors(errors: Mapping[str, FieldError]) -> dict[str, Any]:
    return {
        path: {"code": e.code, "message": flag_wording(e.message)} for path, e in errors.items()
    }


def error_lines(result: TaskCreateResult, *, limit: int = 20) -> list[str]:
    """Why tasks were not created, one line a position (the first ``limit`` of them):
    ``  position 1: input_values.image: INVALID_TYPE must be of type string``."""
    lines = []
    for position, errors in sorted(result.errors.items())[:limit]:
        reasons = "; ".join(
            f"{path or 'task'}: {e.code} {flag_wording(e.message)}" for path, e in errors.items()
        )
        lines.append(f"  position {position}: {reasons}")
    if len(result.errors) > limit:
        lines.append(f"  ... and {len(result.errors) - limit} more (--json lists all)")
    return lines


def result_document(result: TaskCreateResult) -> dict[str, Any]:
    """A :class:`TaskCreateResult` by position (JSON object keys are the positions)."""
    return {
        "ok": result.ok,
        "total": result.total,
        "created": len(result.task_ids),
        "failed": len(result.errors),
        "unknown": result.unknown_count,
        "task_ids": {str(p): i for p, i in sorted(result.task_ids.items())},
        "errors": {str(p): _errors(e) for p, e in sorted(result.errors.items())},
        "unknown_positions": [[r.start, r.stop] for r in result.unknown],
        "operations": [op.id for op in result.operations],
    }


def _cell(value: Any) -> str:
    if value is None:
        return ""
    data = jsonable(value)
    if isinstance(data, str):
        return data
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= 80 else text[:77] + "..."


class Output:
    """The channel of one command: stdout for results, stderr for notes, JSON or tables."""

    def __init__(self, *, json_mode: bool, stdout: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.stdout = stdout or sys.stdout
        self.tty = self.stdout.isatty()
        # Not a terminal: no colour, and wide enough that ids are never cut or wrapped.
        self.console = Console(
            file=self.stdout,
            no_color=not self.tty,
            highlight=False,
            width=None if self.tty else 240,
        )

    def document(self, data: Any) -> None:
        """Print one JSON document (the whole ``--json`` output of a command)."""
        self.stdout.write(json.dumps(jsonable(data), indent=2, ensure_ascii=False) + "\n")
        self.stdout.flush()

    def note(self, text: str) -> None:
        """Lines for people on stderr, never wrapped (a command to copy stays whole)."""
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def line(self, text: str) -> None:
        """A line of human output on stdout."""
        self.console.print(text, markup=False, soft_wrap=True)

    def show(self, data: Any, *, human: str | None = None) -> None:
        """One object: JSON, or ``human`` (a summary line), or a field table."""
        if self.json_mode:
            self.document(data)
        elif human is not None:
            self.line(human)
        else:
            self.record(data)

    def record(self, obj: Any) -> None:
        data = jsonable(obj)
        if not isinstance(data, dict):
            self.line(_cell(data))
            return
        table = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for key, value in data.items():
            table.add_row(key, _cell(value))
        self.console.print(table)

    def rows(self, items: Iterable[Any], columns: Sequence[str]) -> None:
        """A list: a JSON array, or a table with ``columns``: attribute names, dotted paths,
        or ``header=path``."""
        listed = list(items)
        if self.json_mode:
            self.document(listed)
            return
        if not listed:
            self.note("(none)")
            return
        table = Table(box=box.SIMPLE, pad_edge=False)
        paths = []
        for column in columns:
            header, _, path = column.partition("=")
            table.add_column(header, overflow="fold")
            paths.append(path or header)
        for item in listed:
            table.add_row(*(_cell(_attr(item, path)) for path in paths))
        self.console.print(table)


def _attr(item: Any, dotted: str) -> Any:
    value = item
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
        if value is None:
            return None
    return value
