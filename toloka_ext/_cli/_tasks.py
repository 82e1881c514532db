"""API v1 commands: ``tasks create|list|get|update|set-overlap`` and
``operations get|log|list``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, cast

import typer

from .._exceptions import (
    APIStatusError,
    InvalidInputError,
    JournalCorruptError,
    JournalLockedError,
    JournalMismatchError,
    OperationFailedError,
    TolokaError,
)
from .._v1._job import TaskJob
from .._v1._models import CreateProgress
from .._v2._rows import CsvFile, JsonArrayFile, json_line_error
from ..types import OperationLogItem
from ._exit import INTERRUPTED, OUTCOME_UNKNOWN, CliError
from ._files import FORMATS, csv_columns, csv_task, open_records
from ._interrupt import GracefulStop
from ._output import error_lines, result_document
from ._state import State, state_of
from ._v2 import Limit, input_file, json_option, take
from ._workflow import _resume_hint, resume_command

__all__ = ["TaskFile", "register"]

TASK_COLUMNS = (
    "id",
    "pool_id",
    "overlap",
    "remaining=remaining_overlap",
    "created",
    "input_values",
)
OPERATION_COLUMNS = ("id", "type", "status", "progress", "submitted", "finished")
LOG_COLUMNS = ("type", "success", "input", "output")


class TaskFile:
    """Task objects from a file, read as every command reads one (:mod:`._files`): JSON
    Lines, one JSON array, or CSV by the column rules of a DataFrame; read twice: once to
    check and count before anything is sent, then streamed to ``create_tasks``.

    ``pool`` fills ``pool_id`` where a task has none (a different one is an error);
    ``overlap`` fills ``overlap`` likewise.
    """

    def __init__(self, path: Path, *, pool: str | None, overlap: int | None) -> None:
        self.path = path
        self.pool = pool
        self.overlap = overlap
        self.reader = open_records(path, what="tasks")  # an empty file is refused here
        self.count = sum(1 for _ in self._tasks())

    def __len__(self) -> int:
        """The number of tasks (what ``create_tasks``' progress bar counts to)."""
        return self.count

    def _raw(self) -> Iterator[tuple[str, object]]:
        """(where, value) for each task in the file."""
        if isinstance(self.reader, CsvFile):
            for i, row in enumerate(self.reader):
                if i == 0:
                    csv_columns(self.path, list(cast("dict[str, str]", row)))
                where = f"row {i + 1}"
                yield where, csv_task(self.path, where, cast("dict[str, str]", row))
            return
        if isinstance(self.reader, JsonArrayFile):
            for i, value in enumerate(self.reader):
                yield f"element {i}", value
            return
        with open(self.path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    yield f"line {lineno}", json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InvalidInputError(json_line_error(self.path, lineno, exc)) from None

    def _tasks(self) -> Iterator[dict[str, Any]]:
        try:
            for where, value in self._raw():
                if not isinstance(value, dict):
                    raise CliError(
                        f"{self.path}: {where} is not a task object ({type(value).__name__})"
                    )
                yield self._complete(where, value)
        except UnicodeDecodeError as exc:
            raise CliError(f"{self.path}: not UTF-8 text ({exc.reason})") from None

    def _complete(self, where: str, task: dict[str, Any]) -> dict[str, Any]:
        pool = task.get("pool_id")
        if self.pool is not None:
            if pool is None:
                task["pool_id"] = self.pool
            elif str(pool) != self.pool:
                raise CliError(
                    f"{self.path}: {where} is a task for pool {pool}, not --pool {self.pool}"
                )
        elif pool is None:
            raise CliError(f"{self.path}: {where} has no pool_id: pass --pool")
        if self.overlap is not None and "overlap" not in task:
            task["overlap"] = self.overlap
        return task

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._tasks()


tasks = typer.Typer(help="API v1 tasks: create many, list, get.", no_args_is_help=True)


@tasks.command("create")
def tasks_create(
    ctx: typer.Context,
    file: Annotated[
        Path,
        input_file(
            f"Task objects ({{pool_id, input_values, overlap, ...}}): {FORMATS} "
            "(columns: task fields, input_values.<key> for one input value)."
        ),
    ],
    pool: Annotated[
        str | None,
        typer.Option("--pool", help="The pool (filled in where a task has no pool_id)."),
    ] = None,
    overlap: Annotated[
        int | None,
        typer.Option("--overlap", min=1, help="Overlap for tasks that do not set one."),
    ] = None,
    async_mode: Annotated[
        bool,
        typer.Option(
            "--async-mode/--sync-mode",
            help="Async: one background operation per request, with an id of the job's "
            "(a rerun asks for it again: exactly once, at once). Sync: the tasks in the "
            "request itself; a lost answer is settled by reading the pool back, and a task "
            "found absent is sent again only --max-request-hold after it was sent.",
        ),
    ] = True,
    allow_defaults: Annotated[
        bool, typer.Option("--allow-defaults", help="Use the pool's default overlap.")
    ] = False,
    skip_invalid_items: Annotated[
        bool,
        typer.Option("--skip-invalid-items", help="Create the valid tasks, report the others."),
    ] = False,
    open_pool: Annotated[
        bool, typer.Option("--open-pool", help="Open the pool after the last chunk.")
    ] = False,
    operation_id: Annotated[
        str | None,
        typer.Option(
            "--operation-id",
            help="Async mode: the job's UUID (default: one of its own, kept in the journal); "
            "every request's operation id derives from it.",
        ),
    ] = None,
    chunk_size: Annotated[
        int | None,
        typer.Option(
            "--chunk-size", min=1, help="Tasks per request (at most 5000).", show_default=False
        ),
    ] = None,
    wait_for_quota: Annotated[
        bool,
        typer.Option(
            "--wait-for-quota", help="Sleep through a spent daily quota instead of stopping."
        ),
    ] = False,
    resolve_unknown: Annotated[
        bool,
        typer.Option(
            "--resolve-unknown/--no-resolve-unknown",
            help="After a lost answer, read the pool back to settle which tasks exist "
            "(always on with a journal).",
        ),
    ] = True,
    resend_missing: Annotated[
        bool,
        typer.Option(
            "--resend-missing",
            help="Send once more what was settled as not created (always, with a journal: "
            "it is part of the job).",
        ),
    ] = False,
    validate_first: Annotated[
        bool,
        typer.Option(
            "--validate-first/--no-validate-first",
            help="Check every task before sending any (else one chunk ahead).",
        ),
    ] = True,
    journal: Annotated[
        Path | None,
        typer.Option(
            "--journal",
            dir_okay=False,
            help="The job's journal (default: FILE.journal). Run the same command again "
            "after a crash, Ctrl-C or kill: it goes on from it, creating nothing twice.",
            show_default=False,
        ),
    ] = None,
    no_journal: Annotated[
        bool,
        typer.Option("--no-journal", help="Keep no journal: a rerun is a new batch."),
    ] = False,
    new_batch: Annotated[
        bool,
        typer.Option(
            "--new-batch",
            help="The journal holds a finished job: start a new one (creating the tasks "
            "again) instead of reporting it done.",
        ),
    ] = False,
) -> None:
    """Create tasks from a file with a progress bar, exactly once; exit 4 if some may or may
    not exist.

    The job is journaled beside the file: run the same command again after a crash, Ctrl-C
    or kill and it goes on where it stopped; run it again once done and it says so. The
    first Ctrl-C stops after the request in flight; positions in the output count the
    file's tasks from 0.
    """
    state = state_of(ctx)
    source = TaskFile(file, pool=pool, overlap=overlap)
    kwargs: dict[str, Any] = {}
    if chunk_size is not None:
        kwargs["chunk_size"] = chunk_size
    journal_path: Path | None = None
    before = None
    if not no_journal:
        journal_path = journal if journal is not None else file.with_name(file.name + ".journal")
        before = TaskJob.peek(journal_path)
        if before is not None and before.finished and new_batch:
            journal_path.unlink()
            before = None
        elif new_batch and before is not None:
            raise CliError(
                f"--new-batch: the journal {journal_path} holds an unfinished job; run "
                "without --new-batch to finish it (nothing is created twice), or delete the "
                "journal first"
            )
    elif journal is not None:
        raise CliError("--journal and --no-journal: choose one")
    done_before = before is not None and before.finished
    seen: list[CreateProgress] = []
    with GracefulStop() as stop, state.client() as client:

        def on_progress(progress: CreateProgress) -> None:
            seen.append(progress)
            del seen[:-1]
            stop.check()

        try:
            result = client.tasks.create_tasks(
                source,
                async_mode=async_mode,
                allow_defaults=allow_defaults,
                skip_invalid_items=skip_invalid_items,
                open_pool=open_pool,
                operation_id=operation_id,
                progress=state.progress,
                wait_for_quota=wait_for_quota,
                keep_tasks=False,  # the ids are all the command reports
                validate_first=validate_first,
                resolve_unknown=resolve_unknown,
                resend_missing=resend_missing,
                raise_on_unknown=False,  # reported below, with exit code 4
                on_progress=on_progress,
                journal=journal_path,
                **kwargs,
            )
        except KeyboardInterrupt:
            _interrupted(state, journal_path, len(source), seen[-1] if seen else None)
            raise typer.Exit(INTERRUPTED) from None
        except (JournalMismatchError, JournalCorruptError, JournalLockedError):
            raise  # nothing was sent: no resume hint
        except TolokaError as exc:
            if journal_path is not None and journal_path.exists() and _rerun_helps(exc):
                _resume_hint(state, journal_path, "stopped")
            raise
    doc = result_document(result)
    if journal_path is not None:
        doc["journal"] = str(journal_path)
        doc["already_done"] = done_before
    human = [
        f"created {doc['created']} of {result.total} tasks"
        + (f", {doc['failed']} invalid (skipped)" if doc["failed"] else "")
        + (f", {doc['unknown']} unknown" if doc["unknown"] else "")
    ]
    human.extend(error_lines(result))
    if result.unknown:
        ranges = ", ".join(f"{r.start}-{r.stop - 1}" for r in result.unknown)
        human.append(
            f"  positions {ranges} may or may not have been created: "
            + (
                "run this command again to settle them"
                if journal_path is not None
                else "check the pool before sending them again"
            )
        )
    if journal_path is not None:
        human.append(
            f"journal: {journal_path} (this job was already complete: nothing was sent; "
            "--new-batch creates the tasks again)"
            if done_before
            else f"journal: {journal_path} (this command again "
            + ("settles what is left" if result.unknown else "says the job is done")
            + "; --new-batch starts a new batch)"
        )
    state.output.show(doc, human="\n".join(human))
    if result.unknown:
        raise typer.Exit(OUTCOME_UNKNOWN)


def _rerun_helps(exc: TolokaError) -> bool:
    """Whether running the job again can get further: not after a refusal that would be
    refused again (bad input, a failed operation, a 4xx other than a rate limit)."""
    if isinstance(exc, InvalidInputError | OperationFailedError):
        return False
    if isinstance(exc, APIStatusError):
        return exc.status_code >= 500 or exc.status_code in (408, 429)
    return True


def _interrupted(
    state: State, journal: Path | None, total: int, last: CreateProgress | None
) -> None:
    """What a Ctrl-C leaves: counts from the journal (else the last progress), what is in
    doubt, and the command that goes on."""
    state.interrupt_reported = True
    summary = TaskJob.peek(journal) if journal is not None else None
    created = summary.created if summary is not None else (last.created if last else 0)
    lines = [f"{state.prog}: interrupted: {created} of {total} tasks created so far"]
    if summary is not None and summary.in_doubt:
        lines.append(
            f"  sent without a recorded answer: {', '.join(summary.in_doubt[:8])}"
            + (" ..." if len(summary.in_doubt) > 8 else "")
            + " (the rerun settles them: nothing is created twice)"
        )
    state.output.note("\n".join(lines))
    if journal is not None:
        _resume_hint(state, journal, "interrupted")
    if state.json_mode:
        error: dict[str, Any] = {
            "type": "KeyboardInterrupt",
            "message": f"interrupted: {created} of {total} tasks created so far",
            "exit_code": INTERRUPTED,
            "created": created,
            "total": total,
        }
        if journal is not None:
            error.update(journal=str(journal), resume=resume_command(state, journal))
            if summary is not None:
                error["in_doubt"] = list(summary.in_doubt)
        state.output.document({"error": error})


@tasks.command("list")
def tasks_list(
    ctx: typer.Context,
    pool: Annotated[str, typer.Option("--pool", help="The pool.")],
    overlap: Annotated[int | None, typer.Option(help="Overlap equal to.")] = None,
    overlap_gt: Annotated[int | None, typer.Option(help="Overlap greater than.")] = None,
    overlap_gte: Annotated[int | None, typer.Option(help="Overlap at least.")] = None,
    overlap_lt: Annotated[int | None, typer.Option(help="Overlap less than.")] = None,
    overlap_lte: Annotated[int | None, typer.Option(help="Overlap at most.")] = None,
    created_gt: Annotated[str | None, typer.Option(help="Created after (ISO time, UTC).")] = None,
    created_gte: Annotated[str | None, typer.Option(help="Created at or after.")] = None,
    created_lt: Annotated[str | None, typer.Option(help="Created before.")] = None,
    created_lte: Annotated[str | None, typer.Option(help="Created at or before.")] = None,
    id_gt: Annotated[str | None, typer.Option(help="Id after.")] = None,
    id_gte: Annotated[str | None, typer.Option(help="Id at or after.")] = None,
    id_lt: Annotated[str | None, typer.Option(help="Id before.")] = None,
    id_lte: Annotated[str | None, typer.Option(help="Id at or before.")] = None,
    sort: Annotated[str, typer.Option(help="id (oldest first) or -id (newest first).")] = "id",
    limit: Limit = 100,
) -> None:
    """List the tasks of a pool matching every filter given."""
    state = state_of(ctx)
    with state.client() as client:
        found = client.tasks.list(
            pool_id=pool,
            overlap=overlap,
            overlap_gt=overlap_gt,
            overlap_gte=overlap_gte,
            overlap_lt=overlap_lt,
            overlap_lte=overlap_lte,
            created_gt=created_gt,
            created_gte=created_gte,
            created_lt=created_lt,
            created_lte=created_lte,
            id_gt=id_gt,
            id_gte=id_gte,
            id_lt=id_lt,
            id_lte=id_lte,
            sort=sort,
            limit=min(limit, 300) if limit else 300,
        )
        items = take(found, limit)
    state.output.rows(items, TASK_COLUMNS)


@tasks.command("get")
def tasks_get(
    ctx: typer.Context, task_id: Annotated[str, typer.Argument(help="The task.")]
) -> None:
    """One task."""
    state = state_of(ctx)
    with state.client() as client:
        task = client.tasks.get(task_id)
    state.output.show(task)


OverlapFlag = Annotated[
    bool | None,
    typer.Option(
        "--infinite-overlap/--no-infinite-overlap",
        help="Give the task to any number of Tolokers, or stop doing so.",
        show_default=False,
    ),
]


@tasks.command("update")
def tasks_update(
    ctx: typer.Context,
    task_id: Annotated[str, typer.Argument(help="The task.")],
    overlap: Annotated[int | None, typer.Option(help="The new overlap (1..30000).")] = None,
    infinite_overlap: OverlapFlag = None,
    known_solutions: Annotated[
        str | None,
        typer.Option(
            help='JSON: [{"output_values": {...}, "correctness_weight": 1}, ...] (control tasks).'
        ),
    ] = None,
    baseline_solutions: Annotated[
        str | None,
        typer.Option(help='JSON: [{"output_values": {...}, "confidence_weight": 1}, ...].'),
    ] = None,
    message_on_unknown_solution: Annotated[
        str | None, typer.Option(help="Shown to a Toloker whose answer is not a known one.")
    ] = None,
    open_pool: Annotated[
        bool, typer.Option("--open-pool", help="Open the task's pool afterwards.")
    ] = False,
) -> None:
    """Change a task: only the fields given are sent (exit 2 if none is)."""
    state = state_of(ctx)
    known = json_option(known_solutions, "--known-solutions")
    baseline = json_option(baseline_solutions, "--baseline-solutions")
    with state.client() as client:
        task = client.tasks.update(
            task_id,
            overlap=overlap,
            infinite_overlap=infinite_overlap,
            known_solutions=known,
            baseline_solutions=baseline,
            message_on_unknown_solution=message_on_unknown_solution,
            open_pool=open_pool,
        )
    state.output.show(task)


@tasks.command("set-overlap")
def tasks_set_overlap(
    ctx: typer.Context,
    task_id: Annotated[str, typer.Argument(help="The task.")],
    overlap: Annotated[
        int | None, typer.Option(help="The overlap wanted (0 stops giving the task out).")
    ] = None,
    infinite_overlap: OverlapFlag = None,
) -> None:
    """Set a task's overlap, or the least it can be: what Tolokers already took
    (``--overlap 0`` stops the task; ``--no-infinite-overlap`` ends an infinite one)."""
    state = state_of(ctx)
    with state.client() as client:
        task = client.tasks.set_overlap_or_min(
            task_id, overlap=overlap, infinite_overlap=infinite_overlap
        )
    state.output.show(task)


operations = typer.Typer(help="API v1 operations: get, log, list.", no_args_is_help=True)


@operations.command("get")
def operations_get(
    ctx: typer.Context, operation_id: Annotated[str, typer.Argument(help="The operation.")]
) -> None:
    """An operation's state."""
    state = state_of(ctx)
    with state.client() as client:
        op = client.operations.get(operation_id)
        # A failed operation says why in its log: the steps that failed are shown with it.
        failed = [e for e in client.operations.get_log(op.id) if not e.success] if op.failed else []
    progress = f" ({op.progress}%)" if op.progress is not None and not op.is_final else ""
    human = [f"operation {op.id} {op.type or ''} {op.status}{progress}"]
    human.extend(failure_lines(failed))
    state.output.show(op, human="\n".join(human))


def failure_lines(failed: list[OperationLogItem], *, limit: int = 20) -> list[str]:
    """Why an operation failed, one line a failed step of its log:
    ``  TASK_VALIDATE input_values.image: INVALID_TYPE must be ...; input {...}``."""
    lines = []
    for entry in failed[:limit]:
        reasons = []
        for path, error in (entry.output or {}).items():
            if isinstance(error, dict) and "code" in error:
                reasons.append(f"{path}: {error['code']} {error.get('message', '')}".rstrip())
            else:
                reasons.append(f"{path}: {json.dumps(error, ensure_ascii=False)}")
        sent = json.dumps(entry.input, ensure_ascii=False, separators=(",", ":"))
        sent = sent if len(sent) <= 120 else sent[:117] + "..."
        lines.append(f"  {entry.type} {'; '.join(reasons) or '(no reason given)'}; input {sent}")
    if len(failed) > limit:
        lines.append(f"  ... and {len(failed) - limit} more (operations log lists all)")
    return lines


@operations.command("log")
def operations_log(
    ctx: typer.Context, operation_id: Annotated[str, typer.Argument(help="The operation.")]
) -> None:
    """An operation's log (one entry per task created or refused)."""
    state = state_of(ctx)
    with state.client() as client:
        log = client.operations.get_log(operation_id)
    state.output.rows(log, LOG_COLUMNS)


@operations.command("list")
def operations_list(
    ctx: typer.Context,
    type_: Annotated[str | None, typer.Option("--type", help="e.g. TASK.BATCH_CREATE.")] = None,
    status: Annotated[str | None, typer.Option(help="PENDING, RUNNING, SUCCESS or FAIL.")] = None,
    submitted_gt: Annotated[str | None, typer.Option(help="Submitted after (ISO, UTC).")] = None,
    submitted_gte: Annotated[str | None, typer.Option(help="Submitted at or after.")] = None,
    submitted_lt: Annotated[str | None, typer.Option(help="Submitted before.")] = None,
    submitted_lte: Annotated[str | None, typer.Option(help="Submitted at or before.")] = None,
    finished_gt: Annotated[str | None, typer.Option(help="Finished after.")] = None,
    finished_gte: Annotated[str | None, typer.Option(help="Finished at or after.")] = None,
    finished_lt: Annotated[str | None, typer.Option(help="Finished before.")] = None,
    finished_lte: Annotated[str | None, typer.Option(help="Finished at or before.")] = None,
    id_gt: Annotated[str | None, typer.Option(help="Id after.")] = None,
    id_gte: Annotated[str | None, typer.Option(help="Id at or after.")] = None,
    id_lt: Annotated[str | None, typer.Option(help="Id before.")] = None,
    id_lte: Annotated[str | None, typer.Option(help="Id at or before.")] = None,
    sort: Annotated[str, typer.Option(help="id (oldest first) or -id (newest first).")] = "id",
    limit: Limit = 100,
) -> None:
    """List the account's operations matching every filter given."""
    state = state_of(ctx)
    with state.client() as client:
        found = client.operations.list(
            type=type_,
            status=status,
            submitted_gt=submitted_gt,
            submitted_gte=submitted_gte,
            submitted_lt=submitted_lt,
            submitted_lte=submitted_lte,
            finished_gt=finished_gt,
            finished_gte=finished_gte,
            finished_lt=finished_lt,
            finished_lte=finished_lte,
            id_gt=id_gt,
            id_gte=id_gte,
            id_lt=id_lt,
            id_lte=id_lte,
            sort=sort,
            limit=min(limit, 300) if limit else 300,
        )
        items = take(found, limit)
    state.output.rows(items, OPERATION_COLUMNS)


def register(app: typer.Typer) -> None:
    app.add_typer(tasks, name="tasks")
    app.add_typer(operations, name="operations")
