"""Pipeline API v2-beta handlers (camelCase bodies)."""

from __future__ import annotations

import base64
import csv
import email.parser
import email.policy
import hashlib
import io
import json
from typing import Any

from . import _schemas as S
from ._clock import iso_v2
from ._core import Ctx, Reply, parse_json, public
from ._errors import ApiError
from ._validate import TYPES, validate

Obj = dict[str, Any]

PIPELINE_FORMAT = "toloka-pipeline"
MAX_IMPORT_BYTES = 10 * 1024 * 1024


# -- helpers ---------------------------------------------------------------------------
def _get(ctx: Ctx, kind: str, key: str, label: str) -> Obj:
    obj = ctx.backend.get(kind, ctx.request.params[key])
    if obj is None:
        raise ApiError(404, f"{label} {ctx.request.params[key]} not found")
    return obj


def _page(ctx: Ctx, key: str, objs: list[Obj]) -> Reply:
    # The contract allows up to 100; max_page_size lets tests make pages smaller than asked,
    # as a server may, so that callers must follow the pagination to see everything.
    asked = ctx.request.q_int("limit", 20, minimum=1, maximum=100)
    limit = min(asked, ctx.config.max_page_size)
    offset = ctx.request.q_int("offset", 0, minimum=0)
    page = [public(o) for o in objs[offset : offset + limit]]
    return Reply(
        200, {key: page, "pagination": {"total": len(objs), "limit": limit, "offset": offset}}
    )


def _now(ctx: Ctx) -> float:
    return ctx.now()


