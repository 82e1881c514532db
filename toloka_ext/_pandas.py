"""pandas glue: a DataFrame in wherever rows or tasks go, a DataFrame out of results.

Pure (no I/O) and lazy: this module never imports pandas on its own. A DataFrame is
recognised only if pandas is already in ``sys.modules`` (a caller holding one has imported
it), and ``to_pandas()`` imports pandas when called, with the hint
``pip install 'toloka-ext[pandas]'`` if it is missing.

A frame is converted a block of rows at a time (never all rows into dicts at once), one
column at a time: numeric and boolean columns in one ``tolist()`` call, the others value by
value. Each row becomes one dict of JSON values, keyed by column name (the index is not sent:
``df.reset_index()`` makes it a column):

* numpy and pandas scalars become Python ones; datetimes (``Timestamp``, ``datetime64``,
  ``datetime``/``date``/``time``) become ISO 8601 strings; lists, tuples, arrays and dicts in
  cells are converted recursively (dict keys must be strings);
* a missing value (``NaN``, ``None``, ``NaT``, ``pd.NA``) in a cell is ``null`` in v2 rows
  (every row keeps every column) and is left out of a v1 task (so a gap in ``overlap`` means
  "not given"); inside a cell's list or dict it is always ``null``;
* anything else (infinities, ``Timedelta``, ``Decimal``, bytes, arbitrary objects) raises
  :class:`~toloka_ext.InvalidInputError` naming the column (``field``), the row (``position``,
  0-based) and its index label.
"""

from __future__ import annotations

import datetime
import importlib
import itertools
import math
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ._exceptions import InvalidInputError

if TYPE_CHECKING:
    import pandas  # type: ignore[import-untyped]

__all__ = [
    "INSTALL_HINT",
    "DataFrameLike",
    "is_dataframe",
    "iter_frame_rows",
    "pandas_on_demand",
    "records_frame",
    "require_pandas",
    "split_column",
]

INSTALL_HINT = "pip install 'toloka-ext[pandas]'"
CHUNK_ROWS = 4096
"""Rows converted at a time: bounded memory for any frame, few pandas calls per row."""


class DataFrameLike(Protocol):
    """What a ``pandas.DataFrame`` is to the type checker here (no pandas import needed)."""

    @property
    def columns(self) -> Any: ...

    @property
    def iloc(self) -> Any: ...

    def __len__(self) -> int: ...


def is_dataframe(obj: object) -> bool:
    """Whether ``obj`` is a ``pandas.DataFrame``, without importing pandas."""
    pd = sys.modules.get("pandas")
    frame_type = getattr(pd, "DataFrame", None)
    return isinstance(frame_type, type) and isinstance(obj, frame_type)


def require_pandas(what: str) -> Any:
    """The pandas module, imported now; a clear ``ModuleNotFoundError`` if it is missing."""
    try:
        return importlib.import_module("pandas")
    except ImportError:
        raise ModuleNotFoundError(f"{what} needs pandas: {INSTALL_HINT}", name="pandas") from None


class _PandasOnDemand:
    """Stands for the ``pandas`` module in annotations evaluated at run time
    (``typing.get_type_hints``): imports it at the first attribute read, never before."""

    def __getattr__(self, name: str) -> Any:
        return getattr(require_pandas("a pandas type hint"), name)

    def __repr__(self) -> str:
        return "<pandas, imported on first use>"


pandas_on_demand: Any = _PandasOnDemand()
"""Modules whose signatures say ``pandas.DataFrame`` bind ``pandas`` to this at run time
(the type checker sees the real module), so importing them does not import pandas."""


def records_frame(records: Iterable[Mapping[str, Any]], *, what: str) -> pandas.DataFrame:
    """A DataFrame from dicts, read one at a time (columns in order of first appearance)."""
    pd = require_pandas(what)
    return pd.DataFrame.from_records(iter(records))


