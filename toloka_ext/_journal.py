"""A crash-safe journal of the "more data" loop, so a rerun continues instead of repeating.

The journal is an append-only JSON Lines file. The first record holds the call's parameters,
the format version and a random token (every object the job creates is named with it).
Each create step writes an *intent* record before its request and a *done* record with the
server's id after it; every record is one ``\\n``-terminated line, written whole and
``fsync``ed before the step goes on, so a torn write is always recognisable.

Opening a journal trusts nothing it cannot read:

* a torn final fragment (no ``\\n``: the process died mid-write) is cut off before anything
  is appended, since the step it described never completed;
* any other unreadable or incomplete record, an empty file, or a file with no complete
  record raises :class:`~toloka_ext.JournalCorruptError` naming the file and line: resuming
  from it could repeat steps that cost money;
* a journal of another format version raises :class:`~toloka_ext.JournalMismatchError`.

A resumed journal (one that held records) makes the flow reconcile with the server before
every step that creates something, intent record or not.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from .._exceptions import InvalidInputError, JournalCorruptError, JournalMismatchError
from .._logging import logger

__all__ = ["Journal", "check_journal_path"]

VERSION = 1
_KINDS = ("params", "intent", "done")
_FRESH = "delete it (or pass another journal path) to start the job over"


def check_journal_path(path: str | os.PathLike[str]) -> Path:
    """``path`` as a journal can use it; checked before any request.

    Raises:
        InvalidInputError: the path is a directory, or its directory does not exist.
    """
    p = Path(path)
    if p.is_dir():
        raise InvalidInputError(f"journal {p} is a directory: pass a file path", field="journal")
    if not p.parent.is_dir():
        raise InvalidInputError(
            f"the directory of journal {p} does not exist: create {p.parent} first",
            field="journal",
        )
    return p


class Journal:
    """Step records for one ``process_new_data`` call.

    Example::

        journal = Journal.open("batch-42.journal")
        journal.start(pipeline_id="pl-1")  # checks the parameters when resuming
        if not journal.is_done("dataset"):
            journal.intent("dataset", name=f"batch-{journal.token}")
    """

    def __init__(self, path: Path | None, records: list[dict[str, Any]]) -> None:
        self.path = path
        self._intents: dict[str, dict[str, Any]] = {}
        self._done: dict[str, dict[str, Any]] = {}
        self.params: dict[str, Any] = {}
        self.resumed = bool(records)
        """True if the journal held records: every creating step reconciles first."""
        for rec in records:
            self._apply(rec)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Journal:
        """Open the journal at ``path``, or start one there if no file exists.

        Raises:
            InvalidInputError: ``path`` is a directory or its directory does not exist.
            JournalCorruptError: the file is empty or holds a record that cannot be read.
            JournalMismatchError: the file was written in another format version.
        """
        p = check_journal_path(path)
        if not p.exists():
            return cls(p, [])
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise JournalCorruptError(
                f"journal {p} cannot be read ({exc.strerror}); fix its permissions, or {_FRESH}",
                path=str(p),
            ) from None
        complete, _, torn = data.rpartition(b"\n")
        if torn:
            # The process died while writing this record: its step never completed. Cut it
            # off, so the next record starts on a line of its own.
            logger.warning("journal %s: dropping a torn last record (%d bytes)", p, len(torn))
            with open(p, "r+b") as fh:
                fh.truncate(len(complete) + 1 if complete else 0)
                fh.flush()
                os.fsync(fh.fileno())
        lines = complete.split(b"\n") if complete else []
        if not lines:
            what = "is empty" if not data else "holds no complete record"
            raise JournalCorruptError(
                f"journal {p} {what}: a journal is never written without its first record, so "
                f"it may have been cut short; {_FRESH}",
                path=str(p),
            )
        records = [_parse_line(p, number, raw) for number, raw in enumerate(lines, start=1)]
        _check_params(p, records[0])
        return cls(p, records)

    @classmethod
    def memory(cls) -> Journal:
        """A journal kept in memory only (a call that cannot be resumed)."""
        return cls(None, [])

    @property
    def token(self) -> str:
        return str(self.params["token"])

    def start(self, **params: Any) -> None:
        """Record the call's parameters (once) with a fresh unique token; check them on resume."""
        if not self.params:
            self._write({"kind": "params", "version": VERSION, "token": _new_token(), **params})
            return
        for key, value in params.items():
            if key in self.params and self.params[key] != value:
                raise JournalMismatchError(
                    f"journal {self.path} was written for {key}={self.params[key]!r}, "
                    f"not {value!r}: use a new journal file for a different call"
                )
        new = {k: v for k, v in params.items() if k not in self.params}
        if new:
            self._write({"kind": "params", **new})

    def intent(self, step: str, **data: Any) -> None:
        """Record that ``step`` is about to be attempted (before its request is sent)."""
        self._write({"kind": "intent", "step": step, **data})

    def done(self, step: str, **data: Any) -> dict[str, Any]:
        """Record that ``step`` completed; return the record."""
        record = {"kind": "done", "step": step, **data}
        self._write(record)
        return record

    def get_intent(self, step: str) -> dict[str, Any] | None:
        return self._intents.get(step)

    def get_done(self, step: str) -> dict[str, Any] | None:
        return self._done.get(step)

    def is_done(self, step: str) -> bool:
        return step in self._done

    def _apply(self, rec: dict[str, Any]) -> None:
        kind = rec["kind"]
        if kind == "params":
            self.params.update({k: v for k, v in rec.items() if k != "kind"})
        elif kind == "intent":
            self._intents[str(rec["step"])] = rec
        else:
            self._done[str(rec["step"])] = rec

    def _write(self, rec: dict[str, Any]) -> None:
        if self.path is None:
            self._apply(rec)
            return
        line = json.dumps(rec, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view) :]
            # Every step that follows may cost money: the record is on disk before it starts.
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)
        self._apply(rec)


def _parse_line(path: Path, number: int, raw: bytes) -> dict[str, Any]:
    def corrupt(why: str) -> JournalCorruptError:
        return JournalCorruptError(
            f"journal {path}, line {number}: {why}; the journal cannot be trusted to resume "
            f"from (steps could be repeated). Restore it from a backup, or {_FRESH} after "
            "checking what the interrupted job created",
            path=str(path),
            line=number,
        )

    try:
        rec = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise corrupt("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise corrupt(f"not a JSON record ({exc.msg})") from None
    if not isinstance(rec, dict):
        raise corrupt(f"a record must be a JSON object, got {type(rec).__name__}")
    kind = rec.get("kind")
    if kind not in _KINDS:
        raise corrupt(f"unknown record kind {kind!r}")
    if kind != "params" and (not isinstance(rec.get("step"), str) or not rec["step"]):
        raise corrupt(f"{'an' if kind == 'intent' else 'a'} {kind} record without its step")
    if number == 1 and kind != "params":
        raise corrupt("the first record must hold the call's parameters")
    return rec


def _check_params(path: Path, first: dict[str, Any]) -> None:
    version = first.get("version")
    if version != VERSION:
        raise JournalMismatchError(
            f"journal {path} was written in journal format {version!r}; this version of "
            f"toloka-ext reads format {VERSION}: finish that job with the version that "
            f"started it, or {_FRESH}"
        )
    token = first.get("token")
    if not isinstance(token, str) or not token:
        raise JournalCorruptError(
            f"journal {path}, line 1: the job's token is missing, so its objects cannot be "
            f"found again; {_FRESH}",
            path=str(path),
            line=1,
        )


def _new_token() -> str:
    return secrets.token_hex(6)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
