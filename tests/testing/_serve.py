"""``python -m toloka_ext.testing serve`` in a child process, for the tests that read its
banner and stop it the way a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def serve_process(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    """Yields the running process (read its banner with :func:`read_lines`).

    On exit a running server gets SIGTERM and must stop within 10 s; one that does not is
    killed (and the test fails), so no server or open pipe outlives the test."""
    process = subprocess.Popen(
        [sys.executable, "-m", "toloka_ext.testing", "serve", *args],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env=env,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            assert process.stdout is not None
            process.stdout.close()


def read_lines(process: subprocess.Popen[str], n: int) -> list[str]:
    """The next ``n`` lines the server prints (blocks until then; "" for each after EOF)."""
    assert process.stdout is not None
    return [process.stdout.readline().rstrip("\n") for _ in range(n)]
