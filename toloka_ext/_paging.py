"""Paging that advances or says why not: the checks behind every auto-paging list (no I/O).

The paginators (``toloka_ext/_async/_pagination.py``) fetch; these functions decide where
the next page starts and refuse, with :class:`~toloka_ext.ApiDriftError`, every answer
that would otherwise loop for ever or end a list short without a word:

Pipeline API (``limit``/``offset``, ``pagination.total``):

* a page that repeats the one before (the server ignores ``offset``), or that says it
  starts elsewhere than asked (``pagination.offset``);
* ``pagination`` there on one page and gone on the next;
* an answer without ``pagination`` that carries keys the snapshot does not know (another
  paging scheme, e.g. ``nextPageToken``): its short pages cannot be told from the end;
* an empty page before ``pagination.total`` items were seen (fewer items than the server
  said).

Without ``pagination`` a short page proves nothing (a server may serve fewer than asked),
so the walk goes on until an empty page.

API v1 (keyset: ``id_gt``/``id_lt`` and ``has_more``): a page that holds the id it was
asked to start after, a last id seen before, or ``has_more`` with no items.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._exceptions import ApiDriftError
from ._v1._models import SNAPSHOT_VERSION as V1_SNAPSHOT_VERSION

if TYPE_CHECKING:  # v1 pages must not load the v2 layer (and the generated models)
    from ._v2._adapter import PageData

__all__ = ["check_advance", "check_echo", "check_keyset_page", "next_offset"]

_PAGING_FIELD = "pagination"


def _drift(operation: str, field: str, detail: str, version: str | None = None) -> ApiDriftError:
    if version is None:  # a v2 page's drift: the snapshot's version, loaded with v2 use
        from ._v2._adapter import SNAPSHOT_VERSION

        version = SNAPSHOT_VERSION
    return ApiDriftError(
        operation=operation or "list", field=field, snapshot_version=version, detail=detail
    )


def next_offset(data: PageData, *, offset: int) -> int | None:
    """The offset of the page after ``data`` (asked at ``offset``); ``None`` after the last.

    Raises:
        ApiDriftError: the answer pages some other way, or ends before the total it gave.
    """
    if data.total is None and data.unknown_keys:
        keys = ", ".join(data.unknown_keys)
        raise _drift(
            data.operation,
            _PAGING_FIELD,
            f"the list answer has no {_PAGING_FIELD} but carries {keys}, which the snapshot "
            "does not describe: the server pages some other way, so a short page cannot be "
            "told from the end of the list",
        )
    if not data.items:
        if data.total is not None and offset < data.total:
            raise _drift(
                data.operation,
                f"{_PAGING_FIELD}.total",
                f"an empty page at offset {offset}, though the server says the list holds "
                f"{data.total} items: fewer items than it said",
            )
        return None
    following = offset + len(data.items)
    if data.total is not None:
        return following if following < data.total else None
    return following  # no total: a short page may be a capped one; an empty page ends it


def _ids(items: Sequence[object]) -> list[object]:
    return [getattr(item, "id", None) for item in items]


def check_echo(data: PageData, *, offset: int) -> None:
    """Raise :class:`ApiDriftError` if the server says ``data`` starts elsewhere than asked."""
    if data.echoed_offset is not None and data.echoed_offset != offset:
        raise _drift(
            data.operation,
            f"{_PAGING_FIELD}.offset",
            f"asked for offset {offset}, the server answered the page at offset "
            f"{data.echoed_offset}: it does not page by offset",
        )


def check_advance(previous: PageData, data: PageData, *, previous_offset: int, offset: int) -> None:
    """Raise :class:`ApiDriftError` if ``data`` (asked at ``offset``) does not move on from
    ``previous`` (asked at ``previous_offset``)."""
    op = data.operation or previous.operation
    check_echo(data, offset=offset)
    if previous.total is not None and data.total is None:
        raise _drift(
            op,
            _PAGING_FIELD,
            f"the page at offset {previous_offset} had {_PAGING_FIELD}.total, the page at "
            f"offset {offset} has none: the paging fields went away mid-list",
        )
    ids, before = _ids(data.items), set(_ids(previous.items))
    if ids and None not in ids and set(ids) <= before:
        raise _drift(
            op,
            "offset",
            f"the page at offset {offset} repeats items of the page at offset "
            f"{previous_offset} ({ids[0]!r}...): the server ignores offset",
        )


def check_keyset_page(
    operation: str,
    param: str,
    after: str | None,
    keys: Sequence[str],
    has_more: bool,
    seen: set[str],
) -> None:
    """Raise :class:`ApiDriftError` unless a v1 page (the ids ``keys`` of its items, asked
    with ``param`` = ``after``) moves on; ``seen`` holds the last ids of the pages before
    (updated)."""
    if after is not None and after in keys:
        raise _drift(
            operation,
            param,
            f"the page asked after id {after!r} holds that id again: the server ignores the "
            "keyset parameter",
            V1_SNAPSHOT_VERSION,
        )
    if has_more and not keys:
        raise _drift(
            operation,
            "has_more",
            "has_more is true but the page holds no items: there is nothing to page on from",
            V1_SNAPSHOT_VERSION,
        )
    if keys:
        last = keys[-1]
        if last in seen:
            raise _drift(
                operation,
                "items",
                f"the page ends with id {last!r}, the end of an earlier page: the list "
                "does not advance",
                V1_SNAPSHOT_VERSION,
            )
        seen.add(last)
