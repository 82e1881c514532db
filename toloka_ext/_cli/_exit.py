"""Exit codes of ``toloka-ext`` and the one line an error prints (standard library only).

=====  ============================================================================
code   meaning
=====  ============================================================================
0      success (``spec``: no API change)
1      the API refused or failed (a status, a connection error, a failed run or
       export, a poll timeout), or a journal record could not be written (the message
       says what was sent); ``spec pull``: the document could not be fetched
2      bad usage or bad input: a wrong option, an unreadable or invalid file, no
       credentials, a journal of another call or in use by another process (nothing
       was sent); a ``--base-url`` or ``--v1-base-url`` that does not lead to the API
       (named in the message)
3      API drift: Toloka answered in a shape the bundled snapshot does not know
       (``spec``: the API changed compatibly)
4      outcome unknown: a request may or may not have been applied; check before
       re-sending (``spec``: a breaking API change)
130    interrupted (Ctrl-C); ``process`` and ``tasks create`` print the command that
       resumes
=====  ============================================================================
"""

from __future__ import annotations

import re
from typing import Any

from .._exceptions import (
    ApiDriftError,
    APIStatusError,
    ConfigurationError,
    InvalidInputError,
    JournalCorruptError,
    JournalLockedError,
    JournalMismatchError,
    OutcomeUnknownError,
    TolokaError,
)

__all__ = [
    "API_ERROR",
    "BAD_INPUT",
    "DRIFT",
    "EPILOG",
    "INTERRUPTED",
    "OK",
    "OUTCOME_UNKNOWN",
    "PROG",
    "CliError",
    "error_document",
    "exit_code_for",
    "flag_wording",
    "one_line",
]

PROG = "toloka-ext"

OK = 0
API_ERROR = 1
BAD_INPUT = 2
DRIFT = 3
OUTCOME_UNKNOWN = 4
INTERRUPTED = 130

EPILOG = """Exit codes:
  0    ok (spec: no API change)
  1    API error: a status, no connection, a failed run, a timeout
  2    bad usage or input: options, files, missing key (nothing sent)
  3    API drift (spec: a compatible API change)
  4    outcome unknown: check before re-sending (spec: a breaking change)
  130  interrupted (process, tasks create: prints the command that resumes)"""


class CliError(Exception):
    """A failure the command line found itself (a bad file, no credentials): one line + code."""

    def __init__(self, message: str, *, code: int = BAD_INPUT) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def exit_code_for(exc: BaseException) -> int:
    """The exit code of an error (see the module docstring)."""
    if isinstance(exc, CliError):
        return exc.code
    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED
    if isinstance(exc, ConfigurationError | InvalidInputError):
        return BAD_INPUT
    if isinstance(exc, JournalMismatchError | JournalCorruptError | JournalLockedError):
        return BAD_INPUT
    if isinstance(exc, ApiDriftError):
        return DRIFT
    if isinstance(exc, OutcomeUnknownError):
        return OUTCOME_UNKNOWN
    if isinstance(exc, TolokaError):
        return API_ERROR
    return API_ERROR


# The library's messages name its Python arguments; on the command line the same advice
# names the flag (or the field of a task in the file) that does it.
_FLAG_WORDING: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), flag)
    for pattern, flag in (
        (
            r"\boverlap is required unless allow_defaults=True \(pool default overlap\) "
            r"or infinite_overlap=True",
            "overlap is required: pass --overlap, or --allow-defaults (the pool's default "
            'overlap), or set "overlap" (or "infinite_overlap": true) in the task',
        ),
        (r"\ballow_insecure_http=True\b", "--allow-insecure-http"),
        (r"\bpass project_id=", "pass --project"),
        (r"\bapi_key=", "--api-key"),
        (r"\boauth_token=", "--oauth-token"),
        (r"\bv1_base_url\b", "--v1-base-url"),
        (r"\bbase_url\b", "--base-url"),
        (r"\bwait_for_quota=True\b", "--wait-for-quota"),
        (r"\bvalidate_first=True\b", "--validate-first"),
        (r"\bresend_missing=True\b", "--resend-missing"),
        (r"\ballow_defaults=True\b", "--allow-defaults"),
        (r"\basync_mode=True\b", "--async-mode"),
        (r"\binfinite_overlap=True\b", '"infinite_overlap": true in the task'),
        (r"\boperation_id only applies\b", "--operation-id only applies"),
        (r"\bchunk_size must\b", "--chunk-size must"),
        (r"\btasks_per_day=", ""),  # a budget the command line does not set
        (r", or a higher tasks_per_day if your account allows it", ""),
    )
)


def flag_wording(text: str) -> str:
    """``text`` with the Python arguments it names replaced by the flags that set them
    (``allow_insecure_http=True`` -> ``--allow-insecure-http``, ``pass project_id=`` ->
    ``pass --project``)."""
    for pattern, flag in _FLAG_WORDING:
        text = pattern.sub(flag, text)
    return text


def _flat(text: str) -> str:
    return " ".join(text.split())


_OPTIONS = {"base_url": "--base-url", "v1_base_url": "--v1-base-url"}


def _worded(exc: BaseException) -> str:
    """A library error's message in the command line's words: flags for the Python
    arguments, and the option of the setting a :class:`ConfigurationError` names (said
    once: not again when the wording already names it)."""
    text = flag_wording(_flat(str(exc)) or type(exc).__name__)
    setting = getattr(exc, "setting", None) if isinstance(exc, ConfigurationError) else None
    option = _OPTIONS.get(setting) if isinstance(setting, str) else None
    return f"{text} (command line: {option})" if option and option not in text else text


def one_line(exc: BaseException, *, prog: str = PROG) -> str:
    """``toloka-ext: error: ...``: the error's class (for library errors) and message, one
    line. Library messages never carry a credential (see ``toloka_ext._exceptions``)."""
    if isinstance(exc, CliError):
        return f"{prog}: error: {_flat(exc.message)}"
    if isinstance(exc, TolokaError):
        return f"{prog}: error: {type(exc).__name__}: {_worded(exc)}"
    return f"{prog}: error: {type(exc).__name__}: {_flat(str(exc))}"


def error_document(exc: BaseException) -> dict[str, Any]:
    """The ``--json`` form of an error: ``{"error": {type, message, exit_code, ...}}``."""
    info: dict[str, Any] = {
        "type": type(exc).__name__,
        "message": _flat(exc.message) if isinstance(exc, CliError) else _worded(exc),
        "exit_code": exit_code_for(exc),
    }
    if isinstance(exc, APIStatusError):
        info.update(status_code=exc.status_code, code=exc.code, request_id=exc.request_id)
    if isinstance(exc, ApiDriftError):
        info.update(operation=exc.operation, field=exc.field)
    if isinstance(exc, InvalidInputError):
        info.update(position=exc.position, field=exc.field)
    if isinstance(exc, ConfigurationError) and exc.setting is not None:
        info.update(setting=exc.setting, option=_OPTIONS.get(exc.setting))
    return {"error": info}