def _stage(ctx: Ctx, obj: Obj, *, poll: bool) -> int:
    """How far a long-running object has got: polls seen plus clock steps elapsed."""
    if poll:
        obj["_polls"] = obj.get("_polls", 0) + 1
    stage = int(obj.get("_polls", 0))
    step = ctx.config.step_seconds
    if step:
        stage += int((_now(ctx) - obj["_t0"]) // step)
    return stage


def _field_list(ds: Obj) -> list[Obj]:
    fields: list[Obj] = ds["_fields"]
    return fields


def _field_names(ds: Obj) -> str:
    return ", ".join(f"{f['name']} ({f['id']})" for f in _field_list(ds)) or "none"


def _declare(ctx: Ctx, ds: Obj, decls: list[Obj] | None) -> list[Obj]:
    """The dataset's fields after a declaration (creating missing ones)."""
    fields = _field_list(ds)
    backend = ctx.backend
    if decls:
        seen: set[str] = set()
        for decl in decls:
            if decl["name"] in seen:
                raise ApiError(400, f"fields: {decl['name']!r} is declared twice")
            seen.add(decl["name"])
        new = [d for d in decls if all(f["name"] != d["name"] for f in fields)]
        if new and ds["_items"]:
            raise ApiError(
                409,
                "Fields cannot be added to a dataset that already has data "
                f"(new: {', '.join(d['name'] for d in new)}; existing: {_field_names(ds)})",
            )
        for decl in new:
            field: Obj = {"id": backend.next_id("fld"), "name": decl["name"]}
            if "jsonSchema" in decl:
                field["jsonSchema"] = decl["jsonSchema"]
            fields.append(field)
        return [f for f in fields if f["name"] in seen]
    if not fields:
        fields.append({"id": backend.next_id("fld"), "name": "uploaded"})
    return fields


def _map_rows(ds: Obj, rows: list[Any], *, declared: bool, where: str) -> list[Obj]:
    """Rows keyed by field id; raises ``ValueError`` naming the first bad row."""
    by_name = {f["name"]: f for f in _field_list(ds)}
    whole = not declared and "uploaded" in by_name
    mapped: list[Obj] = []
    for n, row in enumerate(rows):
        at = f"{where}[{n}]" if where == "items" else f"{where} {n + 1}"
        if not isinstance(row, dict):
            raise ValueError(f"{at}: expected a JSON object, got {type(row).__name__}")
        if whole:
            mapped.append({by_name["uploaded"]["id"]: row})
            continue
        values: Obj = {}
        for key, value in row.items():
            field = by_name.get(key)
            if field is None:
                raise ValueError(
                    f"{at}: key {key!r} is not a declared field (declared: {', '.join(by_name)})"
                )
            type_name = field.get("jsonSchema", {}).get("type")
            if isinstance(type_name, str) and type_name in TYPES and value is not None:
                if validate(value, {"type": type_name}):
                    raise ValueError(f"{at}: field {key!r} must be of type {type_name}")
            values[field["id"]] = value
        mapped.append(values)
    return mapped


def _store_rows(ctx: Ctx, ds: Obj, mapped: list[Obj]) -> None:
    items: list[Obj] = ds["_items"]
    for values in mapped:
        items.append({"n": ctx.backend.next_number("item"), "values": values})
    ds["itemCount"] = len(items)
    ctx.backend.save("dataset", ds)


# -- account, projects, datasets -------------------------------------------------------
def get_me(ctx: Ctx) -> Reply:  # noqa: ARG001 - every handler takes ctx
    return Reply(200, {"id": "acc-sandbox", "email": "sandbox@example.com", "name": "Sandbox"})


def list_projects(ctx: Ctx) -> Reply:
    return _page(ctx, "projects", list(ctx.backend.all("project")))


def create_project(ctx: Ctx) -> Reply:
    data = ctx.request.json(S.CREATE_PROJECT)
    project: Obj = {
        "id": ctx.backend.next_id("prj"),
        "name": data["name"],
        "createdAt": iso_v2(_now(ctx)),
    }
    if "description" in data:
        project["description"] = data["description"]
    ctx.backend.save("project", project)
    return Reply(201, public(project))


def list_datasets(ctx: Ctx) -> Reply:
    project = _get(ctx, "project", "projectId", "Project")
    objs = [d for d in ctx.backend.all("dataset") if d["projectId"] == project["id"]]
    return _page(ctx, "datasets", objs)


def create_dataset(ctx: Ctx) -> Reply:
    project = _get(ctx, "project", "projectId", "Project")
    data = ctx.request.json(S.CREATE_DATASET)
    ds: Obj = {
        "id": ctx.backend.next_id("ds"),
        "name": data["name"],
        "projectId": project["id"],
        "itemCount": 0,
        "createdAt": iso_v2(_now(ctx)),
        "_fields": [],
        "_items": [],
    }
    ctx.backend.save("dataset", ds)
    return Reply(201, public(ds))


def add_items(ctx: Ctx) -> Reply:
    limit = ctx.config.max_inline_bytes
    if (size := len(ctx.request.body)) > limit:
        raise ApiError(
            413, f"Request body is {size} bytes, over the {limit}-byte limit: use uploads"
        )
    ds = _get(ctx, "dataset", "datasetId", "Dataset")
    data = ctx.request.json(S.ADD_ITEMS)
    snapshot = json.dumps(ds["_fields"])
    fields = _declare(ctx, ds, data.get("fields"))
    try:
        mapped = _map_rows(ds, data["items"], declared=bool(data.get("fields")), where="items")
    except ValueError as exc:
        ds["_fields"] = json.loads(snapshot)
        raise ApiError(400, str(exc)) from None
    _store_rows(ctx, ds, mapped)
    return Reply(200, {"datasetId": ds["id"], "itemCount": len(mapped), "fields": fields})


def list_fields(ctx: Ctx) -> Reply:
    ds = _get(ctx, "dataset", "datasetId", "Dataset")
    return Reply(200, {"fields": _field_list(ds)})


# -- uploads ---------------------------------------------------------------------------
def create_upload(ctx: Ctx) -> Reply:
    ds = _get(ctx, "dataset", "datasetId", "Dataset")
    data = ctx.request.json(S.CREATE_UPLOAD, required=False)
    upload_id = ctx.backend.next_id("upl")
    token = ctx.runtime.new_token()
    expires = _now(ctx) + ctx.config.url_ttl
    upload: Obj = {
        "id": upload_id,
        "datasetId": ds["id"],
        "status": "pending",
        "uploadUrl": f"{ctx.config.storage_base}/_storage/uploads/{upload_id}?token={token}",
        "uploadMethod": "PUT",
        "expiresAt": iso_v2(expires),
        "_token": token,
        "_expires": expires,
        "_decls": data.get("fields"),
        "_data": None,
        "_used": False,
    }
    ctx.backend.save("upload", upload)
    return Reply(201, public(upload))


def _upload_view(upload: Obj) -> Obj:
    view = public(upload)
    if upload["status"] != "pending":
        for key in ("uploadUrl", "uploadMethod", "expiresAt"):
            view.pop(key, None)
    return view


def _ingest(ctx: Ctx, upload: Obj) -> None:
    ds = ctx.backend.get("dataset", upload["datasetId"])
    assert ds is not None
    raw = base64.b64decode(upload["_data"] or "")
    snapshot = json.dumps(ds["_fields"])
    try:
        try:
            rows = parse_json(raw)
        except ValueError as exc:
            raise ValueError(f"File is not valid JSON: {exc}") from None
        if not isinstance(rows, list):
            raise ValueError(f"File must hold a JSON array of objects, got {type(rows).__name__}")
        try:
            _declare(ctx, ds, upload["_decls"])
        except ApiError as exc:
            raise ValueError(exc.message) from None
        mapped = _map_rows(ds, rows, declared=bool(upload["_decls"]), where="Row")
    except ValueError as exc:
        ds["_fields"] = json.loads(snapshot)
        upload["status"] = "failed"
        upload["error"] = {"message": str(exc), "code": "INVALID_FILE"}
        return
    _store_rows(ctx, ds, mapped)
    upload["status"] = "succeeded"
    upload["itemCount"] = len(mapped)


def get_upload(ctx: Ctx) -> Reply:
    upload = _get(ctx, "upload", "uploadId", "Upload")
    if upload["status"] == "processing":
        if _stage(ctx, upload, poll=True) >= ctx.config.upload_polls:
            _ingest(ctx, upload)
        ctx.backend.save("upload", upload)
    return Reply(200, _upload_view(upload))


def finalize_upload(ctx: Ctx) -> Reply:
    upload = _get(ctx, "upload", "uploadId", "Upload")
    if upload["status"] != "pending":
        raise ApiError(409, f"Upload {upload['id']} was already finalized")
    if upload["_data"] is None:
        raise ApiError(409, f"Upload {upload['id']} has no bytes yet: PUT them to uploadUrl first")
    upload["status"] = "processing"
    upload["_t0"] = _now(ctx)
    upload["_polls"] = 0
    ctx.backend.save("upload", upload)
    return Reply(200, _upload_view(upload))


# -- exports ---------------------------------------------------------------------------
def create_export(ctx: Ctx) -> Reply:
    ds = _get(ctx, "dataset", "datasetId", "Dataset")
    data = ctx.request.json(S.CREATE_EXPORT)
    chosen: list[Obj] = []
    unknown: list[str] = []
    for ref in data["fields"]:
        match = [
            f
            for f in _field_list(ds)
            if ("name" in ref and f["name"] == ref["name"])
            or ("id" in ref and f["id"] == ref.get("id"))
        ]
        if match:
            chosen.append(match[0])
        else:
            unknown.append(str(ref.get("name", ref.get("id"))))
    if unknown:
        raise ApiError(
            400, f"Unknown field(s): {', '.join(unknown)}. Existing fields: {_field_names(ds)}"
        )
    rows = [{f["name"]: item["values"].get(f["id"]) for f in chosen} for item in ds["_items"]]
    export: Obj = {
        "id": ctx.backend.next_id("exp"),
        "datasetId": ds["id"],
        "status": "pending",
        "format": data.get("format", "jsonl"),
        "_rows": rows,
        "_t0": _now(ctx),
        "_polls": 0,
    }
    ctx.backend.save("export", export)
    return Reply(201, public(export))


def list_exports(ctx: Ctx) -> Reply:
    ds = _get(ctx, "dataset", "datasetId", "Dataset")
    return _page(
        ctx, "exports", [e for e in ctx.backend.all("export") if e["datasetId"] == ds["id"]]
    )


def get_export(ctx: Ctx) -> Reply:
    export = _get(ctx, "export", "exportId", "Export")
    if export["status"] in ("pending", "processing"):
        stage = _stage(ctx, export, poll=True)
        if stage >= ctx.config.export_polls:
            token = ctx.runtime.new_token()
            expires = _now(ctx) + ctx.config.url_ttl
            base = ctx.config.storage_base
            export.update(
                status="ready",
                downloadUrl=f"{base}/_storage/exports/{export['id']}?token={token}",
                expiresAt=iso_v2(expires),
                itemCount=len(export["_rows"]),
                _token=token,
                _expires=expires,
            )
        elif stage >= 1:
            export["status"] = "processing"
        ctx.backend.save("export", export)
    return Reply(200, public(export))


def render_export(export: Obj) -> tuple[bytes, str]:
    """The export file and its media type."""
    rows: list[Obj] = export["_rows"]
    if export["format"] == "json":
        return json.dumps(rows).encode(), "application/json"
    if export["format"] == "csv":
        out = io.StringIO()
        names = list(rows[0]) if rows else []
        writer = csv.DictWriter(out, fieldnames=names)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: v if isinstance(v, str) else json.dumps(v) for k, v in row.items()})
        return out.getvalue().encode(), "text/csv"
    text = "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows)
    return text.encode(), "application/x-ndjson"


