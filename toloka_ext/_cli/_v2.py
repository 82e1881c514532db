"""Commands over the Pipeline API (v2-beta) resources: ``whoami``, ``projects``,
``datasets``, ``pipelines``, ``runs``, ``exports``; each calls one client method."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from .._sync._client import Toloka
from .._v2._models import ItemFilter, ItemFilterCondition
from ._exit import CliError
from ._files import FORMATS, open_records
from ._state import State, state_of

__all__ = ["item_filter", "json_option", "register", "take"]

T = TypeVar("T")

PROJECT_COLUMNS = ("id", "name", "created_at")
DATASET_COLUMNS = ("id", "name", "items=item_count", "created_at")
FIELD_COLUMNS = ("id", "name", "json_schema")
PIPELINE_COLUMNS = ("id", "name", "project_id", "source=source_pipeline_id", "dataset_id")
RUN_COLUMNS = (
    "id",
    "status",
    "completed=progress.completed",
    "failed=progress.failed",
    "total=progress.total",
    "created_at",
    "finished_at",
)
EXPORT_COLUMNS = ("id", "status", "format", "items=item_count", "dataset_id")

Limit = Annotated[
    int, typer.Option("--limit", min=0, help="At most this many items (0: all of them).")
]
UploadThreshold = Annotated[
    int | None,
    typer.Option(
        "--upload-threshold",
        min=0,
        help="Bytes above which rows go through one upload instead of inline requests.",
        show_default=False,
    ),
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout", min=0.0, help="Give up waiting after this many seconds.", show_default=False
    ),
]


def input_file(help_text: str | None = None) -> Any:
    """A path argument that Typer checks is an existing, readable file before the command
    runs (one rule for every command that reads a file)."""
    return typer.Argument(
        exists=True, dir_okay=False, readable=True, help=help_text, show_default=False
    )


InputFile = Annotated[Path, input_file()]


def take(items: Iterable[T], limit: int) -> list[T]:
    """The first ``limit`` items (``0``: all) of a lazy paginator."""
    return list(items) if limit == 0 else list(itertools.islice(items, limit))


def json_option(text: str | None, option: str) -> Any:
    """A JSON value given on the command line (``None`` when the option is not given)."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CliError(f"{option} is not JSON: {exc}") from None


def item_filter(text: str | None) -> ItemFilter | None:
    """``--filter``: the API's JSON, ``{"match": "all", "conditions": [{"field": ...,
    "operator": ..., "value": ...}]}``, or just the list of conditions."""
    data = json_option(text, "--filter")
    if data is None:
        return None
    if isinstance(data, list):
        data = {"conditions": data}
    if not isinstance(data, dict) or not isinstance(data.get("conditions"), list):
        raise CliError('--filter must be {"match": "all|any", "conditions": [...]} or a list')
    try:
        conditions = [
            ItemFilterCondition(c["field"], c["operator"], c.get("value"))
            for c in data["conditions"]
        ]
        return ItemFilter(conditions, match=str(data.get("match", "all")))
    except (KeyError, TypeError) as exc:
        raise CliError(
            f"--filter: each condition needs field and operator ({type(exc).__name__}: {exc})"
        ) from None


# -- whoami -------------------------------------------------------------------------------


def whoami(ctx: typer.Context) -> None:
    """Who the API key belongs to (a cheap check of the key)."""
    state = state_of(ctx)
    with state.client() as client:
        account = client.me()
    who = account.email or account.name or ""
    state.output.show(account, human=f"{account.id} {who}".strip())


# -- projects -----------------------------------------------------------------------------

projects = typer.Typer(help="Projects (pipelines are designed in the app).", no_args_is_help=True)


@projects.command("list")
def projects_list(ctx: typer.Context, limit: Limit = 100) -> None:
    """List projects."""
    state = state_of(ctx)
    with state.client() as client:
        items = take(client.projects.list(), limit)
    state.output.rows(items, PROJECT_COLUMNS)


@projects.command("create")
def projects_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The project's name.")],
    description: Annotated[str | None, typer.Option(help="A description.")] = None,
) -> None:
    """Create a project."""
    state = state_of(ctx)
    with state.client() as client:
        project = client.projects.create(name, description=description)
    state.output.show(project, human=f"created project {project.id} ({project.name})")


# -- datasets -----------------------------------------------------------------------------

datasets = typer.Typer(help="Datasets: create, list, fields, add rows.", no_args_is_help=True)


@datasets.command("list")
def datasets_list(
    ctx: typer.Context,
    project_id: Annotated[str, typer.Argument(help="The project.")],
    limit: Limit = 100,
) -> None:
    """List the datasets of a project."""
    state = state_of(ctx)
    with state.client() as client:
        items = take(client.datasets.list(project_id), limit)
    state.output.rows(items, DATASET_COLUMNS)


@datasets.command("create")
def datasets_create(
    ctx: typer.Context,
    project_id: Annotated[str, typer.Argument(help="The project to create it in.")],
    name: Annotated[str, typer.Option("--name", help="The dataset's name.")],
) -> None:
    """Create an empty dataset."""
    state = state_of(ctx)
    with state.client() as client:
        dataset = client.datasets.create(project_id, name=name)
    state.output.show(dataset, human=f"created dataset {dataset.id} ({dataset.name})")