# --------------------------------------------------------------------------- rows in


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""A missing top-level cell, before the caller decides between ``null`` and leaving it out."""


class _Unsendable(Exception):
    """A value JSON cannot carry: ``reason`` and the path inside the cell (``[2].x``)."""

    def __init__(self, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path


class _UnsendableAt(Exception):
    """An :class:`_Unsendable` in row ``row`` of a block."""

    def __init__(self, row: int, cause: _Unsendable) -> None:
        super().__init__(cause.reason)
        self.row = row
        self.cause = cause


def _column_names(frame: DataFrameLike) -> list[str]:
    names: list[str] = []
    for i, name in enumerate(frame.columns):
        if not isinstance(name, str):
            raise InvalidInputError(
                f"DataFrame column names must be strings, column {i} is {name!r}: rename it "
                "(e.g. df.columns = df.columns.map(str))"
            )
        names.append(str(name))
    if not names:
        raise InvalidInputError("the DataFrame has no columns")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InvalidInputError(f"DataFrame columns given twice: {', '.join(dupes)}")
    return names


class _Converter:
    """Turns cells into JSON values; built once per frame (module lookups done once)."""

    def __init__(self) -> None:
        self.np: Any = importlib.import_module("numpy")
        pd: Any = sys.modules["pandas"]
        self.na = (pd.NA, pd.NaT)

    def column(self, series: Any, gap: Any) -> tuple[list[Any], bool]:
        """One column of a block as JSON values, ``gap`` for missing ones; and whether any
        was missing."""
        np = self.np
        dtype = series.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iub":
            return list(series.tolist()), False  # Python ints and bools; numpy has no gaps
        if isinstance(dtype, np.dtype) and dtype.kind == "f":
            array = series.to_numpy()
            gaps = np.isnan(array)
            infinite = np.isinf(array)
            if infinite.any():
                row = int(np.argmax(infinite))
                number = float(array[row])
                raise _UnsendableAt(row, _Unsendable(f"{number!r} is not a valid JSON number"))
            values = list(series.tolist())
            missing = bool(gaps.any())
            if missing:
                for row in np.flatnonzero(gaps).tolist():
                    values[row] = gap
            return values, missing
        out: list[Any] = []
        value = self.value
        missing = False
        for row, cell in enumerate(series.tolist()):
            try:
                converted = value(cell, top=True)
            except _Unsendable as exc:
                raise _UnsendableAt(row, exc) from None
            except RecursionError:
                raise _UnsendableAt(row, _Unsendable("nested too deeply")) from None
            if converted is MISSING:
                missing = True
                converted = gap
            out.append(converted)
        return out, missing

    def value(self, cell: Any, *, top: bool = False) -> Any:
        kind = type(cell)
        if kind is str or kind is int or kind is bool:
            return cell
        if kind is float:
            if math.isfinite(cell):
                return cell
            if cell != cell:  # NaN
                return MISSING if top else None
            raise _Unsendable(f"{cell!r} is not a valid JSON number")
        if cell is None or cell is self.na[0] or cell is self.na[1]:
            return MISSING if top else None
        np = self.np
        if isinstance(cell, str):
            return str(cell)
        if isinstance(cell, np.generic):
            if isinstance(cell, np.datetime64 | np.timedelta64) and np.isnat(cell):
                return MISSING if top else None
            if isinstance(cell, np.datetime64):
                return sys.modules["pandas"].Timestamp(cell).isoformat()
            if isinstance(cell, np.bool_ | np.integer | np.floating | np.str_):
                return self.value(cell.item(), top=top)
            raise _Unsendable(f"{type(cell).__name__} values cannot be sent as JSON")
        if isinstance(cell, bool):
            return bool(cell)
        if isinstance(cell, int):
            return int(cell)
        if isinstance(cell, float):
            return self.value(float(cell), top=top)
        if isinstance(cell, datetime.datetime | datetime.date | datetime.time):
            return cell.isoformat()
        if isinstance(cell, Mapping):
            return self._mapping(cell)
        if isinstance(cell, list | tuple):
            return self._items(cell)
        if isinstance(cell, np.ndarray):
            return self._items(cell.tolist())
        raise _Unsendable(f"{type(cell).__name__} values cannot be sent as JSON")

    def _mapping(self, cell: Mapping[Any, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in cell.items():
            if not isinstance(key, str):
                raise _Unsendable(f"mapping key {key!r} is not a string")
            try:
                out[str(key)] = self.value(item)
            except _Unsendable as exc:
                raise _Unsendable(exc.reason, f".{key}{exc.path}") from None
        return out

    def _items(self, cell: Sequence[Any]) -> list[Any]:
        out: list[Any] = []
        for i, item in enumerate(cell):
            try:
                out.append(self.value(item))
            except _Unsendable as exc:
                raise _Unsendable(exc.reason, f"[{i}]{exc.path}") from None
        return out


def _label_note(index: Any, row: int, position: int) -> str:
    try:
        label = index[row : row + 1].tolist()[0]  # a Python value, not a numpy scalar
        same = bool(label == position)
    except Exception:  # an exotic index: the position alone still names the row
        return ""
    return "" if same else f", index label {label!r}"


def iter_frame_rows(
    frame: DataFrameLike,
    *,
    drop_missing: bool,
    nest_dotted: bool = False,
    first: int = 0,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[dict[str, Any]]:
    """The rows of ``frame`` as dicts of JSON values, converted ``chunk_rows`` at a time.

    ``drop_missing``: leave a missing cell out of its row (v1 tasks) instead of ``null``.
    ``nest_dotted``: a column ``a.b`` sets key ``b`` of the dict under ``a`` (v1:
    ``input_values.url``); split at the first dot. ``first`` is the position of the
    frame's first row in the caller's input (for error messages).

    Example::

        list(iter_frame_rows(pd.DataFrame({"n": [1.5, None]}), drop_missing=False))
        # [{"n": 1.5}, {"n": None}]
    """
    names = _column_names(frame)
    paths = [split_column(name) if nest_dotted else (name, None) for name in names]
    if nest_dotted:
        tops = {top for top, sub in paths if sub is None}
        clash = sorted({top for top, sub in paths if sub is not None and top in tops})
        if clash:
            raise InvalidInputError(
                f"column {clash[0]!r} is given both whole and as {clash[0]}.<key> columns",
                field=clash[0],
            )
    convert = _Converter()
    gap = MISSING if drop_missing else None
    total = len(frame)
    for start in range(0, total, chunk_rows):
        block = frame.iloc[start : start + chunk_rows]
        columns: list[list[Any]] = []
        gaps = False
        for j, name in enumerate(names):
            try:
                values, missing = convert.column(block.iloc[:, j], gap)
            except _UnsendableAt as exc:
                position = first + start + exc.row
                note = _label_note(block.index, exc.row, position)
                raise InvalidInputError(
                    f"column {name!r}, row {position}{note}: {exc.cause.reason}",
                    position=position,
                    field=name + exc.cause.path,
                ) from None
            columns.append(values)
            gaps = gaps or missing
        if not nest_dotted:
            if gaps and drop_missing:
                for cells in zip(*columns, strict=True):
                    yield {k: v for k, v in zip(names, cells, strict=True) if v is not MISSING}
            else:  # the common case: one dict(zip()) a row, no per-cell Python code
                yield from map(dict, map(zip, itertools.repeat(names), zip(*columns, strict=True)))
            continue
        for cells in zip(*columns, strict=True):
            row: dict[str, Any] = {}
            for (top, sub), v in zip(paths, cells, strict=True):
                if v is MISSING:
                    continue  # only drop_missing leaves MISSING in the cells
                if sub is None:
                    row[top] = v
                else:
                    row.setdefault(top, {})[sub] = v
            yield row


def split_column(name: str) -> tuple[str, str | None]:
    """``("input_values", "image")`` for a column ``input_values.image``, ``(name, None)``
    for one without a dot in it (split at the first dot; the command line's CSV reader of
    tasks uses the same rule)."""
    top, dot, sub = name.partition(".")
    return (top, sub) if dot and top and sub else (name, None)
