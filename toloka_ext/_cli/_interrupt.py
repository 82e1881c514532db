"""Ctrl-C that stops between requests: the first asks, the second stops at once."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType, TracebackType

__all__ = ["GracefulStop"]


class GracefulStop:
    """While active, the first Ctrl-C (SIGINT) only sets :attr:`requested`, so a batch can
    stop after the request in flight (its answer recorded, nothing left in doubt); a second
    one raises ``KeyboardInterrupt`` at once, as usual. Outside the main thread it does
    nothing (signals are delivered there only).

    Example::

        with GracefulStop() as stop:
            for chunk in chunks:
                send(chunk)
                if stop.requested:
                    raise KeyboardInterrupt
    """

    def __init__(self, notice: str = "stopping after the request in flight") -> None:
        self.requested = False
        self._notice = notice
        self._previous: object = None
        self._active = False

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        sys.stderr.write(f"\n{self._notice} (Ctrl-C again to stop at once)\n")
        sys.stderr.flush()

    def check(self) -> None:
        """Raise ``KeyboardInterrupt`` if a stop was asked for."""
        if self.requested:
            raise KeyboardInterrupt

    def __enter__(self) -> GracefulStop:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._active = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._active:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]
            self._active = False
