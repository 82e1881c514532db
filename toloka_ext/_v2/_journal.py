"""A crash-safe journal of the "more data" loop, so a rerun continues instead of repeating.

The journal is an append-only JSON Lines file. Each create step writes an *intent* record
(with the client-chosen name it will use) and ``fsync``s it **before** the request, then a
*done* record with the server's id after it. On resume, an intent without a done record is
reconciled by looking the object up (by its unique name, or the runs of the pipeline) before
anything is created again. A torn last line (a crash mid-write) is ignored.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from .._exceptions import JournalMismatchError

__all__ = ["Journal"]

_VERSION = 1


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
        for rec in records:
            self._apply(rec)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Journal:
        """Open (or start) the journal at ``path``."""
        p = Path(path)
        records: list[dict[str, Any]] = []
        if p.exists():
            with open(p, "rb") as fh:
                for raw in fh:
                    if not raw.endswith(b"\n"):
                        break  # torn write: the step it described did not complete
                    try:
                        rec = json.loads(raw)
                    except json.JSONDecodeError:
                        break
                    if isinstance(rec, dict):
                        records.append(rec)
        return cls(p, records)

    @classmethod
    def memory(cls) -> Journal:
        """A journal kept in memory only (a call that cannot be resumed)."""
        return cls(None, [])

    @property
    def is_new(self) -> bool:
        return not self.params

    @property
    def token(self) -> str:
        return str(self.params["token"])

    def start(self, **params: Any) -> None:
        """Record the call's parameters (once) with a fresh unique token; check them on resume."""
        if self.is_new:
            self._write({"kind": "params", "version": _VERSION, "token": _new_token(), **params})
            return
        for key, value in params.items():
            if key in self.params and self.params[key] != value:
                raise JournalMismatchError(
                    f"journal {self.path} was written for {key}={self.params[key]!r}, "
                    f"not {value!r}: use a new journal file for a different call"
                )
            if key not in self.params:
                self._write({"kind": "params", **params})
                break

    def intent(self, step: str, **data: Any) -> None:
        """Record that ``step`` is about to be attempted (before the request is sent)."""
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
        kind = rec.get("kind")
        if kind == "params":
            self.params.update({k: v for k, v in rec.items() if k != "kind"})
        elif kind == "intent":
            self._intents[str(rec["step"])] = rec
        elif kind == "done":
            self._done[str(rec["step"])] = rec

    def _write(self, rec: dict[str, Any]) -> None:
        if self.path is None:
            self._apply(rec)
            return
        line = json.dumps(rec, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)
        self._apply(rec)


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
