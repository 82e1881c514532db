"""Progress bars for long calls (``progress=True``): Rich on stderr, silent by default.

The one progress display of the package: the library's calls draw it, and the command
line draws nothing of its own (it passes ``progress=`` on). A call builds one
:class:`ProgressBars` and reports into named stages ("tasks", "operation", "upload", "run",
"download"); each bar shows how far (``done/total``, or bytes), a note (what is happening,
or what was decided), the time elapsed and, while a bar with a total moves, the time left
at its pace so far ("eta 0:01:20"). Rich is imported only when a bar is asked for;
without it the call fails before doing anything, naming the extra to install. No I/O but
the terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._exceptions import InvalidInputError

if TYPE_CHECKING:
    from ._v1._models import CreateProgress, Operation
    from ._v2._models import Run

__all__ = ["ProgressBars", "bars", "operation_bar", "run_bar", "size", "tasks_bar"]


class ProgressBars:
    """One Rich progress display with a bar per stage; a no-op when ``enabled`` is false.

    A stage's note is either what it is doing ("sending", "exporting": :meth:`note`) or
    what came of it ("created 8, failed 2", a run's status). A bar appears when its stage is
    first reported; when the display closes after a success each stage is finished
    (:meth:`finish`); after an error bars stay as they were, which is what a person reading
    the terminal needs to see.
    """

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._stages: dict[str, Any] = {}
        self._doing: set[str] = set()  # stages whose note says what is being done
        if not enabled:
            return
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )
        except ImportError:
            raise InvalidInputError(
                "progress=True needs Rich: pip install 'toloka-ext[cli]'", field="progress"
            ) from None
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<9}"),
            BarColumn(),
            TextColumn("{task.fields[amount]}"),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            _time_left_column(),
            console=Console(file=sys.stderr),
            transient=False,
        )
        self._progress.start()
        self._operation: str | None = None  # the operation the "operation" bar shows

    def _stage(self, stage: str) -> Any:
        task = self._stages.get(stage)
        if task is None:
            task = self._stages[stage] = self._progress.add_task(
                stage, total=None, amount="", note=""
            )
        return task

    def update(
        self,
        stage: str,
        completed: int | None = None,
        total: int | None = None,
        *,
        amount: str | None = None,
        note: str | None = None,
        doing: str | None = None,
    ) -> None:
        """Show ``completed`` of ``total`` for ``stage`` (``None`` leaves it), with an
        ``amount`` text (default ``completed/total``) and a note: ``note`` what came of it,
        or ``doing`` what it is doing now (which :meth:`finish` turns into "done"); a new
        stage adds a bar."""
        if self._progress is None:
            return
        fields: dict[str, Any] = {}
        if amount is None and completed is not None:
            amount = f"{completed}/{total}" if total else f"{completed}"
        if amount is not None:
            fields["amount"] = amount
        if doing is not None:
            fields["note"] = doing
            self._doing.add(stage)
        elif note is not None:
            fields["note"] = note
            self._doing.discard(stage)
        self._progress.update(self._stage(stage), completed=completed, total=total, **fields)

    def note(self, stage: str, doing: str) -> None:
        """Say what ``stage`` is doing now ("sending", "ingesting", "exporting", ...)."""
        self.update(stage, doing=doing)

    def bytes(self, stage: str, done: int, total: int | None, *, doing: str) -> None:
        """``done`` bytes of ``total`` (if known) for ``stage``: an upload or a download."""
        amount = f"{size(done)}/{size(total)}" if total else size(done)
        self.update(stage, done, total, amount=amount, doing=doing)

    def finish(self, stage: str) -> None:
        """``stage`` is over: a note of what was being done is now "done", and a bar of an
        unknown total (a stream without a length) ends full. A known total keeps its count:
        the amount shown is what was done, never rounded up."""
        if self._progress is None or stage not in self._stages:
            return
        task = self._stages[stage]
        current = self._progress.tasks[task]
        fields: dict[str, Any] = {"note": "done"} if stage in self._doing else {}
        if current.total is None:
            fields.update(total=current.completed or 1, completed=current.completed or 1)
        self._doing.discard(stage)
        self._progress.update(task, **fields)

    def tasks(self, progress: CreateProgress, total: int | None) -> None:
        """``create_tasks``: positions decided of ``total``, and how they were decided."""
        note = f"created {progress.created}"
        if progress.failed:
            note += f", failed {progress.failed}"
        if progress.unknown:
            note += f", unknown {progress.unknown}"
        decided = progress.created + progress.failed + progress.unknown
        self.update("tasks", decided, total, note=note)
        if progress.operation is not None:
            # Async mode: the operation being polled has a bar of its own, which moves with
            # each poll (the tasks bar moves when an operation's tasks are decided).
            self.operation(progress.operation, chunk=progress.chunks_done)

    def operation(self, op: Operation, *, chunk: int | None = None) -> None:
        """A v1 operation's polls: percent done, and its status (for ``create_tasks``,
        which of its operations: ``chunk``, counted from 1). Each poll is drawn at once: a
        poll is seconds apart, and a state the display skipped would look like no move."""
        if self._progress is None:
            return
        if op.id != self._operation and "operation" in self._stages:
            self._progress.reset(self._stages["operation"])  # a new one: its own pace
        self._operation = op.id
        percent = 100 if op.succeeded else (op.progress or 0)
        note = str(op.status).lower() + (f" (chunk {chunk})" if chunk else "")
        self.update("operation", percent, 100, amount=f"{percent}%", note=note)
        self._progress.refresh()

    def run(self, run: Run) -> None:
        """A v2 run's polls: items processed (completed or failed) of total, and its status."""
        note = str(run.status)
        p = run.progress
        if p is None:
            self.note("run", note)
            return
        if p.failed:
            note += f", {p.failed} failed"
        processed = p.completed + p.failed
        self.update(
            "run", processed, p.total or None, amount=f"{processed}/{p.total} items", note=note
        )

    def close(self, *, success: bool = True) -> None:
        """Stop drawing; after a success every bar ends full and "done"."""
        if self._progress is None:
            return
        if success:
            for stage in self._stages:
                self.finish(stage)
        self._progress.stop()
        self._progress = None

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(success=exc_type is None)


