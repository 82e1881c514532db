"""``toloka-ext process``: ``process_new_data`` with bars, resumable through its journal."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from .._exceptions import (
    JournalCorruptError,
    JournalLockedError,
    JournalMismatchError,
    TolokaError,
)
from ._exit import INTERRUPTED
from ._files import FORMATS, open_records
from ._state import State, state_of
from ._v2 import UploadThreshold, input_file, item_filter

__all__ = ["register", "resume_command"]

_SECRET_OPTIONS = ("--api-key", "--oauth-token")


def resume_command(state: State, journal: Path) -> str:
    """The command line that continues this call: the same arguments, with the journal
    named explicitly and any credential option left out (it is never printed)."""
    args: list[str] = []
    skip = False
    for arg in state.argv:
        if skip:
            skip = False
            continue
        if arg in _SECRET_OPTIONS:
            skip = True
            continue
        if arg.startswith(tuple(f"{o}=" for o in _SECRET_OPTIONS)):
            continue
        args.append(arg)
    if not any(a == "--journal" or a.startswith("--journal=") for a in args):
        args += ["--journal", str(journal)]
    return shlex.join([*state.prog.split(), *args])


def _dropped_secret(state: State) -> bool:
    return any(a.split("=", 1)[0] in _SECRET_OPTIONS for a in state.argv)


def process(
    ctx: typer.Context,
    rows: Annotated[Path, input_file(f"The new rows: {FORMATS}.")],
    pipeline: Annotated[str, typer.Option("--pipeline", help="The pipeline to run them through.")],
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="Where to write the results.")],
    journal: Annotated[
        Path | None,
        typer.Option(
            "--journal",
            dir_okay=False,
            help="The resumable journal (default: OUT.journal). Rerun with the same journal "
            "after a crash or Ctrl-C: nothing is created twice.",
            show_default=False,
        ),
    ] = None,
    project: Annotated[
        str | None,
        typer.Option("--project", help="The pipeline's project (default: found by listing)."),
    ] = None,
    field: Annotated[
        list[str] | None,
        typer.Option("--field", help="A field of the rows to declare (repeat); default: inferred."),
    ] = None,
    item_limit: Annotated[
        int | None, typer.Option("--item-limit", min=1, help="Process at most this many items.")
    ] = None,
    filter_: Annotated[
        str | None,
        typer.Option("--filter", help="Which items to process, as JSON (see pipelines attach)."),
    ] = None,
    export_field: Annotated[
        list[str] | None,
        typer.Option("--export-field", help="A field to export (repeat); default: all."),
    ] = None,
    export_format: Annotated[
        str | None, typer.Option("--export-format", help="jsonl, json or csv.")
    ] = None,
    name_prefix: Annotated[
        str, typer.Option("--name-prefix", help="Prefix of the names of what is created.")
    ] = "toloka-ext",
    upload_threshold: UploadThreshold = None,
) -> None:
    """Run new rows through a pipeline: dataset, rows, copy, attach, run, export, download.

    Progress shows the upload, the run and the download. Ctrl-C leaves the journal and
    prints the command that resumes (exit 130).
    """
    state = state_of(ctx)
    journal_path = journal if journal is not None else out.with_name(out.name + ".journal")
    chosen = item_filter(filter_)
    records = open_records(rows, what="rows")  # an empty file is refused before anything
    kwargs: dict[str, Any] = {}
    if upload_threshold is not None:
        kwargs["upload_threshold"] = upload_threshold
    try:
        with state.client() as client:
            result = client.process_new_data(
                pipeline,
                records,
                journal=journal_path,
                project_id=project,
                fields=field or None,
                item_limit=item_limit,
                item_filter=chosen,
                export_fields=export_field or None,
                export_format=export_format,
                output=out,
                name_prefix=name_prefix,
                progress=state.progress,
                **kwargs,
            )
    except KeyboardInterrupt:
        state.interrupt_reported = True
        _resume_hint(state, journal_path, "interrupted")
        if state.json_mode:
            message = f"interrupted; the journal {journal_path} keeps every step done so far"
            error = {"type": "KeyboardInterrupt", "message": message, "exit_code": INTERRUPTED}
            resume = {"journal": journal_path, "resume": resume_command(state, journal_path)}
            state.output.document({"error": {**error, **resume}})
        raise typer.Exit(INTERRUPTED) from None
    except (JournalMismatchError, JournalCorruptError, JournalLockedError):
        raise  # nothing was sent: no resume hint
    except TolokaError:
        if journal_path.exists():
            _resume_hint(state, journal_path, "stopped")
        raise
    run = result.run
    p = run.progress
    counts = f": {p.completed}/{p.total} completed, {p.failed} failed" if p else ""
    rows_out = result.export.item_count
    human = "\n".join(
        [
            f"results: {result.path} ({rows_out if rows_out is not None else '?'} rows, "
            f"{result.format})",
            f"run {run.id} {run.status}{counts}",
            f"journal: {journal_path} (this command again resumes from it; "
            "delete it to process the file again as a new batch)",
        ]
    )
    doc = {
        "path": result.path,
        "format": result.format,
        "journal": journal_path,
        "project_id": result.project_id,
        "dataset_id": result.dataset_id,
        "pipeline": result.pipeline,
        "run": run,
        "export": result.export,
        "items": result.items,
    }
    state.output.show(doc, human=human)


def _resume_hint(state: State, journal: Path, what: str) -> None:
    lines = [
        f"{state.prog}: {what}; the journal {journal} keeps every step done so far. Resume with:",
        f"  {resume_command(state, journal)}",
    ]
    if _dropped_secret(state):
        lines.append("(the credential option is left out: pass it again, or set TOLOKA_API_KEY)")
    state.output.note("\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command("process")(process)
