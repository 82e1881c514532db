"""Drift fixtures: realistic changes Toloka could make to the v2-beta API.

Each fixture is a function ``spec -> spec`` applied to a deep copy of the snapshot
(``openapi/v2-beta.yaml``), so the fixtures follow the snapshot as it evolves. Every change
keeps the response examples consistent with the mutated schemas, so Prism serves the drifted
bodies over real HTTP. Each fixture declares what must happen:

- ``breaking`` and ``rules``: how ``toloka_ext._specdiff`` / ``pull_spec.py`` classify it;
- ``layer``: what ``toloka_ext`` does when it meets the drifted server: ``absorbed`` (no
  error, the new data still reachable) or ``drift`` (``ApiDriftError`` naming the operation
  and the field).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scripts.pull_spec import load_text, plain

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOT_PATH = ROOT / "openapi" / "v2-beta.yaml"

Spec = dict[str, Any]


def load_snapshot(path: Path = SNAPSHOT_PATH) -> Spec:
    doc: Spec = plain(load_text(path.read_text(encoding="utf-8")))
    return doc


@dataclass(frozen=True)
class LayerExpectation:
    """What the extension layer does when it meets the drifted server."""

    outcome: Literal["absorbed", "drift"]
    operation: str  # the operationId the test drives (and ApiDriftError.operation)
    field: str | None = None  # ApiDriftError.field when ``outcome == "drift"``
    note: str = ""


@dataclass(frozen=True)
class DriftFixture:
    name: str
    summary: str
    mutate: Callable[[Spec], Spec]
    breaking: bool
    rules: tuple[str, ...]  # spec-diff rule ids that must be reported
    where: str  # text in the changes' "METHOD path location" naming what changed
    layer: LayerExpectation
    # Prism's named example to serve per path prefix (``Prefer: example=<name>``).
    prefer: dict[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """``pull_spec.py`` / ``specdiff`` exit code: 4 breaking, 3 compatible."""
        return 4 if self.breaking else 3

    def apply(self, snapshot: Spec) -> Spec:
        return self.mutate(copy.deepcopy(snapshot))


# --------------------------------------------------------------------------- helpers


def _schemas(spec: Spec) -> dict[str, Any]:
    schemas: dict[str, Any] = spec["components"]["schemas"]
    return schemas


def _ref_name(schema: Any) -> str | None:
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    return None


def _example_values(media: dict[str, Any]) -> Iterator[Any]:
    if "example" in media:
        yield media["example"]
    for example in (media.get("examples") or {}).values():
        if isinstance(example, dict) and "value" in example:
            yield example["value"]


def _instances(spec: Spec, schema: Any, value: Any, target: str) -> Iterator[dict[str, Any]]:
    """Every object inside ``value`` (described by ``schema``) that is a ``target`` instance."""
    name = _ref_name(schema)
    if name is not None:
        if name == target and isinstance(value, dict):
            yield value
            return
        schema = _schemas(spec).get(name, {})
    if not isinstance(schema, dict):
        return
    if isinstance(value, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if key in value:
                yield from _instances(spec, sub, value[key], target)
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            yield from _instances(spec, schema["items"], item, target)


def _success_media(spec: Spec) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for status, response in op["responses"].items():
                if not str(status).startswith("2") or not isinstance(response, dict):
                    continue
                media = (response.get("content") or {}).get("application/json")
                if isinstance(media, dict):
                    yield path, method, media


def response_examples(spec: Spec, target: str) -> list[dict[str, Any]]:
    """Every ``target`` object in the 2xx JSON response examples (to edit in place)."""
    found: list[dict[str, Any]] = []
    for _, _, media in _success_media(spec):
        for value in _example_values(media):
            found.extend(_instances(spec, media.get("schema"), value, target))
    return found


def _media(spec: Spec, path: str, method: str, status: str) -> dict[str, Any]:
    media: dict[str, Any] = spec["paths"][path][method]["responses"][status]["content"][
        "application/json"
    ]
    return media


def _add_named_example(
    spec: Spec, path: str, method: str, status: str, name: str, value: dict[str, Any]
) -> None:
    media = _media(spec, path, method, status)
    media["examples"] = {name: {"value": value}, **media.get("examples", {})}


def _named_example(spec: Spec, path: str, method: str, status: str, name: str) -> dict[str, Any]:
    value: dict[str, Any] = _media(spec, path, method, status)["examples"][name]["value"]
    return value


# --------------------------------------------------------------------------- mutations

RUN = "/runs/{runId}"
RUNS = "/pipelines/{pipelineId}/runs"
UPLOAD = "/uploads/{uploadId}"
FINALIZE = "/uploads/{uploadId}/finalize"
EXPORTS = "/datasets/{datasetId}/exports"
EXPORT = "/exports/{exportId}"
DATASETS = "/projects/{projectId}/datasets"


def new_run_status(spec: Spec) -> Spec:
    """Runs can be ``paused`` (e.g. when the account runs out of balance)."""
    _schemas(spec)["RunStatus"]["enum"].append("paused")
    paused = copy.deepcopy(_named_example(spec, RUN, "get", "200", "running"))
    paused["status"] = "paused"
    _add_named_example(spec, RUN, "get", "200", "paused", paused)
    _media(spec, RUNS, "get", "200")["example"]["runs"][0]["status"] = "paused"
    _media(spec, RUNS, "post", "201")["example"]["status"] = "paused"
    return spec


def new_upload_status(spec: Spec) -> Spec:
    """Finalized uploads pass through ``validating`` before ``processing``."""
    _schemas(spec)["UploadStatus"]["enum"].append("validating")
    validating = copy.deepcopy(_named_example(spec, UPLOAD, "get", "200", "processing"))
    validating["status"] = "validating"
    _add_named_example(spec, UPLOAD, "get", "200", "validating", validating)
    _media(spec, FINALIZE, "post", "200")["example"]["status"] = "validating"
    return spec


def new_export_status(spec: Spec) -> Spec:
    """Exports wait in a ``queued`` state before ``pending``."""
    _schemas(spec)["ExportStatus"]["enum"].append("queued")
    queued = copy.deepcopy(_named_example(spec, EXPORT, "get", "200", "pending"))
    queued["status"] = "queued"
    _add_named_example(spec, EXPORT, "get", "200", "queued", queued)
    _media(spec, EXPORTS, "post", "201")["example"]["status"] = "queued"
    return spec


def new_run_property(spec: Spec) -> Spec:
    """Runs report their place in the queue (``queuePosition``)."""
    _schemas(spec)["Run"]["properties"]["queuePosition"] = {"minimum": 0, "type": "integer"}
    for run in response_examples(spec, "Run"):
        run["queuePosition"] = 3
    return spec


def optional_property_removed(spec: Spec) -> Spec:
    """``Run.progress`` (optional) is no longer returned."""
    del _schemas(spec)["Run"]["properties"]["progress"]
    for run in response_examples(spec, "Run"):
        run.pop("progress", None)
    return spec


def required_property_removed(spec: Spec) -> Spec:
    """``Run.status`` (required) disappears (e.g. moved into a ``state`` object)."""
    run = _schemas(spec)["Run"]
    del run["properties"]["status"]
    run["required"] = [r for r in run["required"] if r != "status"]
    for example in response_examples(spec, "Run"):
        example.pop("status", None)
    return spec


def required_property_renamed(spec: Spec) -> Spec:
    """``Dataset.id`` is renamed ``datasetId``."""
    dataset = _schemas(spec)["Dataset"]
    dataset["properties"]["datasetId"] = dataset["properties"].pop("id")
    dataset["required"] = ["datasetId" if r == "id" else r for r in dataset["required"]]
    for example in response_examples(spec, "Dataset"):
        example["datasetId"] = example.pop("id")
    return spec


def property_type_changed(spec: Spec) -> Spec:
    """``RunProgress.total`` becomes a string (``"2"``)."""
    total = _schemas(spec)["RunProgress"]["properties"]["total"]
    total["type"] = "string"
    total.pop("minimum", None)
    for progress in response_examples(spec, "RunProgress"):
        progress["total"] = str(progress["total"])
    return spec


def path_renamed(spec: Spec) -> Spec:
    """``/runs/{runId}`` moves to ``/pipeline-runs/{runId}``."""
    paths = spec["paths"]
    paths["/pipeline-runs/{runId}"] = paths.pop(RUN)
    spec["paths"] = dict(sorted(paths.items()))
    return spec


def new_required_request_property(spec: Spec) -> Spec:
    """Creating a dataset requires ``visibility`` (``private`` or ``public``)."""
    request = _schemas(spec)["CreateDatasetRequest"]
    request["properties"]["visibility"] = {"enum": ["private", "public"], "type": "string"}
    request["required"] = [*request["required"], "visibility"]
    op = spec["paths"][DATASETS]["post"]
    op["requestBody"]["content"]["application/json"]["example"]["visibility"] = "private"
    op["responses"]["400"] = {
        "content": {
            "application/json": {
                "example": {
                    "code": "VALIDATION_ERROR",
                    "details": {"field": "visibility"},
                    "message": "visibility: must be one of [private, public]",
                },
                "schema": {"$ref": "#/components/schemas/Error"},
            }
        },
        "description": "The request is invalid.",
    }
    return spec


FIXTURES: tuple[DriftFixture, ...] = (
    DriftFixture(
        name="run-status-added",
        summary="new run status value `paused`",
        mutate=new_run_status,
        breaking=False,
        rules=("response-property-enum-value-added",),
        where="GET /runs/{runId} response 200 body .status",
        layer=LayerExpectation("absorbed", "getRun", note="status kept raw, is_known False"),
        prefer={"/runs/": "paused"},
    ),
    DriftFixture(
        name="upload-status-added",
        summary="new upload status value `validating`",
        mutate=new_upload_status,
        breaking=False,
        rules=("response-property-enum-value-added",),
        where="GET /uploads/{uploadId} response 200 body .status",
        layer=LayerExpectation("absorbed", "getUpload", note="status kept raw, is_known False"),
        prefer={"/uploads/": "validating"},
    ),
    DriftFixture(
        name="export-status-added",
        summary="new export status value `queued`",
        mutate=new_export_status,
        breaking=False,
        rules=("response-property-enum-value-added",),
        where="GET /exports/{exportId} response 200 body .status",
        layer=LayerExpectation("absorbed", "getExport", note="status kept raw, is_known False"),
        prefer={"/exports/": "queued"},
    ),
    DriftFixture(
        name="run-property-added",
        summary="new response property `Run.queuePosition`",
        mutate=new_run_property,
        breaking=False,
        rules=("response-optional-property-added",),
        where="GET /runs/{runId} response 200 body .queuePosition",
        layer=LayerExpectation("absorbed", "getRun", note="run.extra['queuePosition']"),
        prefer={"/runs/": "completed"},
    ),
    DriftFixture(
        name="optional-property-removed",
        summary="optional response property `Run.progress` removed",
        mutate=optional_property_removed,
        breaking=False,
        rules=("response-optional-property-removed",),
        where="GET /runs/{runId} response 200 body .progress",
        layer=LayerExpectation("absorbed", "getRun", note="run.progress is None"),
        prefer={"/runs/": "completed"},
    ),
    DriftFixture(
        name="required-property-removed",
        summary="required response property `Run.status` removed",
        mutate=required_property_removed,
        breaking=True,
        rules=("response-required-property-removed",),
        where="GET /runs/{runId} response 200 body .status",
        layer=LayerExpectation("drift", "getRun", "status"),
        prefer={"/runs/": "running"},
    ),
    DriftFixture(
        name="required-property-renamed",
        summary="required response property `Dataset.id` renamed `datasetId`",
        mutate=required_property_renamed,
        breaking=True,
        rules=("response-required-property-removed", "response-required-property-added"),
        where="POST /projects/{projectId}/datasets response 201 body .id",
        layer=LayerExpectation("drift", "createDataset", "id"),
    ),
    DriftFixture(
        name="property-type-changed",
        summary="`RunProgress.total` integer -> string",
        mutate=property_type_changed,
        breaking=True,
        rules=("response-property-type-changed",),
        where="GET /runs/{runId} response 200 body .progress.total",
        layer=LayerExpectation("drift", "getRun", "progress.total"),
        prefer={"/runs/": "running"},
    ),
    DriftFixture(
        name="path-renamed",
        summary="path `/runs/{runId}` renamed `/pipeline-runs/{runId}`",
        mutate=path_renamed,
        breaking=True,
        rules=("api-path-removed-without-deprecation", "endpoint-added"),
        where="GET /runs/{runId}",
        layer=LayerExpectation("drift", "getRun", "<endpoint>"),
    ),
    DriftFixture(
        name="required-request-property-added",
        summary="new required request property `CreateDatasetRequest.visibility`",
        mutate=new_required_request_property,
        breaking=True,
        rules=("new-required-request-property",),
        where="POST /projects/{projectId}/datasets request body .visibility",
        layer=LayerExpectation("drift", "createDataset", "visibility"),
    ),
)

BY_NAME = {f.name: f for f in FIXTURES}
