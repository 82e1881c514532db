"""The durable record of a ``create_tasks`` job (``journal=``): what a rerun needs so that a
crash, a Ctrl-C or a kill never creates a task twice (no I/O but the journal file).

The journal (:mod:`toloka_ext._journal`: one process at a time, ``fsync``ed records) holds:

* ``params``: the options that shape what is created (mode, ``allow_defaults``,
  ``skip_invalid_items``, ``open_pool``, ``chunk_size``) and the job's own id (a UUID;
  the user's ``operation_id`` if one was given). A rerun with other options is another job:
  :class:`~toloka_ext.JournalMismatchError` names the option.
* ``floor.<pool>``: the pool's newest task before the job's first request to it, so that a
  lost answer is settled against the right tasks however many runs later.
* ``req.<k>`` *intent* before request ``k`` is sent (its positions, a SHA-256 of its exact
  body, the wall time, and in async mode its operation id ``uuid5(job id, str(k))``), and
  ``req.<k>`` *done* once its outcome is known (the task id of each position, or its field
  errors). A rerun verifies each request's body against its intent (other input: a
  ``JournalMismatchError`` naming the position), skips what is done, and settles what was
  sent without an answer: in async mode by asking again with the same operation id (the API
  answers ``409 OPERATION_ALREADY_EXISTS`` and the operation is read), in sync mode by
  reading the pool back from its floor, calling a position "not created" only once its
  request can no longer be applied (``max_request_hold`` after the client gave up on it).
* ``resend.<k>``: positions of request ``k`` proven not created, sent again through an
  async operation with the id ``uuid5(job id, "resend.<k>")`` (exactly once as well).
* ``job`` *done* when every position is decided: running the job again sends nothing and
  returns the recorded result.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs

from .._exceptions import JournalMismatchError
from .._journal import Journal
from ._chunking import Chunk
from ._logic import CreateOptions, Planned
from ._models import CreateProgress, FieldError, TaskCreateResult
from ._resolve import NOT_CREATED, UnknownTracker, merge_ranges

__all__ = ["JobSummary", "TaskJob", "replay"]

KIND = "tasks"


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _errors_json(errors: Mapping[str, FieldError]) -> dict[str, dict[str, str]]:
    return {path: {"code": e.code, "message": e.message} for path, e in errors.items()}


def _errors_from(data: Mapping[str, Any]) -> dict[str, FieldError]:
    return {
        str(path): FieldError(code=str(e.get("code", "UNKNOWN")), message=str(e.get("message", "")))
        for path, e in data.items()
    }


@attrs.frozen
class Decided:
    """What a done ``req.<k>`` (or ``resend.<k>``) record says, by position."""

    task_ids: dict[int, str]
    errors: dict[int, dict[str, FieldError]]


@attrs.frozen
class JobSummary:
    """A task job as its journal tells it: ``created`` tasks and ``decided`` positions so
    far, ``in_doubt`` the requests sent without a recorded answer (operation ids in async
    mode), and whether the job is ``finished``."""

    finished: bool
    created: int
    decided: int
    in_doubt: tuple[str, ...]
    job_id: str


class TaskJob:
    """The journal of one ``create_tasks`` job (see the module docstring).

    Example::

        with TaskJob.open("tasks.jsonl.journal", options) as job:
            options = job.options           # the job's operation ids in async mode
            if job.finished:
                return job.recorded_result()
    """

    def __init__(self, journal: Journal, options: CreateOptions) -> None:
        self.journal = journal
        job_id = journal.params.get("job_id")
        self.job_id = uuid.UUID(str(job_id))
        # In async mode every operation id derives from the job's id, run after run.
        self.options = attrs.evolve(options, call_id=self.job_id)

    @classmethod
    def open(cls, path: str | os.PathLike[str], options: CreateOptions) -> TaskJob:
        """Open (or start) the job's journal and bind the options to it.

        Raises:
            JournalLockedError: another process is running this job.
            JournalMismatchError: the journal belongs to another call (named parameter).
            JournalCorruptError / JournalWriteError: see :class:`~toloka_ext._journal.Journal`.
        """
        journal = Journal.open(path)
        try:
            given = options.operation_id
            job_id = journal.params.get("job_id") or str(given or uuid.uuid4())
            journal.start(
                job=KIND,
                job_id=job_id,
                async_mode=options.async_mode,
                allow_defaults=options.allow_defaults,
                skip_invalid_items=options.skip_invalid_items,
                open_pool=options.open_pool,
                chunk_size=options.chunk_size,
            )
            if given is not None and str(given) != journal.params["job_id"]:
                raise JournalMismatchError(
                    f"journal {journal.path} belongs to the job with operation_id "
                    f"{journal.params['job_id']!r}, not {str(given)!r}: run it with that id "
                    "(or without one) to finish it, or use a new journal file",
                    path=str(journal.path),
                    parameter="operation_id",
                )
            return cls(journal, options)
        except BaseException:
            journal.close()
            raise

    @classmethod
    def peek(cls, path: str | os.PathLike[str]) -> JobSummary | None:
        """What the journal at ``path`` says, read without taking it over (``None``: no
        journal there). For a command line to report on, or before, a run."""
        if not os.path.exists(path):
            return None
        journal = Journal.open(path, lock=False)
        created = 0
        decided = 0
        for step, rec in journal.done_records("req."):
            intent = journal.get_intent(step) or {}
            decided += int(intent.get("count", 0))
            created += len(rec.get("ids") or {})
            resent = journal.get_done("resend." + step.removeprefix("req."))
            if resent is not None:
                created += len(resent.get("ids") or {})
        in_doubt = [
            str(rec["operation_id"]) if "operation_id" in rec else step
            for step, rec in journal.intent_records("req.")
            if not journal.is_done(step)
        ]
        return JobSummary(
            finished=journal.is_done("job"),
            created=created,
            decided=decided,
            in_doubt=tuple(in_doubt),
            job_id=str(journal.params.get("job_id", "")),
        )

    def close(self) -> None:
        self.journal.close()

    def __enter__(self) -> TaskJob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> str:
        return str(self.journal.path)

    @property
    def finished(self) -> bool:
        return self.journal.is_done("job")

    # -- floors --------------------------------------------------------------------------

    def floor(self, pool: str) -> tuple[bool, str | None]:
        """``(known, newest id before the job's first request to pool)``."""
        rec = self.journal.get_done(f"floor.{pool}")
        if rec is None:
            return False, None
        value = rec.get("id")
        return True, (str(value) if value is not None else None)

    def record_floor(self, pool: str, newest: str | None) -> None:
        self.journal.done(f"floor.{pool}", id=newest)

    def floors(self) -> dict[str, str | None]:
        """Every pool's recorded floor."""
        out: dict[str, str | None] = {}
        for step, rec in self.journal.done_records("floor."):
            value = rec.get("id")
            out[step.removeprefix("floor.")] = str(value) if value is not None else None
        return out

    # -- requests ------------------------------------------------------------------------

    def check(self, planned: Planned) -> None:
        """Raise :class:`JournalMismatchError` if request ``k`` of this run is not the one
        the journal says was sent as ``k`` (another input, or the same cut differently)."""
        rec = self.journal.get_intent(f"req.{planned.chunk.index}")
        if rec is None:
            return
        chunk = planned.chunk
        same = (
            rec.get("start") == chunk.start
            and rec.get("count") == len(planned.payloads)
            and rec.get("sha256") == body_digest(planned.body)
        )
        if not same:
            raise self.mismatch(planned)

    def mismatch(self, planned: Planned | None) -> JournalMismatchError:
        """The error for input that is not the job's (``None``: another number of tasks)."""
        if planned is None:
            where = "the input holds another number of tasks than the finished job"
        else:
            first = planned.chunk.start
            last = first + len(planned.payloads) - 1
            where = (
                f"request {planned.chunk.index} (positions {first}..{last}) differs from "
                "what the job sent"
            )
        return JournalMismatchError(
            f"journal {self.path} was written for other tasks: {where}. Run the job with the "
            "input it started with to finish it, or use a new journal file for this input",
            path=self.path,
            parameter="tasks",
        )

    def request_count(self) -> int:
        """How many requests the job has decided."""
        return sum(1 for _ in self.journal.done_records("req."))

    def record_settled(self, result: TaskCreateResult) -> None:
        """Write done every request sent without a recorded answer whose positions are all
        decided now (settled by reading the pool back)."""
        for step, intent in list(self.journal.intent_records("req.")):
            if self.journal.is_done(step):
                continue
            start, count = int(intent["start"]), int(intent["count"])
            positions = range(start, start + count)
            if all(p in result.task_ids or p in result.errors for p in positions):
                self.journal.done(step, **_outcome(positions, result))

    def sent(self, index: int) -> dict[str, Any] | None:
        """The intent of request ``index`` if it was sent and is not done."""
        step = f"req.{index}"
        if self.journal.is_done(step):
            return None
        return self.journal.get_intent(step)

    def decided(self, index: int) -> Decided | None:
        """The recorded outcome of request ``index``, if any."""
        rec = self.journal.get_done(f"req.{index}")
        return None if rec is None else _decided(rec)

    def intent(self, planned: Planned, operation_id: uuid.UUID | None) -> None:
        chunk = planned.chunk
        data: dict[str, Any] = {
            "start": chunk.start,
            "count": len(planned.payloads),
            "sha256": body_digest(planned.body),
        }
        if operation_id is not None:
            data["operation_id"] = str(operation_id)
        self.journal.intent(f"req.{chunk.index}", **data)

    def record(self, chunk: Chunk[Any], count: int, result: TaskCreateResult) -> bool:
        """Write request ``chunk.index`` done if each of its positions is decided in
        ``result``; return whether it was."""
        positions = range(chunk.start, chunk.start + count)
        if any(p not in result.task_ids and p not in result.errors for p in positions):
            return False
        self.journal.done(f"req.{chunk.index}", **_outcome(positions, result))
        return True

    # -- resends -------------------------------------------------------------------------

    def resend_operation_id(self, index: int) -> uuid.UUID:
        return uuid.uuid5(self.job_id, f"resend.{index}")

    def not_created(self) -> Iterator[tuple[int, list[int]]]:
        """``(request index, positions)`` recorded as not created and not resent yet."""
        for step, rec in self.journal.done_records("req."):
            index = int(step.removeprefix("req."))
            if self.journal.is_done(f"resend.{index}"):
                continue
            decided = _decided(rec)
            missing = [
                p
                for p, errors in decided.errors.items()
                if set(errors) == {""} and errors[""].code == NOT_CREATED
            ]
            if missing:
                yield index, sorted(missing)

    def resend_intent(self, index: int, positions: list[int]) -> None:
        self.journal.intent(
            f"resend.{index}",
            positions=positions,
            operation_id=str(self.resend_operation_id(index)),
        )

    def resend_done(self, index: int, positions: list[int], result: TaskCreateResult) -> None:
        self.journal.done(f"resend.{index}", **_outcome(positions, result))

    def resent(self, index: int) -> Decided | None:
        rec = self.journal.get_done(f"resend.{index}")
        return None if rec is None else _decided(rec)

    # -- the whole job -------------------------------------------------------------------

    def finish(self, result: TaskCreateResult) -> None:
        self.journal.done(
            "job", total=result.total, created=len(result.task_ids), failed=len(result.errors)
        )

    def recorded_result(self) -> TaskCreateResult:
        """Every decided position, as the journal holds it (resends applied)."""
        result = TaskCreateResult()
        for step, rec in self.journal.done_records("req."):
            index = int(step.removeprefix("req."))
            intent = self.journal.get_intent(step) or {}
            result.total += int(intent.get("count", 0))
            apply_decided(result, _decided(rec))
            resent = self.resent(index)
            if resent is not None:
                apply_decided(result, resent)
        return result


def apply_decided(result: TaskCreateResult, decided: Decided) -> None:
    """Put a recorded outcome into ``result`` (a resend's replaces ``NOT_CREATED``)."""
    for position, task_id in decided.task_ids.items():
        result.errors.pop(position, None)
        result.task_ids[position] = task_id
    for position, errors in decided.errors.items():
        result.errors[position] = errors
    if result.unknown:
        settled = set(decided.task_ids) | set(decided.errors)
        result.unknown = merge_ranges(p for p in result.unknown_positions() if p not in settled)


def _outcome(positions: range | list[int], result: TaskCreateResult) -> dict[str, Any]:
    ids: dict[str, str] = {}
    errors: dict[str, Any] = {}
    for p in positions:
        if p in result.task_ids:
            ids[str(p)] = result.task_ids[p]
        elif p in result.errors:
            errors[str(p)] = _errors_json(result.errors[p])
    return {"ids": ids, "errors": errors}


def _decided(rec: Mapping[str, Any]) -> Decided:
    ids = rec.get("ids") or {}
    errors = rec.get("errors") or {}
    return Decided(
        task_ids={int(p): str(i) for p, i in ids.items()},
        errors={int(p): _errors_from(e) for p, e in errors.items()},
    )


def replay(
    job: TaskJob,
    request: Planned,
    result: TaskCreateResult,
    tracker: UnknownTracker | None,
    on_progress: Callable[[CreateProgress], object] | None,
) -> bool:
    """Take request ``k``'s outcome from the job's journal if an earlier run decided it;
    return whether it did (then nothing is sent). Positions it found not created are kept
    for their resend."""
    chunk = request.chunk
    job.check(request)
    decided = job.decided(chunk.index)
    if decided is None:
        return False
    result.total += len(request.payloads)
    apply_decided(result, decided)
    resent = job.resent(chunk.index)
    if resent is not None:
        apply_decided(result, resent)
    elif tracker is not None:
        for position in decided.errors:
            tracker.lost[position] = request.payloads[position - chunk.start]
    if on_progress is not None:
        on_progress(result.progress(chunk.index + 1))
    return True
