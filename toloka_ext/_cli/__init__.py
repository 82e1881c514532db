"""The ``toloka-ext`` command line: a thin shell over :class:`toloka_ext.Toloka`.

Example::

    pip install 'toloka-ext[cli]'
    export TOLOKA_API_KEY=...
    toloka-ext whoami
    toloka-ext process rows.jsonl --pipeline pl-1 --out results.jsonl
    toloka-ext tasks create tasks.jsonl --pool 1234 --async-mode --open-pool
    toloka-ext --json runs get run-7 | jq .status

Global options: ``--json`` (one JSON document per command on stdout), ``--api-key`` /
``--oauth-token`` / ``--base-url`` / ``--v1-base-url`` (else ``TOLOKA_API_KEY``,
``TOLOKA_OAUTH_TOKEN``, ``TOLOKA_BASE_URL``, ``TOLOKA_V1_BASE_URL``), ``--quiet``,
``--version``. Progress bars and colour go to stderr, and only when stdout is a terminal.

Exit codes (``toloka-ext --help`` shows them too):

=====  ============================================================================
0      success (``spec``: no API change)
1      API error: a status, a connection error, a failed run or export, a timeout
2      bad usage or bad input (options, unreadable or invalid files, missing key,
       a journal of another call): nothing was sent
3      API drift: an answer in a shape the bundled snapshot does not know
       (``spec``: a compatible API change)
4      outcome unknown: a request may have been applied; check before re-sending
       (``spec``: a breaking API change)
130    interrupted (Ctrl-C); ``process`` prints the command that resumes
=====  ============================================================================

Errors print one line to stderr (never a traceback, never a credential); with ``--json``
stdout also gets ``{"error": {...}}``.

This module imports only the standard library: without the ``cli`` extra (Typer and
Rich) the console script prints the ``pip install`` line to use and exits 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

MISSING_EXTRA = (
    "toloka-ext: the command line needs the 'cli' extra ({missing} is not installed): "
    "pip install 'toloka-ext[cli]'"
)


def _missing_dependency() -> str | None:
    """The name of the first ``cli`` extra dependency that cannot be imported, if any."""
    for name in ("typer", "rich"):
        try:
            __import__(name)
        except ImportError:
            return name
    return None


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Run the command line; return its exit code (see the module docstring).

    Example::

        raise SystemExit(main(["--json", "whoami"]))
    """
    missing = _missing_dependency()
    if missing is not None:
        sys.stderr.write(MISSING_EXTRA.format(missing=missing) + "\n")
        return 2
    from ._app import run

    return run(list(sys.argv[1:] if argv is None else argv), prog=prog)
