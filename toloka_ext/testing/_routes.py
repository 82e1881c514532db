"""Method + path → handler, for both APIs (paths relative to their prefixes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import _v1, _v2
from ._core import Handler

__all__ = ["Route", "ROUTES", "PREFIXES", "match"]

PREFIXES = {"v2": "/api/v2-beta", "v1": "/api/v1"}


@dataclass(frozen=True)
class Route:
    api: str
    method: str
    template: str
    operation_id: str
    handler: Handler
    pattern: re.Pattern[str]


def _route(api: str, method: str, template: str, operation_id: str, handler: Handler) -> Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)
    return Route(api, method, template, operation_id, handler, re.compile(f"^{regex}$"))


ROUTES: list[Route] = [
    _route("v2", "GET", "/me", "getMe", _v2.get_me),
    _route("v2", "GET", "/projects", "listProjects", _v2.list_projects),
    _route("v2", "POST", "/projects", "createProject", _v2.create_project),
    _route("v2", "GET", "/projects/{projectId}/datasets", "listDatasets", _v2.list_datasets),
    _route("v2", "POST", "/projects/{projectId}/datasets", "createDataset", _v2.create_dataset),
    _route("v2", "POST", "/datasets/{datasetId}/items", "addDatasetItems", _v2.add_items),
    _route("v2", "POST", "/datasets/{datasetId}/uploads", "createUpload", _v2.create_upload),
    _route("v2", "GET", "/uploads/{uploadId}", "getUpload", _v2.get_upload),
    _route("v2", "POST", "/uploads/{uploadId}/finalize", "finalizeUpload", _v2.finalize_upload),
    _route("v2", "GET", "/datasets/{datasetId}/fields", "listDatasetFields", _v2.list_fields),
    _route("v2", "POST", "/datasets/{datasetId}/exports", "createExport", _v2.create_export),
    _route("v2", "GET", "/datasets/{datasetId}/exports", "listExports", _v2.list_exports),
    _route("v2", "GET", "/exports/{exportId}", "getExport", _v2.get_export),
    _route("v2", "GET", "/projects/{projectId}/pipelines", "listPipelines", _v2.list_pipelines),
    _route(
        "v2",
        "POST",
        "/projects/{projectId}/pipelines/import",
        "importPipeline",
        _v2.import_pipeline,
    ),
    _route("v2", "POST", "/pipelines/{pipelineId}/copy", "copyPipeline", _v2.copy_pipeline),
    _route("v2", "GET", "/pipelines/{pipelineId}/export", "exportPipeline", _v2.export_pipeline),
    _route("v2", "POST", "/pipelines/{pipelineId}/dataset", "attachDataset", _v2.attach_dataset),
    _route("v2", "GET", "/pipelines/{pipelineId}/runs", "listRuns", _v2.list_runs),
    _route("v2", "POST", "/pipelines/{pipelineId}/runs", "startRun", _v2.start_run),
    _route("v2", "GET", "/runs/{runId}", "getRun", _v2.get_run),
    _route("v1", "POST", "/tasks", "createTasks", _v1.create_tasks),
    _route("v1", "GET", "/tasks", "listTasks", _v1.list_tasks),
    _route("v1", "GET", "/tasks/{id}", "getTask", _v1.get_task),
    _route("v1", "PATCH", "/tasks/{id}", "patchTask", _v1.patch_task),
    _route(
        "v1",
        "PATCH",
        "/tasks/{id}/set-overlap-or-min",
        "setTaskOverlapOrMin",
        _v1.set_task_overlap_or_min,
    ),
    _route("v1", "GET", "/operations", "listOperations", _v1.list_operations),
    _route("v1", "GET", "/operations/{id}", "getOperation", _v1.get_operation),
    _route("v1", "GET", "/operations/{id}/log", "getOperationLog", _v1.get_operation_log),
]


def match(api: str, method: str, path: str) -> tuple[Route | None, dict[str, str], list[str]]:
    """The route for ``method path`` (or ``None``), its path parameters, and allowed methods."""
    allowed: list[str] = []
    for route in ROUTES:
        if route.api != api:
            continue
        found = route.pattern.match(path)
        if found is None:
            continue
        if route.method == method:
            return route, found.groupdict(), []
        allowed.append(route.method)
    return None, {}, allowed
