"""Progress bars for long calls (``progress=True``): Rich on stderr, silent by default.

A call builds one :class:`ProgressBars` and reports into named stages ("tasks", "rows",
"run", "download"). Rich is imported only when a bar is asked for; without it the call
fails before doing anything, naming the extra to install. No I/O but the terminal.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ._exceptions import InvalidInputError

if TYPE_CHECKING:
    from ._v1._models import Operation
    from ._v2._models import Run

__all__ = ["ProgressBars", "bars", "operation_bar", "run_bar"]


class ProgressBars:
    """One Rich progress display with a bar per stage; a no-op when ``enabled`` is false."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Any = None
        self._stages: dict[str, Any] = {}
        if not enabled:
            return
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )
        except ImportError:
            raise InvalidInputError(
                "progress=True needs Rich: pip install 'toloka-ext[cli]'", field="progress"
            ) from None
        self._progress = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=sys.stderr),
            transient=False,
        )
        self._progress.start()

    def update(self, stage: str, completed: int, total: int | None = None) -> None:
        """Show ``completed`` (of ``total``, if known) for ``stage``; a new stage adds a bar."""
        if self._progress is None:
            return
        task = self._stages.get(stage)
        if task is None:
            task = self._stages[stage] = self._progress.add_task(stage, total=total)
        self._progress.update(task, completed=completed, total=total)

    def advance(self, stage: str, amount: int, total: int | None = None) -> None:
        """Add ``amount`` to ``stage`` (bytes of a download, rows of an upload)."""
        if self._progress is None:
            return
        if stage not in self._stages:
            self.update(stage, 0, total)
        self._progress.advance(self._stages[stage], amount)

    def close(self) -> None:
        if self._progress is not None:
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
        self.close()


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
    """``on_progress`` for an operation's polls that also moves its bar (percent done)."""
    if not display.enabled:
        return on_progress

    def report(op: Operation) -> None:
        display.update("operation", op.progress or 0, 100)
        if on_progress is not None:
            on_progress(op)

    return report


def run_bar(
    display: ProgressBars, on_progress: Callable[[Run], object] | None
) -> Callable[[Run], object] | None:
    """``on_progress`` for a run's polls that also moves its bar (items done of total)."""
    if not display.enabled:
        return on_progress

    def report(run: Run) -> None:
        if run.progress is not None:
            done = run.progress.completed + run.progress.failed
            display.update("run", done, run.progress.total or None)
        if on_progress is not None:
            on_progress(run)

    return report