# -- pipelines -------------------------------------------------------------------------
def new_pipeline(ctx: Ctx, *, name: str, project_id: str, graph: Any, source: str | None) -> Obj:
    pipeline: Obj = {
        "id": ctx.backend.next_id("pl"),
        "name": name,
        "projectId": project_id,
        "createdAt": iso_v2(_now(ctx)),
        "_graph": graph,
    }
    if source:
        pipeline["sourcePipelineId"] = source
    return ctx.backend.save("pipeline", pipeline)


def list_pipelines(ctx: Ctx) -> Reply:
    project = _get(ctx, "project", "projectId", "Project")
    objs = [p for p in ctx.backend.all("pipeline") if p["projectId"] == project["id"]]
    return _page(ctx, "pipelines", objs)


def copy_pipeline(ctx: Ctx) -> Reply:
    source = _get(ctx, "pipeline", "pipelineId", "Pipeline")
    data = ctx.request.json(S.COPY_PIPELINE, required=False)
    project_id = data.get("projectId", source["projectId"])
    if ctx.backend.get("project", project_id) is None:
        raise ApiError(404, f"Project {project_id} not found")
    pipeline = new_pipeline(
        ctx,
        name=data.get("name", f"{source['name']} (copy)"),
        project_id=project_id,
        graph=source["_graph"],
        source=source["id"],
    )
    return Reply(201, public(pipeline))


