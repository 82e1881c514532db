"""In-memory state of a sandbox, with optional write-through SQLite persistence.

Objects are plain JSON-able dicts kept by kind (``project``, ``dataset``, ``upload``,
``pipeline``, ``run``, ``export``, ``task``, ``operation``, ``pool``). A handler changes an
object and calls :meth:`Backend.save`; after each request the changed objects are written
to the SQLite file (if any), so a sandbox restarted on the same file resumes from there.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["Backend", "Counters"]

Obj = dict[str, Any]
KINDS = ("project", "dataset", "upload", "pipeline", "run", "export", "task", "operation", "pool")


class Counters:
    """What the sandbox saw: requests ``received`` and ``applied`` per operationId, tasks created.

    ``applied`` counts requests whose effect was stored (a 2xx answer was produced), even if
    the connection was then dropped, so ``received - applied`` shows what never took effect.
    """

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.applied: Counter[str] = Counter()
        self.tasks_created = 0

    def to_json(self) -> Obj:
        return {
            "received": dict(self.received),
            "applied": dict(self.applied),
            "tasks_created": self.tasks_created,
        }

    def load(self, data: Mapping[str, Any]) -> None:
        self.received = Counter(data.get("received", {}))
        self.applied = Counter(data.get("applied", {}))
        self.tasks_created = int(data.get("tasks_created", 0))


class Backend:
    """State of one sandbox."""

    def __init__(self, db_path: str | Path | None = None) -> None:
        self.lock = threading.RLock()
        self.db_path = Path(db_path) if db_path is not None else None
        self._db: sqlite3.Connection | None = None
        self.tables: dict[str, dict[str, Obj]] = {k: {} for k in KINDS}
        self.seq: Counter[str] = Counter()
        self.counters = Counters()
        self._dirty: set[tuple[str, str]] = set()
        if self.db_path is not None:
            self._open()

    # -- persistence --------------------------------------------------------------------
    def _open(self) -> None:
        assert self.db_path is not None
        self._db = sqlite3.connect(str(self.db_path), check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS objects "
            "(kind TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (kind, id))"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, data TEXT)")
        self._db.commit()
        # In id order: task ids grow with creation, and the task list relies on that order.
        rows = self._db.execute("SELECT kind, id, data FROM objects ORDER BY kind, id")
        for kind, oid, data in rows:
            self.tables.setdefault(kind, {})[oid] = json.loads(data)
        for key, data in self._db.execute("SELECT key, data FROM meta"):
            if key == "seq":
                self.seq = Counter(json.loads(data))
            elif key == "counters":
                self.counters.load(json.loads(data))

    def flush(self) -> None:
        """Write what changed since the last flush (no-op without a database)."""
        if self._db is None:
            self._dirty.clear()
            return
        rows = [
            (kind, oid, json.dumps(self.tables[kind][oid]))
            for kind, oid in self._dirty
            if oid in self.tables[kind]
        ]
        gone = [(kind, oid) for kind, oid in self._dirty if oid not in self.tables[kind]]
        self._dirty.clear()
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO objects (kind, id, data) VALUES (?, ?, ?)", rows
            )
            self._db.executemany("DELETE FROM objects WHERE kind = ? AND id = ?", gone)
            self._db.executemany(
                "INSERT OR REPLACE INTO meta (key, data) VALUES (?, ?)",
                [
                    ("seq", json.dumps(dict(self.seq))),
                    ("counters", json.dumps(self.counters.to_json())),
                ],
            )

    def close(self) -> None:
        if self._db is not None:
            self.flush()
            self._db.close()
            self._db = None

    def reset(self) -> None:
        """Forget everything (and empty the database file, if any)."""
        with self.lock:
            self.tables = {k: {} for k in KINDS}
            self.seq = Counter()
            self.counters = Counters()
            self._dirty.clear()
            if self._db is not None:
                with self._db:
                    self._db.execute("DELETE FROM objects")
                    self._db.execute("DELETE FROM meta")

    # -- objects ------------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        self.seq[prefix] += 1
        return f"{prefix}-{self.seq[prefix]}"

    def next_number(self, prefix: str) -> int:
        self.seq[prefix] += 1
        return self.seq[prefix]

    def save(self, kind: str, obj: Obj) -> Obj:
        self.tables[kind][obj["id"]] = obj
        self._dirty.add((kind, obj["id"]))
        return obj

    def save_many(self, kind: str, objs: list[Obj]) -> None:
        table = self.tables[kind]
        for obj in objs:
            table[obj["id"]] = obj
            self._dirty.add((kind, obj["id"]))

    def get(self, kind: str, oid: str) -> Obj | None:
        return self.tables[kind].get(oid)

    def all(self, kind: str) -> Iterator[Obj]:
        return iter(list(self.tables[kind].values()))
