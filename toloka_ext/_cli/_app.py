"""The Typer application: the global options, the commands, and one error funnel.

Every command raises; :func:`run` turns what it raised into one stderr line and an exit
code (:mod:`toloka_ext._cli._exit`), so no command prints a traceback or a credential.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Annotated, Any

import typer

from .._constants import ENV_API_KEY, ENV_OAUTH_TOKEN, LOGGER_NAME
from .._exceptions import TolokaError
from .._version import __version__
from ..types import TaskCreateResult
from . import _spec, _tasks, _v2, _workflow
from ._exit import (
    API_ERROR,
    BAD_INPUT,
    EPILOG,
    INTERRUPTED,
    PROG,
    CliError,
    error_document,
    exit_code_for,
    one_line,
)
from ._output import Output, error_lines, result_document
from ._state import State

__all__ = ["app", "run"]

DEBUG_ENV = "TOLOKA_EXT_DEBUG"

app = typer.Typer(
    name=PROG,
    help="Toloka from the command line: Pipeline API v2-beta flows and API v1 tasks.",
    epilog=EPILOG,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"{PROG} {__version__}\n")
        raise typer.Exit()


@app.callback()
def _global(
    ctx: typer.Context,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            help=f"API key (default: ${ENV_API_KEY}); never printed.",
            show_default=False,
        ),
    ] = None,
    oauth_token: Annotated[
        str | None,
        typer.Option(
            "--oauth-token",
            help=f"Legacy OAuth token, API v1 only (default: ${ENV_OAUTH_TOKEN}).",
            show_default=False,
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="Pipeline API v2-beta base URL (default: $TOLOKA_BASE_URL, else Toloka's).",
            show_default=False,
        ),
    ] = None,
    v1_base_url: Annotated[
        str | None,
        typer.Option(
            "--v1-base-url",
            help="API v1 base URL (default: $TOLOKA_V1_BASE_URL, else Toloka's).",
            show_default=False,
        ),
    ] = None,
    json_mode: Annotated[
        bool,
        typer.Option("--json", help="Print one JSON document on stdout (for scripts)."),
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="No progress bars (also off when stdout is not a terminal)."
        ),
    ] = False,
    poll_interval: Annotated[
        float | None,
        typer.Option(
            "--poll-interval",
            min=0.0,
            help="First wait between polls of runs, exports, operations, in seconds "
            "(then x1.5 up to 30 s).",
            show_default=False,
        ),
    ] = None,
    max_request_hold: Annotated[
        float | None,
        typer.Option(
            "--max-request-hold",
            min=0.0,
            help="The longest the server may take to apply a request the client gave up "
            "on, in seconds (default 300): a create whose outcome is unknown is called "
            "not created, and sent again, only after it.",
            show_default=False,
        ),
    ] = None,
    allow_insecure_http: Annotated[
        bool,
        typer.Option(
            "--allow-insecure-http",
            help="Allow plain http:// to another machine (localhost is always allowed).",
        ),
    ] = False,
    version: Annotated[  # noqa: ARG001 - handled by its eager callback
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Toloka from the command line: Pipeline API v2-beta flows and API v1 tasks."""
    state = ctx.ensure_object(State)
    state.api_key = api_key
    state.oauth_token = oauth_token
    state.base_url = base_url
    state.v1_base_url = v1_base_url
    state.json_mode = json_mode
    state.quiet = quiet
    state.poll_interval = poll_interval
    state.max_request_hold = max_request_hold
    state.allow_insecure_http = allow_insecure_http
    state.output = Output(json_mode=json_mode)


# The commands live in modules of their own; each adds itself to the app.
for _module in (_v2, _workflow, _tasks, _spec):
    _module.register(app)
del _module


# -- running ------------------------------------------------------------------------------