def _multipart(ctx: Ctx) -> dict[str, bytes]:
    ctype = ctx.request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise ApiError(400, "Expected a multipart/form-data body with a `file` part")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + ctype.encode("latin-1") + b"\r\n\r\n" + ctx.request.body
    )
    parts: dict[str, bytes] = {}
    if not message.is_multipart():
        raise ApiError(400, "Malformed multipart body")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            parts[name] = payload if isinstance(payload, bytes) else b""
    return parts


def import_pipeline(ctx: Ctx) -> Reply:
    project = _get(ctx, "project", "projectId", "Project")
    if len(ctx.request.body) > MAX_IMPORT_BYTES:
        raise ApiError(413, f"A .pipeline file may be at most {MAX_IMPORT_BYTES} bytes")
    parts = _multipart(ctx)
    if "file" not in parts:
        raise ApiError(400, "file: Value must be present")
    raw = parts["file"]
    name = parts["name"].decode("utf-8", "replace") if "name" in parts else None
    try:
        doc = parse_json(raw)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and doc.get("format") == PIPELINE_FORMAT:
        graph: Any = doc.get("graph", {})
        name = name or str(doc.get("name", "Imported pipeline"))
    else:
        # The format is opaque to the contract: keep unknown bytes as they came.
        graph = {"opaque": base64.b64encode(raw).decode()}
    pipeline = new_pipeline(
        ctx, name=name or "Imported pipeline", project_id=project["id"], graph=graph, source=None
    )
    return Reply(201, public(pipeline))


