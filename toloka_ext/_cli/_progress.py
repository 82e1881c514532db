"""Progress bars on stderr: fed by the API's ``on_progress`` callbacks and, for the bytes of
uploads and downloads (which have no callback), by watching the client's own requests.

:class:`WatchingTransport` is an httpx transport (the public ``transport=`` option of
:class:`toloka_ext.Toloka`) that passes every request on unchanged and tells a
:class:`Phases` display what it sees: inline rows sent, bytes streamed to or from presigned
storage. When progress is off (stdout not a terminal, ``--json``, ``--quiet``) nothing is
drawn and the transport is not used.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, cast

import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from .._constants import DEFAULT_CONNECTION_LIMITS
from ..types import CreateProgress, Run

__all__ = ["Phases", "TaskBar", "WatchingTransport"]


def _console() -> Console:
    return Console(stderr=True)


class Phases:
    """Bars for the phases of a v2 flow: ``upload`` (rows or bytes), ``run`` (items),
    ``download`` (bytes). Each bar appears when its phase starts."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Phases:
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description:<9}"),
                BarColumn(),
                TextColumn("{task.fields[amount]}"),
                TextColumn("{task.fields[note]}"),
                TimeElapsedColumn(),
                console=_console(),
                transient=False,
            )
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            if exc_type is None:
                for name in self._tasks:
                    self.finish(name)
            self._progress.stop()
            self._progress = None

    def _task(self, name: str) -> TaskID | None:
        if self._progress is None:
            return None
        if name not in self._tasks:
            self._tasks[name] = self._progress.add_task(name, total=None, amount="", note="")
        return self._tasks[name]

    def update(
        self,
        name: str,
        *,
        completed: float | None = None,
        total: float | None = None,
        amount: str | None = None,
        note: str | None = None,
        done: bool = False,
    ) -> None:
        task = self._task(name)
        if task is None or self._progress is None:
            return
        fields: dict[str, Any] = {}
        if amount is not None:
            fields["amount"] = amount
        if note is not None:
            fields["note"] = note
        if done:
            current = self._progress.tasks[self._tasks[name]]
            final = total if total is not None else current.total or current.completed or 1
            self._progress.update(task, total=final, completed=final, **fields)
            return
        self._progress.update(task, completed=completed, total=total, **fields)

    # -- what the flows report ------------------------------------------------------------
    def rows_sent(self, sent: int) -> None:
        self.update("upload", amount=f"{sent} rows sent")

    def bytes_sent(self, sent: int, total: int | None) -> None:
        self.update("upload", completed=sent, total=total, amount=_amount(sent, total))

    def upload_note(self, note: str) -> None:
        self.update("upload", note=note)

    def run(self, run: Run) -> None:
        """``on_progress`` of ``runs.watch`` / ``process_new_data``."""
        p = run.progress
        note = str(run.status)
        if p is None:
            self.update("run", note=note)
            return
        if p.failed:
            note += f", {p.failed} failed"
        processed = p.completed + p.failed
        self.update("run", completed=processed, total=p.total or None, note=note)
        self.update("run", amount=f"{processed}/{p.total} items")

    def bytes_received(self, received: int, total: int | None) -> None:
        self.update("download", completed=received, total=total, amount=_amount(received, total))

    def download_note(self, note: str) -> None:
        self.update("download", note=note)

    def finish(self, name: str) -> None:
        if name in self._tasks:
            self.update(name, done=True, note="done")


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    value = float(n)
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000 or unit == "GB":
            break
    return f"{value:.1f} {unit}"


def _amount(done: int, total: int | None) -> str:
    return f"{_size(done)}/{_size(total)}" if total else _size(done)


class TaskBar:
    """The bar of ``tasks create``: positions decided (created, failed or unknown) of all."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> TaskBar:
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("tasks"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[note]}"),
                TimeElapsedColumn(),
                console=_console(),
            )
            self._progress.start()
            self._task = self._progress.add_task("tasks", total=self.total or None, note="")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __call__(self, progress: CreateProgress) -> None:
        """``on_progress`` of ``create_tasks``."""
        if self._progress is None or self._task is None:
            return
        decided = progress.created + progress.failed + progress.unknown
        note = f"created {progress.created}"
        if progress.failed:
            note += f", failed {progress.failed}"
        if progress.unknown:
            note += f", unknown {progress.unknown}"
        op = progress.operation
        if op is not None and not op.is_final and op.progress is not None:
            note += f" (operation {op.progress}%)"
        self._progress.update(self._task, completed=decided, note=note)


class _Counting(httpx.SyncByteStream):
    """A byte stream that reports the running total of what went through it."""

    def __init__(
        self,
        inner: Iterable[bytes],
        report: Callable[[int], None],
        end: Callable[[], None] | None = None,
    ) -> None:
        self._inner = inner
        self._report = report
        self._end = end
        self._seen = 0

    def __iter__(self) -> Iterator[bytes]:
        self._seen = 0  # a re-sent request streams from the start again
        for block in self._inner:
            self._seen += len(block)
            self._report(self._seen)
            yield block
        if self._end is not None:
            self._end()

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


class WatchingTransport(httpx.BaseTransport):
    """Passes requests to ``inner`` (a plain HTTP transport) and shows their progress.

    API requests are told apart from presigned storage by the client's base URLs: a PUT to
    storage is the upload's bytes, a GET from storage the download's; a POST of dataset
    items is one inline request of rows.
    """

    def __init__(
        self,
        phases: Phases,
        *,
        api_bases: tuple[str, ...],
        inner: httpx.BaseTransport | None = None,
    ) -> None:
        self._phases = phases
        self._api_bases = api_bases
        self._inner = inner or httpx.HTTPTransport(limits=DEFAULT_CONNECTION_LIMITS)
        self._rows_sent = 0

    def set_api_bases(self, *bases: str) -> None:
        """The API base URLs (known once the client resolved them)."""
        self._api_bases = tuple(bases)

    def _is_api(self, url: str) -> bool:
        return any(url.startswith(base) for base in self._api_bases)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        phases = self._phases
        if not self._is_api(url):
            if request.method in ("PUT", "POST"):
                total = int(request.headers.get("content-length") or 0) or None
                if not isinstance(request.stream, _Counting):  # a re-sent request is wrapped
                    request.stream = _Counting(
                        cast(Iterable[bytes], request.stream),
                        lambda n: phases.bytes_sent(n, total),
                    )
                phases.upload_note("sending")
                response = self._inner.handle_request(request)
                phases.finish("upload")
                return response
            response = self._inner.handle_request(request)
            length = int(response.headers.get("content-length") or 0) or None
            phases.download_note("downloading")
            response.stream = _Counting(
                cast(Iterable[bytes], response.stream),
                lambda n: phases.bytes_received(n, length),
                lambda: phases.finish("download"),
            )
            return response
        self._before_api(request, url)
        return self._inner.handle_request(request)

    def _before_api(self, request: httpx.Request, url: str) -> None:
        path = httpx.URL(url).path
        phases = self._phases
        if request.method == "POST" and path.endswith("/items"):
            try:
                count = len(json.loads(request.content).get("items", []))
            except (ValueError, AttributeError, httpx.RequestNotRead):
                count = 0
            self._rows_sent += count
            phases.rows_sent(self._rows_sent)
        elif "/uploads/" in path:
            phases.upload_note("ingesting")
        elif "/runs" in path and request.method == "POST":
            phases.finish("upload")
            phases.update("run", note="starting")
        elif "/exports" in path:
            phases.finish("run")
            phases.download_note("exporting")

    def close(self) -> None:
        self._inner.close()
