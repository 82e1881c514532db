"""A crash-safe journal of a resumable job, so a rerun continues instead of repeating.

Two jobs keep one: ``process_new_data`` (the "more data" loop) and ``create_tasks`` with
``journal=`` (a v1 task upload). The journal is an append-only JSON Lines file. The first
record holds the call's parameters, the format version and a random token (every object
the job creates is named or keyed with it). Each step that costs something writes an
*intent* record before its request and a *done* record with the server's answer after it;
every record is one ``\\n``-terminated line, written whole and ``fsync``ed before the step
goes on, so a torn write is always recognisable.

One process per journal: opening one takes an OS lock on ``<journal>.lock`` (kept beside
it, holding who locked it), and a second process gets :class:`~toloka_ext.JournalLockedError`
naming the holder. The first record is written to a scratch file and renamed into place,
so a journal either does not exist or starts with its parameters: a first record that
could not be written leaves nothing behind to block the rerun. A record that cannot be
written raises :class:`~toloka_ext.JournalWriteError` (saying whether its step was sent)
before the next step that could cost money.

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

import contextlib
import json
import os
import secrets
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from ._exceptions import (
    InvalidInputError,
    JournalCorruptError,
    JournalLockedError,
    JournalMismatchError,
    JournalWriteError,
)
from ._logging import logger

__all__ = ["Journal", "check_journal_path"]

# 3: rows_sha256 is of the rows as sent (every separator a comma, whichever encoder wrote
# them); 2: of the spool form (every separator a newline); 1: of JSON Lines.
VERSION = 3
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
    """Step records for one resumable job (``process_new_data``, or ``create_tasks``).

    Example::

        with Journal.open("batch-42.journal") as journal:  # locked until closed
            journal.start(pipeline_id="pl-1")  # checks the parameters when resuming
            if not journal.is_done("dataset"):
                journal.intent("dataset", name=f"batch-{journal.token}")
    """

    def __init__(
        self, path: Path | None, records: list[dict[str, Any]], *, lock_fd: int | None = None
    ) -> None:
        self.path = path
        self._lock_fd = lock_fd
        self._intents: dict[str, dict[str, Any]] = {}
        self._done: dict[str, dict[str, Any]] = {}
        self.params: dict[str, Any] = {}
        self.resumed = bool(records)
        """True if the journal held records: every creating step reconciles first."""
        for rec in records:
            self._apply(rec)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, lock: bool = True) -> Journal:
        """Open the journal at ``path``, or start one there if no file exists.

        With ``lock`` (the default) the journal is this process's until :meth:`close` (or
        until the object is gone): a second process opening it gets
        :class:`JournalLockedError`.

        Raises:
            InvalidInputError: ``path`` is a directory or its directory does not exist.
            JournalLockedError: another process holds the journal.
            JournalWriteError: the lock file beside it cannot be written.
            JournalCorruptError: the file is empty or holds a record that cannot be read.
            JournalMismatchError: the file was written in another format version.
        """
        p = check_journal_path(path)
        fd = _acquire(p) if lock else None
        try:
            return cls(p, _read(p), lock_fd=fd)
        except BaseException:
            _release(fd)
            raise

    @classmethod
    def memory(cls) -> Journal:
        """A journal kept in memory only (a call that cannot be resumed)."""
        return cls(None, [])

    def close(self) -> None:
        """Release the lock (records are on disk as soon as they are written)."""
        fd, self._lock_fd = self._lock_fd, None
        _release(fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    @property
    def token(self) -> str:
        return str(self.params["token"])

    def start(self, **params: Any) -> None:
        """Record the call's parameters (once) with a fresh unique token; check them on resume.

        Raises:
            JournalMismatchError: a parameter differs from the journal's (named in
                ``exc.parameter``): the journal belongs to another call.
        """
        if not self.params:
            self._write({"kind": "params", "version": VERSION, "token": _new_token(), **params})
            return
        for key, value in params.items():
            if key in self.params and self.params[key] != value:
                raise JournalMismatchError(
                    f"journal {self.path} was written for {key}={self.params[key]!r}, "
                    f"not {value!r}: run the job again as it was started to finish it, or "
                    "use a new journal file for a different call",
                    path=str(self.path),
                    parameter=key,
                )
        new = {k: v for k, v in params.items() if k not in self.params}
        if new:
            self._write({"kind": "params", **new})

    def intent(self, step: str, **data: Any) -> None:
        """Record that ``step`` is about to be attempted (before its request is sent), and
        when (``at``, wall time: a rerun waits out what the request may still do)."""
        self._write({"kind": "intent", "step": step, **data, "at": time.time()})

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

    def done_records(self, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(step, done record)`` of every step starting with ``prefix``, in record order."""
        for step, rec in self._done.items():
            if step.startswith(prefix):
                yield step, rec

    def intent_records(self, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(step, latest intent record)`` of every step starting with ``prefix``."""
        for step, rec in self._intents.items():
            if step.startswith(prefix):
                yield step, rec

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
        try:
            if self.path.exists():
                _append(self.path, line)
            else:
                _create(self.path, line)
        except OSError as exc:
            raise _write_error(self.path, rec, exc) from None
        self._apply(rec)


def _append(path: Path, line: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        _write_all(fd, line)
        # Every step that follows may cost money: the record is on disk before it starts.
        os.fsync(fd)
    finally:
        os.close(fd)


def _create(path: Path, line: bytes) -> None:
    """The first record: written whole to a scratch file, then renamed into place, so a
    journal never exists without it (a failed first write leaves nothing to block a rerun)."""
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            _write_all(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(scratch, path)  # the lock is held: nobody else creates it meanwhile
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(scratch)
        raise
    _fsync_dir(path.parent)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _write_error(path: Path, rec: dict[str, Any], exc: OSError) -> JournalWriteError:
    why = exc.strerror or type(exc).__name__
    again = (
        "free the space (or fix the file's permissions) and run the same job again: it goes "
        "on from the last recorded step"
    )
    kind, step = rec["kind"], str(rec.get("step", "start"))
    if kind == "done":
        shown = {k: v for k, v in rec.items() if k in ("id", "name", "path")}
        detail = f" ({', '.join(f'{k} {v}' for k, v in shown.items())})" if shown else ""
        message = (
            f"journal {path}: step {step!r} completed on the server{detail} but could not be "
            f"recorded ({why}); nothing further was sent. {again.capitalize()}, and finds what "
            "this step created instead of creating it twice"
        )
        return JournalWriteError(message, path=str(path), step=step, sent=True)
    what = "the job's first record" if kind == "params" else f"the start of step {step!r}"
    message = f"journal {path}: could not write {what} ({why}), so that step was not sent; {again}"
    return JournalWriteError(message, path=str(path), step=step, sent=False)


def _read(p: Path) -> list[dict[str, Any]]:
    if not p.exists():
        return []
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
    return records


def _acquire(path: Path) -> int:
    """Lock ``<path>.lock`` for this process (released by closing the returned fd)."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise JournalWriteError(
            f"journal {path}: cannot create its lock file {lock_path} "
            f"({exc.strerror or exc}); nothing was sent: keep the journal somewhere writable",
            path=str(path),
            step="open",
            sent=False,
        ) from None
    if not _try_lock(fd):
        holder = os.read(fd, 1024).decode("utf-8", "replace").strip() or "another process"
        os.close(fd)
        raise JournalLockedError(
            f"journal {path} is in use by {holder}: one job runs in one process at a time. "
            "Wait for it to finish (or stop it), then run this again",
            path=str(path),
            holder=holder,
        )
    os.ftruncate(fd, 0)
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    _write_all(fd, f"process {os.getpid()} on {socket.gethostname()} since {when}\n".encode())
    return fd


if sys.platform == "win32":  # pragma: no cover - the tests run on Linux
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def _release(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)  # closing the descriptor releases its lock


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
            f"started it, or {_FRESH}",
            path=str(path),
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