def export_pipeline(ctx: Ctx) -> Reply:
    pipeline = _get(ctx, "pipeline", "pipelineId", "Pipeline")
    graph = pipeline["_graph"]
    if isinstance(graph, dict) and set(graph) == {"opaque"}:
        raw = base64.b64decode(graph["opaque"])
    else:
        doc = {"format": PIPELINE_FORMAT, "version": 1, "name": pipeline["name"], "graph": graph}
        raw = json.dumps(doc, sort_keys=True).encode()
    return Reply(200, raw=raw, content_type="application/octet-stream")


def _resolve(ds: Obj, ref: str) -> Obj:
    for f in _field_list(ds):
        if ref in (f["id"], f["name"]):
            return f
    raise ApiError(400, f"itemFilter: unknown field {ref!r}. Existing fields: {_field_names(ds)}")


def attach_dataset(ctx: Ctx) -> Reply:
    pipeline = _get(ctx, "pipeline", "pipelineId", "Pipeline")
    data = ctx.request.json(S.ATTACH_DATASET)
    ds = ctx.backend.get("dataset", data["datasetId"])
    if ds is None:
        raise ApiError(404, f"Dataset {data['datasetId']} not found")
    item_filter = data.get("itemFilter")
    if item_filter:
        for cond in item_filter["conditions"]:
            _resolve(ds, cond["field"])
            if cond["operator"] in ("in", "not_in") and not isinstance(cond.get("value"), list):
                raise ApiError(400, f"itemFilter: operator {cond['operator']} needs a list value")
            if cond["operator"] != "exists" and "value" not in cond:
                raise ApiError(400, f"itemFilter: operator {cond['operator']} needs a value")
    pipeline["datasetId"] = ds["id"]
    pipeline["_itemLimit"] = data.get("itemLimit")
    pipeline["_itemFilter"] = item_filter
    ctx.backend.save("pipeline", pipeline)
    body: Obj = {"pipelineId": pipeline["id"], "datasetId": ds["id"]}
    if "itemLimit" in data:
        body["itemLimit"] = data["itemLimit"]
    if item_filter:
        body["itemFilter"] = item_filter
    return Reply(200, body)


def _matches(cond: Obj, values: Obj, field_id: str) -> bool:
    op = cond["operator"]
    present = field_id in values and values[field_id] is not None
    value = values.get(field_id)
    if op == "exists":
        want = cond.get("value", True)
        return present if want is not False else not present
    if op == "eq":
        return present and bool(value == cond["value"])
    if op == "ne":
        return bool(value != cond["value"])
    if op == "in":
        return present and value in cond["value"]
    if op == "not_in":
        return value not in cond["value"]
    # contains
    if isinstance(value, str):
        return isinstance(cond["value"], str) and cond["value"] in value
    if isinstance(value, list):
        return bool(cond["value"] in value)
    return False


def select_items(ds: Obj, item_filter: Obj | None, item_limit: int | None) -> list[Obj]:
    items: list[Obj] = list(ds["_items"])
    if item_filter:
        conds = [(c, _resolve(ds, c["field"])["id"]) for c in item_filter["conditions"]]
        combine = any if item_filter.get("match", "all") == "any" else all
        items = [i for i in items if combine(_matches(c, i["values"], fid) for c, fid in conds)]
    if item_limit is not None:
        items = items[:item_limit]
    return items