def _time_left_column() -> Any:
    """A column with the time left at the pace so far: ``eta 0:01:20`` while a bar with a
    total moves, ``eta -:--:--`` before the pace is known, nothing once it is done."""
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

    class TimeLeft(ProgressColumn):
        max_refresh = 0.5  # a steadier estimate than one redrawn 10 times a second

        def render(self, task: Task) -> Text:
            if task.total is None or task.finished:
                return Text("")
            left = task.time_remaining
            if left is None:
                return Text("eta -:--:--", style="progress.remaining")
            minutes, seconds = divmod(int(left), 60)
            hours, minutes = divmod(minutes, 60)
            return Text(f"eta {hours}:{minutes:02d}:{seconds:02d}", style="progress.remaining")

    return TimeLeft()


def bars(progress: object) -> ProgressBars:
    """``progress=`` of a public call, checked: ``True`` shows bars, ``False`` nothing."""
    if not isinstance(progress, bool):
        raise InvalidInputError(
            f"progress must be True or False, got {progress!r}", field="progress"
        )
    return ProgressBars(enabled=progress)


def operation_bar(
    display: ProgressBars, on_progress: Callable[[Operation], object] | None
) -> Callable[[Operation], object] | None:
    """``on_progress`` for an operation's polls that also moves its bar."""
    if not display.enabled:
        return on_progress

    def report(op: Operation) -> None:
        display.operation(op)
        if on_progress is not None:
            on_progress(op)

    return report


def run_bar(
    display: ProgressBars, on_progress: Callable[[Run], object] | None
) -> Callable[[Run], object] | None:
    """``on_progress`` for a run's polls that also moves its bar."""
    if not display.enabled:
        return on_progress

    def report(run: Run) -> None:
        display.run(run)
        if on_progress is not None:
            on_progress(run)

    return report


def size(n: int) -> str:
    """Bytes for a person: ``999 B``, ``1.5 kB``, ``12.0 MB`` (powers of 1000, as Rich)."""
    if n < 1000:
        return f"{n} B"
    value = n / 1000
    for unit in ("kB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def tasks_bar(
    display: ProgressBars,
    total: int | None,
    on_progress: Callable[[CreateProgress], object] | None,
) -> Callable[[CreateProgress], object] | None:
    """``on_progress`` of ``create_tasks`` that also moves the "tasks" bar (decided positions
    of ``total``)."""
    if not display.enabled:
        return on_progress

    def report(progress: CreateProgress) -> None:
        display.tasks(progress, total)
        if on_progress is not None:
            on_progress(progress)

    return report