@datasets.command("fields")
def datasets_fields(
    ctx: typer.Context, dataset_id: Annotated[str, typer.Argument(help="The dataset.")]
) -> None:
    """List the fields of a dataset."""
    state = state_of(ctx)
    with state.client() as client:
        fields = client.datasets.list_fields(dataset_id)
    state.output.rows(fields, FIELD_COLUMNS)


@datasets.command("add-items")
def datasets_add_items(
    ctx: typer.Context,
    dataset_id: Annotated[str, typer.Argument(help="The dataset.")],
    rows: Annotated[Path, input_file(f"Rows: {FORMATS}.")],
    field: Annotated[
        list[str] | None,
        typer.Option("--field", help="A field to declare (repeat); default: inferred."),
    ] = None,
    upload_threshold: UploadThreshold = None,
) -> None:
    """Add rows to a dataset (inline requests or one upload, as fits)."""
    state = state_of(ctx)
    records = open_records(rows, what="rows")
    kwargs: dict[str, Any] = {}
    if upload_threshold is not None:
        kwargs["upload_threshold"] = upload_threshold
    with state.client() as client:
        summary = client.datasets.add_items(
            dataset_id, records, fields=field or None, progress=state.progress, **kwargs
        )
    how = f"{summary.requests} request(s)" if summary.path == "inline" else "one upload"
    state.output.show(summary, human=f"added {summary.rows} rows to {summary.dataset_id} ({how})")


# -- pipelines ----------------------------------------------------------------------------

pipelines = typer.Typer(
    help="Pipelines: list, copy, attach a dataset, import and export files.",
    no_args_is_help=True,
)


@pipelines.command("list")
def pipelines_list(
    ctx: typer.Context,
    project_id: Annotated[str, typer.Argument(help="The project.")],
    limit: Limit = 100,
) -> None:
    """List the pipelines of a project."""
    state = state_of(ctx)
    with state.client() as client:
        items = take(client.pipelines.list(project_id), limit)
    state.output.rows(items, PIPELINE_COLUMNS)


@pipelines.command("copy")
def pipelines_copy(
    ctx: typer.Context,
    pipeline_id: Annotated[str, typer.Argument(help="The pipeline to copy.")],
    name: Annotated[str | None, typer.Option(help="The copy's name.")] = None,
    project: Annotated[
        str | None, typer.Option("--project", help="The project to copy it into.")
    ] = None,
) -> None:
    """Copy a pipeline (each batch of new data gets its own copy)."""
    state = state_of(ctx)
    with state.client() as client:
        copy = client.pipelines.copy(pipeline_id, name=name, project_id=project)
    state.output.show(copy, human=f"copied {pipeline_id} to {copy.id} ({copy.name})")


@pipelines.command("attach")
def pipelines_attach(
    ctx: typer.Context,
    pipeline_id: Annotated[str, typer.Argument(help="The pipeline.")],
    dataset_id: Annotated[str, typer.Argument(help="The dataset to bind to it.")],
    item_limit: Annotated[
        int | None,
        typer.Option("--item-limit", min=1, help="Process at most this many items."),
    ] = None,
    filter_: Annotated[
        str | None,
        typer.Option(
            "--filter",
            help='Which items, as JSON: {"match": "all", "conditions": '
            '[{"field": "lang", "operator": "eq", "value": "en"}]}.',
        ),
    ] = None,
) -> None:
    """Bind a dataset to a pipeline."""
    state = state_of(ctx)
    chosen = item_filter(filter_)
    with state.client() as client:
        attachment = client.pipelines.attach(
            pipeline_id, dataset_id, item_limit=item_limit, item_filter=chosen
        )
    state.output.show(attachment, human=f"attached dataset {dataset_id} to {pipeline_id}")


@pipelines.command("import")
def pipelines_import(
    ctx: typer.Context,
    project_id: Annotated[str, typer.Argument(help="The project to import into.")],
    file: InputFile,
    name: Annotated[str | None, typer.Option(help="The new pipeline's name.")] = None,
) -> None:
    """Import a .pipeline file exported from the app."""
    state = state_of(ctx)
    with state.client() as client:
        pipeline = client.pipelines.import_file(project_id, file, name=name)
    state.output.show(pipeline, human=f"imported {file} as {pipeline.id} ({pipeline.name})")


@pipelines.command("export")
def pipelines_export(
    ctx: typer.Context,
    pipeline_id: Annotated[str, typer.Argument(help="The pipeline.")],
    file: Annotated[Path, typer.Argument(dir_okay=False, help="Where to write it.")],
) -> None:
    """Save a pipeline as a portable .pipeline file (written atomically)."""
    state = state_of(ctx)
    with state.client() as client:
        path = client.pipelines.export_to_file(pipeline_id, file)
    state.output.show({"pipeline_id": pipeline_id, "path": path}, human=f"wrote {path}")


# -- runs ---------------------------------------------------------------------------------

