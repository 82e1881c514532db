"""Results out: atomic downloads and streamed result rows.

A download goes to a temporary file in the target's directory, is ``fsync``ed, then renamed
over the final name with ``os.replace``: a crash never leaves a partial file under the final
name. Result files are read row by row (JSON Lines, JSON array or CSV), never whole.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .._exceptions import InvalidInputError
from .._pandas import records_frame
from ._models import Export
from ._rows import iter_result_rows

if TYPE_CHECKING:
    import pandas  # type: ignore[import-untyped]
else:  # `pandas.DataFrame` in signatures resolves at run time without importing pandas early
    from .._pandas import pandas_on_demand as pandas

__all__ = ["AtomicFile", "export_format", "read_result_rows", "result_frame"]


class AtomicFile:
    """Write to ``<dir>/.<name>.<random>.part``; ``commit()`` fsyncs and renames into place.

    Open it before the request whose answer it keeps: a path that is a directory, or a
    directory that cannot be written, then fails before anything is asked of the API.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        if Path(path).is_dir():
            raise InvalidInputError(
                f"path {os.fspath(path)!r} is a directory: give the file to write", field="path"
            )
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent
        )
        self.tmp_path = Path(tmp)
        self.fh: IO[bytes] = os.fdopen(fd, "wb")

    def write(self, data: bytes) -> None:
        self.fh.write(data)

    def commit(self) -> Path:
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()
        os.replace(self.tmp_path, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return self.path

    def abort(self) -> None:
        if not self.fh.closed:
            self.fh.close()
        self.tmp_path.unlink(missing_ok=True)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is not None or not self.fh.closed:
            self.abort()


def export_format(export: Export) -> str:
    """``jsonl`` (the default), ``json`` or ``csv``: from the export, else the URL's suffix."""
    if export.format is not None and export.format.is_known:
        return str(export.format)
    url = (export.download_url or "").split("?", 1)[0].lower()
    for fmt in ("jsonl", "json", "csv"):
        if url.endswith("." + fmt):
            return fmt
    return "jsonl"


def read_result_rows(
    path: str | os.PathLike[str], fmt: str | None = None
) -> Iterator[dict[str, Any]]:
    """Iterate the rows of a downloaded result file without loading it whole."""
    p = Path(path)
    if fmt is None:
        suffix = p.suffix.lower().lstrip(".")
        fmt = suffix if suffix in ("jsonl", "json", "csv") else "jsonl"
    with open(p, "rb") as fh:
        yield from iter_result_rows(fh, fmt)


def result_frame(path: str | os.PathLike[str], fmt: str | None = None) -> pandas.DataFrame:
    """A downloaded result file as a DataFrame: the same rows as :func:`read_result_rows`
    (so CSV values stay strings), one column per key in order of first appearance."""
    return records_frame(read_result_rows(path, fmt), what="to_pandas()")