# -- runs ------------------------------------------------------------------------------
def start_run(ctx: Ctx) -> Reply:
    pipeline = _get(ctx, "pipeline", "pipelineId", "Pipeline")
    ctx.request.json(S.START_RUN, required=False)
    if not ctx.config.verified:
        raise ApiError(403, "Unverified accounts cannot start runs")
    ds = ctx.backend.get("dataset", pipeline.get("datasetId", ""))
    if ds is None:
        raise ApiError(409, f"Pipeline {pipeline['id']} has no dataset attached")
    items = select_items(ds, pipeline.get("_itemFilter"), pipeline.get("_itemLimit"))
    run: Obj = {
        "id": ctx.backend.next_id("run"),
        "pipelineId": pipeline["id"],
        "status": "pending",
        "progress": {"total": len(items), "completed": 0, "failed": 0},
        "createdAt": iso_v2(_now(ctx)),
        "_datasetId": ds["id"],
        "_items": [i["n"] for i in items],
        "_done": 0,
        "_t0": _now(ctx),
        "_polls": 0,
    }
    ctx.backend.save("run", run)
    return Reply(201, public(run))


def label_for(ctx: Ctx, values: Obj) -> str:
    """The deterministic fake labeller: a label chosen by a hash of the item and the seed."""
    labels = ctx.config.labels
    digest = hashlib.sha256(
        f"{ctx.config.seed}:{json.dumps(values, sort_keys=True)}".encode()
    ).digest()
    return labels[digest[0] % len(labels)]


def _fails(ctx: Ctx, ds: Obj, values: Obj) -> bool:
    rule = ctx.config.fail_items_where
    if not rule:
        return False
    by_name = {f["name"]: f["id"] for f in _field_list(ds)}
    for name, bad in rule.items():
        fid = by_name.get(name)
        if fid is not None and values.get(fid) == bad:
            return True
    return False


def advance_run(ctx: Ctx, run: Obj, *, poll: bool) -> None:
    if run["status"] not in ("pending", "running"):
        return
    stage = _stage(ctx, run, poll=poll)
    target = ctx.config.run_polls
    total = run["progress"]["total"]
    if stage <= 0:
        return
    if "startedAt" not in run:
        run["startedAt"] = iso_v2(_now(ctx))
    processed = total if stage >= target else (total * stage) // target
    ds = ctx.backend.get("dataset", run["_datasetId"])
    assert ds is not None
    if processed > run["_done"]:
        label_field = next(
            (f for f in _field_list(ds) if f["name"] == ctx.config.label_field), None
        )
        if label_field is None:
            label_field = {
                "id": ctx.backend.next_id("fld"),
                "name": ctx.config.label_field,
                "jsonSchema": {"type": "string"},
            }
            ds["_fields"].append(label_field)
        index = {i["n"]: i for i in ds["_items"]}
        for n in run["_items"][run["_done"] : processed]:
            item = index.get(n)
            if item is None or _fails(ctx, ds, item["values"]):
                run["progress"]["failed"] += 1
                continue
            source = {k: v for k, v in item["values"].items() if k != label_field["id"]}
            item["values"][label_field["id"]] = label_for(ctx, source)
            run["progress"]["completed"] += 1
        run["_done"] = processed
        ctx.backend.save("dataset", ds)
    if stage >= target:
        run["finishedAt"] = iso_v2(_now(ctx))
        failed = run["progress"]["failed"]
        if total and failed == total:
            run["status"] = "failed"
            run["error"] = {"message": f"All {total} items failed", "code": "ITEMS_FAILED"}
        else:
            run["status"] = "completed"
    else:
        run["status"] = "running"
    ctx.backend.save("run", run)


def get_run(ctx: Ctx) -> Reply:
    run = _get(ctx, "run", "runId", "Run")
    advance_run(ctx, run, poll=True)
    return Reply(200, public(run))


def list_runs(ctx: Ctx) -> Reply:
    pipeline = _get(ctx, "pipeline", "pipelineId", "Pipeline")
    runs = [r for r in ctx.backend.all("run") if r["pipelineId"] == pipeline["id"]]
    for run in runs:
        advance_run(ctx, run, poll=False)
    return _page(ctx, "runs", runs)