runs = typer.Typer(help="Runs: start, watch, get, list.", no_args_is_help=True)


def _run_line(run: Any) -> str:
    p = run.progress
    counts = f": {p.completed}/{p.total} completed, {p.failed} failed" if p else ""
    return f"run {run.id} {run.status}{counts}"


@runs.command("list")
def runs_list(
    ctx: typer.Context,
    pipeline_id: Annotated[str, typer.Argument(help="The pipeline.")],
    limit: Limit = 100,
) -> None:
    """List the runs of a pipeline."""
    state = state_of(ctx)
    with state.client() as client:
        items = take(client.runs.list(pipeline_id), limit)
    state.output.rows(items, RUN_COLUMNS)


@runs.command("get")
def runs_get(ctx: typer.Context, run_id: Annotated[str, typer.Argument(help="The run.")]) -> None:
    """A run's status and progress."""
    state = state_of(ctx)
    with state.client() as client:
        run = client.runs.get(run_id)
    state.output.show(run, human=_run_line(run))


@runs.command("start")
def runs_start(
    ctx: typer.Context,
    pipeline_id: Annotated[str, typer.Argument(help="The pipeline (with a dataset attached).")],
    name: Annotated[str | None, typer.Option(help="The run's name.")] = None,
    watch: Annotated[bool, typer.Option("--watch", help="Wait until it finishes.")] = False,
    timeout: Timeout = None,
) -> None:
    """Start a run over the pipeline's attached dataset."""
    state = state_of(ctx)
    with state.client() as client:
        run = client.runs.start(pipeline_id, name=name)
        if watch:
            run = _watch(client, state, run.id, timeout)
    state.output.show(run, human=_run_line(run))


def _watch(client: Toloka, state: State, run_id: str, timeout: float | None) -> Any:
    if timeout is None:  # the client's poll policy decides
        return client.runs.watch(run_id, progress=state.progress)
    return client.runs.watch(run_id, timeout=timeout, progress=state.progress)


@runs.command("watch")
def runs_watch(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The run.")],
    timeout: Timeout = None,
) -> None:
    """Wait for a run to finish, with a progress bar (exit 1 if it fails)."""
    state = state_of(ctx)
    with state.client() as client:
        run = _watch(client, state, run_id, timeout)
    state.output.show(run, human=_run_line(run))


# -- exports ------------------------------------------------------------------------------

exports = typer.Typer(help="Exports: create, get, list, download.", no_args_is_help=True)


def _export_line(export: Any) -> str:
    items = f", {export.item_count} items" if export.item_count is not None else ""
    return f"export {export.id} {export.status}{items}"


@exports.command("list")
def exports_list(
    ctx: typer.Context,
    dataset_id: Annotated[str, typer.Argument(help="The dataset.")],
    limit: Limit = 100,
) -> None:
    """List the exports of a dataset."""
    state = state_of(ctx)
    with state.client() as client:
        items = take(client.exports.list(dataset_id), limit)
    state.output.rows(items, EXPORT_COLUMNS)


@exports.command("get")
def exports_get(
    ctx: typer.Context, export_id: Annotated[str, typer.Argument(help="The export.")]
) -> None:
    """An export's state (its download URL is not shown: use exports download)."""
    state = state_of(ctx)
    with state.client() as client:
        export = client.exports.get(export_id)
    state.output.show(export, human=_export_line(export))


@exports.command("create")
def exports_create(
    ctx: typer.Context,
    dataset_id: Annotated[str, typer.Argument(help="The dataset.")],
    field: Annotated[
        list[str] | None,
        typer.Option("--field", help="A field to export, by name (repeat); default: all."),
    ] = None,
    field_id: Annotated[
        list[str] | None,
        typer.Option("--field-id", help="A field to export, by id (repeat)."),
    ] = None,
    format_: Annotated[
        str | None,
        typer.Option("--format", help="jsonl, json or csv (default: the API's)."),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Wait until it is ready.")] = False,
    timeout: Timeout = None,
) -> None:
    """Request an export of a dataset."""
    state = state_of(ctx)
    with state.client() as client:
        export = client.exports.create(
            dataset_id, fields=field or None, field_ids=field_id or None, format=format_
        )
        if wait:
            export = (
                client.exports.wait(export.id)
                if timeout is None
                else client.exports.wait(export.id, timeout=timeout)
            )
    state.output.show(export, human=_export_line(export))


@exports.command("download")
def exports_download(
    ctx: typer.Context,
    export_id: Annotated[str, typer.Argument(help="The export (waited for if not ready).")],
    file: Annotated[Path, typer.Argument(dir_okay=False, help="Where to write the results.")],
) -> None:
    """Download an export's result file (streamed, written atomically)."""
    state = state_of(ctx)
    with state.client() as client:
        path = client.exports.download(export_id, file, progress=state.progress)
    state.output.show({"export_id": export_id, "path": path}, human=f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command("whoami")(whoami)
    app.add_typer(projects, name="projects")
    app.add_typer(datasets, name="datasets")
    app.add_typer(pipelines, name="pipelines")
    app.add_typer(runs, name="runs")
    app.add_typer(exports, name="exports")
