"""``spec diff|pull`` (the OpenAPI change report) and ``sandbox serve``.

``spec diff OLD NEW`` compares two documents with :mod:`toloka_ext._specdiff` (the engine
of ``scripts/pull_spec.py``): exit 0 no change, 3 compatible change, 4 breaking change.

``spec pull`` fetches the live v2-beta document and compares it with the snapshot the
installed client was generated from. The wheel carries that snapshot's operation table
(method, path, parameter names, request-body properties: ``toloka_pipeline_api._snapshot``),
not the whole document, so by default both sides are reduced to that table before
diffing: removed or moved operations, new required parameters or request properties are
found; response shapes are not. ``--against openapi/v2-beta.yaml`` (a checkout's
snapshot) compares the whole documents.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import httpx
import typer

from .._openapi import Document, load_text, template
from .._optable import operation_table
from ._exit import API_ERROR, BAD_INPUT, CliError
from ._state import state_of

if TYPE_CHECKING:
    from .._specdiff import Report

__all__ = ["load_document", "operation_table", "register", "skeleton"]

DEFAULT_SPEC_URL = "https://platform.toloka.ai/api/v2-beta/doc"
_FETCH_TIMEOUT = httpx.Timeout(30.0, connect=10.0)

Format = Annotated[
    str,
    typer.Option(
        "--format",
        help="text, markdown or json (--json implies json).",
        case_sensitive=False,
    ),
]


def load_document(text: str, source: str, *, code: int = BAD_INPUT) -> dict[str, Any]:
    """An OpenAPI document from JSON or YAML text (times kept as strings)."""
    try:
        data: Any = load_text(text)
    except ImportError:
        raise CliError(
            f"{source} is not JSON, and reading YAML needs PyYAML: pip install 'toloka-ext[cli]'",
            code=code,
        ) from None
    except Exception as exc:  # PyYAML's error: the one kind left once JSON was tried
        first = " ".join(str(exc).split())
        raise CliError(f"{source} is neither JSON nor YAML: {first}", code=code) from None
    if not isinstance(data, dict) or not isinstance(data.get("paths"), dict):
        raise CliError(f"{source} is not an OpenAPI document (no paths)", code=code)
    return data


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    return load_document(text, str(path))


def _print_report(ctx: typer.Context, report: Report, fmt: str, meta: dict[str, Any]) -> None:
    state = state_of(ctx)
    fmt = "json" if state.json_mode else fmt.lower()
    if fmt == "json":
        state.output.document({**meta, **report.as_dict()})
    elif fmt == "markdown":
        state.output.stdout.write(report.to_markdown())
    elif fmt == "text":
        state.output.stdout.write(report.to_text())
    else:
        raise CliError(f"--format must be text, markdown or json, not {fmt!r}")
    if report.exit_code:
        raise typer.Exit(report.exit_code)


# -- the operation table (what toloka_pipeline_api._snapshot.OPERATIONS holds) -----------


def _required_params(doc: dict[str, Any]) -> dict[tuple[str, str, str, str], bool]:
    """Whether each query/header parameter is required, keyed by method, path shape,
    location and name (the table does not say; the live document does)."""
    out: dict[tuple[str, str, str, str], bool] = {}
    walker = Document(doc)
    for path, method, op, shared in walker.operations():
        own = op.get("parameters")
        for raw in [*shared, *(own if isinstance(own, list) else [])]:
            p, _ = walker.resolve(raw)
            if p.get("in") in ("query", "header"):
                key = (method.upper(), template(path), str(p["in"]), str(p.get("name")))
                out[key] = bool(p.get("required", False))
    return out


def skeleton(
    table: dict[str, dict[str, Any]], required: dict[tuple[str, str, str, str], bool]
) -> dict[str, Any]:
    """A minimal OpenAPI document holding only what the operation table knows."""
    paths: dict[str, dict[str, Any]] = {}
    for op_id, e in table.items():
        shape = template(e["path"])
        params: list[dict[str, Any]] = [
            {"name": n, "in": "path", "required": True, "schema": {}} for n in e["path_params"]
        ]
        for location, key in (("query", "query"), ("header", "headers")):
            for n in e[key]:
                needed = required.get((e["method"], shape, location, n), False)
                params.append({"name": n, "in": location, "required": needed, "schema": {}})
        op: dict[str, Any] = {
            "operationId": op_id,
            "parameters": params,
            "responses": {"200": {"description": "ok"}},
        }
        if e["body"] is not None:
            schema = {
                "type": "object",
                "properties": {name: {} for name in e["body"]},
                "required": list(e["body_required"]),
            }
            op["requestBody"] = {
                "content": {e["content_type"] or "application/json": {"schema": schema}}
            }
        paths.setdefault(e["path"], {})[e["method"].lower()] = op
    return {"openapi": "3.0.3", "info": {"title": "operations", "version": "0"}, "paths": paths}


# -- commands -----------------------------------------------------------------------------

spec = typer.Typer(
    help="The OpenAPI change report (exit 0 same, 3 changed, 4 breaking).", no_args_is_help=True
)


@spec.command("diff")
def spec_diff(
    ctx: typer.Context,
    old: Annotated[Path, typer.Argument(help="The old document (JSON or YAML).")],
    new: Annotated[Path, typer.Argument(help="The new document (JSON or YAML).")],
    format_: Format = "text",
) -> None:
    """Compare two OpenAPI documents; classify every change for clients."""
    from .._specdiff import diff_specs  # here: the differ is for these two commands only

    report = diff_specs(_read(old), _read(new))
    _print_report(ctx, report, format_, {"old": str(old), "new": str(new)})


@spec.command("pull")
def spec_pull(
    ctx: typer.Context,
    url: Annotated[str, typer.Option("--url", help="Where the live document is.")] = (
        DEFAULT_SPEC_URL
    ),
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Read the new document from a file instead of --url."),
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="Compare with this whole document (e.g. openapi/v2-beta.yaml) instead of "
            "the installed client's operation table.",
        ),
    ] = None,
    format_: Format = "text",
) -> None:
    """Fetch the live v2-beta document; report what changed since the installed client's
    snapshot (exit 1 if it cannot be fetched)."""
    from toloka_pipeline_api._snapshot import OPERATIONS, SNAPSHOT_VERSION

    from .._specdiff import diff_specs

    state = state_of(ctx)
    if file is not None:
        source = str(file)
        live = _read(file)
    else:
        source = url
        live = load_document(_fetch(url), url, code=API_ERROR)
    if against is not None:
        baseline_name = str(against)
        report = diff_specs(_read(against), live)
        scope = "full"
    else:
        baseline_name = f"snapshot {SNAPSHOT_VERSION}"
        required = _required_params(live)
        report = diff_specs(
            skeleton(OPERATIONS, required), skeleton(operation_table(live), required)
        )
        scope = "operations"
    if not state.json_mode:
        what = (
            "whole documents"
            if scope == "full"
            else "operations, parameters and request bodies; --against FILE compares "
            "whole documents"
        )
        state.output.note(f"{source} against {baseline_name} ({what})")
    meta = {"source": source, "baseline": baseline_name, "scope": scope}
    _print_report(ctx, report, format_, meta)


def _fetch(url: str) -> str:
    headers = {"Accept": "application/json, application/yaml;q=0.9, */*;q=0.1"}
    try:
        response = httpx.get(url, headers=headers, timeout=_FETCH_TIMEOUT, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise CliError(f"cannot fetch {url}: {type(exc).__name__}: {exc}", code=API_ERROR) from None
    if not response.is_success:
        raise CliError(
            f"GET {url} answered HTTP {response.status_code} {response.reason_phrase}",
            code=API_ERROR,
        )
    if "html" in response.headers.get("content-type", "").lower():
        raise CliError(f"{url} answered an HTML page, not an OpenAPI document", code=API_ERROR)
    return response.text


# -- sandbox ------------------------------------------------------------------------------

sandbox = typer.Typer(
    help="The local Toloka sandbox (needs the testing extra).", no_args_is_help=True
)


@sandbox.command("serve")
def sandbox_serve(
    host: Annotated[str, typer.Option(help="The interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, help="The port; 0 picks a free one.")] = 8765,
    db: Annotated[
        Path | None, typer.Option(help="SQLite file to keep state across restarts.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seeds ids, labels and random faults.")] = 0,
    api_key: Annotated[
        str,
        typer.Option("--api-key", envvar="TOLOKA_SANDBOX_API_KEY", help="The API key it accepts."),
    ] = "sandbox-key",
    oauth_token: Annotated[
        str,
        typer.Option(
            "--oauth-token",
            envvar="TOLOKA_SANDBOX_OAUTH_TOKEN",
            help="The OAuth token it accepts (API v1).",
        ),
    ] = "sandbox-token",
    faults: Annotated[
        str | None, typer.Option(help="A FaultConfig as JSON (see toloka_ext.testing).")
    ] = None,
    options: Annotated[
        str | None, typer.Option(help="More Sandbox options as JSON, e.g. '{\"run_polls\": 1}'.")
    ] = None,
) -> None:
    """Serve the sandbox over HTTP until Ctrl-C (prints a banner with its URLs and key)."""
    # The sandbox is the testing extra's: loaded by name when this command runs, so the
    # client's own modules never depend on it (tests/test_exported_members.py walks them).
    server = importlib.import_module("toloka_ext.testing._server")
    try:
        fault_config = server.faults_from_json(faults)
        extra = json.loads(options) if options else None
    except (ValueError, TypeError) as exc:
        raise CliError(f"--faults / --options: {exc}") from None
    if extra is not None and not isinstance(extra, dict):
        raise CliError("--options must be a JSON object")
    try:
        server.serve(
            host=host,
            port=port,
            db_path=db,
            seed=seed,
            api_key=api_key,
            oauth_token=oauth_token,
            faults=fault_config,
            options=extra,
        )
    except KeyboardInterrupt:
        return  # Ctrl-C is how a served sandbox is stopped: a normal end
    except server.ServeError as exc:
        missing = str(exc) == server.UVICORN_MISSING
        raise CliError(str(exc), code=BAD_INPUT if missing else API_ERROR) from None
    except TypeError as exc:
        if "keyword argument" not in str(exc):
            raise
        raise CliError(f"--options: {exc}") from None  # an option the Sandbox does not take


def register(app: typer.Typer) -> None:
    app.add_typer(spec, name="spec")
    app.add_typer(sandbox, name="sandbox")