class _Notice(logging.Handler):
    """The library's warnings (a torn journal record dropped, ...) as plain stderr lines."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(f"{PROG}: {record.levelname.lower()}: {record.getMessage()}\n")
        except Exception:  # pragma: no cover - never fail a command over a log line
            self.handleError(record)


def _setup_logging() -> None:
    logger = logging.getLogger(LOGGER_NAME)
    if not any(isinstance(h, _Notice) for h in logger.handlers):
        logger.addHandler(_Notice(logging.WARNING))
        logger.propagate = False


def _json_requested(argv: list[str]) -> bool:
    head = argv[: argv.index("--")] if "--" in argv else argv
    return "--json" in head


def _is_usage_error(exc: BaseException) -> bool:
    # Typer >= 0.26 vendors Click: its exceptions are not importable by a public name, so
    # they are recognised by what they offer.
    return callable(getattr(exc, "format_message", None)) and hasattr(exc, "exit_code")


class _Masked:
    """Replaces the credentials in play by stars in whatever an error line carries (the
    library's messages never hold one; this also covers errors from elsewhere)."""

    def __init__(self, state: State) -> None:
        self.state = state  # read when called: the options are parsed by then

    def __call__(self, text: str) -> str:
        values = (
            self.state.api_key,
            self.state.oauth_token,
            os.environ.get(ENV_API_KEY),
            os.environ.get(ENV_OAUTH_TOKEN),
        )
        secrets = {v.strip() for v in values if v and len(v.strip()) >= 6}
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, "**********")
        return text


def _report(exc: BaseException, *, json_mode: bool, mask: _Masked) -> int:
    code = exit_code_for(exc)
    prog = mask.state.prog
    sys.stderr.write(mask(one_line(exc, prog=prog)) + "\n")
    partial = getattr(exc, "partial_result", None)
    if isinstance(partial, TaskCreateResult):
        sys.stderr.write(
            f"{prog}: before the error: {len(partial.task_ids)} created, "
            f"{len(partial.errors)} failed, {partial.unknown_count} unknown\n"
        )
        # Why they failed: a failed async operation's reasons are in its log, which
        # create_tasks read into the result (no need for `operations log`).
        for line in error_lines(partial):
            sys.stderr.write(mask(line) + "\n")
    if json_mode:
        doc = error_document(exc)
        if isinstance(partial, TaskCreateResult):
            doc["partial_result"] = result_document(partial)
        sys.stdout.write(mask(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n")
    return code


def _json_error(kind: str, message: str, code: int, mask: _Masked) -> None:
    doc = {"error": {"type": kind, "message": message, "exit_code": code}}
    sys.stdout.write(mask(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n")


def _interrupted(state: State, json_mode: bool, mask: _Masked) -> int:
    sys.stderr.write(f"{state.prog}: interrupted\n")
    if json_mode:
        _json_error("KeyboardInterrupt", "interrupted", INTERRUPTED, mask)
    return INTERRUPTED


def run(argv: list[str], *, prog: str | None = None) -> int:
    """Run ``argv`` (without the program name); the exit code."""
    prog = prog or PROG
    json_mode = _json_requested(argv)
    _setup_logging()
    state = State(prog=prog, argv=list(argv))
    mask = _Masked(state)
    try:
        result: Any = app(args=argv, prog_name=prog, standalone_mode=False, obj=state)
    except (TolokaError, CliError) as exc:
        return _report(exc, json_mode=json_mode, mask=mask)
    except KeyboardInterrupt:
        return _interrupted(state, json_mode, mask)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        return _report(
            CliError(f"cannot use{where}: {exc.strerror or exc}"),
            json_mode=json_mode,
            mask=mask,
        )
    except Exception as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":
            app(args=[*argv, "--help"], prog_name=prog, standalone_mode=False, obj=state)
            return BAD_INPUT
        if _is_usage_error(exc):
            ctx = getattr(exc, "ctx", None)
            where = getattr(ctx, "command_path", None) or prog
            message = " ".join(str(exc.format_message()).split())  # type: ignore[attr-defined]
            sys.stderr.write(mask(f"{prog}: error: {message} (see '{where} --help')") + "\n")
            if json_mode:
                _json_error("UsageError", message, BAD_INPUT, mask)
            return BAD_INPUT
        if os.environ.get(DEBUG_ENV):
            raise
        line = f"{prog}: internal error: {type(exc).__name__}: {' '.join(str(exc).split())}"
        sys.stderr.write(mask(line) + f" (set {DEBUG_ENV}=1 to see the traceback)\n")
        return API_ERROR
    if isinstance(result, int) and not isinstance(result, bool):
        if result == INTERRUPTED and not state.interrupt_reported:
            return _interrupted(state, json_mode, mask)
        return result
    return 0
