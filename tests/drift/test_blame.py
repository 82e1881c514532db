"""Class 2: blame follows knowledge.

A 400/422 that names a request name the snapshot knows is drift when the request was
right by the snapshot: a nested name it does not declare (the issue's ``fields[].type``), a
value the layer chose (a page's ``offset``), a name it does not require that was not sent,
or a value inside every bound it gives (the issue's ``limit`` maximum 100 -> 50). Values out
of the snapshot's bounds, the caller's free-form data and refusals of what a value refers to
stay the caller's ``BadRequestError``, and what the snapshot rules out is refused before
sending, as before.

Generated from the snapshot (``request_bounds``): for every bound of every request, a server
that tightened it refuses the value the client sent, which the snapshot allows -> drift
naming the operation, the field and the server's message; for every path parameter, the
value the snapshot rules out (``""``) is refused before anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.drift.snapshot_cases import RequestBound, request_bounds
from toloka_ext import (
    ApiDriftError,
    BadRequestError,
    InvalidInputError,
    ItemFilter,
    ItemFilterCondition,
    Toloka,
)
from toloka_ext.testing import Fault, FaultConfig, Sandbox

BOUNDS = request_bounds()
Call = Callable[[Toloka], object]


class World:
    """A sandbox with one of everything a request can name, and the calls that send them."""

    def __init__(self, tmp_path: Path) -> None:
        self.sandbox = Sandbox(record_requests=True)
        self.file = tmp_path / "pl.pipeline"
        with self.sandbox.client() as c:
            self.dataset = c.datasets.create("prj-1", name="world").id
            c.datasets.add_items(self.dataset, [{"url": "u1"}], fields=["url"])
            self.field_id = c.datasets.list_fields(self.dataset)[0].id
            c.pipelines.attach("pl-1", self.dataset)
            self.run = c.runs.start("pl-1").id
            self.export = c.exports.create(self.dataset).id
            self.upload = c.uploads.create(self.dataset, fields=["url"]).id
            c.pipelines.export_to_file("pl-1", self.file)
        self.out = tmp_path / "out.pipeline"
        del self.sandbox.requests[:]

    def call(self, bound: RequestBound) -> Call:
        """The call of ``bound.operation`` that sends a value at ``bound.field``."""
        ds, op = self.dataset, bound.operation
        calls: dict[str, Call] = {
            "addDatasetItems": lambda c: c.datasets.add_items(ds, [{"url": "u2"}], fields=["url"]),
            "attachDataset": lambda c: c.pipelines.attach(
                "pl-1",
                ds,
                item_limit=1,
                item_filter=ItemFilter([ItemFilterCondition("url", "eq", "u1")]),
            ),
            "copyPipeline": lambda c: c.pipelines.copy("pl-1", name="copy", project_id="prj-1"),
            "createDataset": lambda c: c.datasets.create("prj-1", name="another"),
            "createExport": (
                (lambda c: c.exports.create(ds, field_ids=[self.field_id]))
                if bound.field.endswith(".id")
                else (lambda c: c.exports.create(ds, fields=["url"]))
            ),
            "createProject": lambda c: c.projects.create("another"),
            "createUpload": lambda c: c.uploads.create(ds, fields=["url"]),
            "exportPipeline": lambda c: c.pipelines.export_to_file("pl-1", self.out),
            "finalizeUpload": lambda c: c.uploads.finalize(self.upload),
            "getExport": lambda c: c.exports.get(self.export),
            "getRun": lambda c: c.runs.get(self.run),
            "getUpload": lambda c: c.uploads.get(self.upload),
            "importPipeline": lambda c: c.pipelines.import_file("prj-1", self.file),
            "listDatasetFields": lambda c: c.datasets.list_fields(ds),
            "listDatasets": lambda c: list(c.datasets.list("prj-1", limit=100)),
            "listExports": lambda c: list(c.exports.list(ds, limit=100)),
            "listPipelines": lambda c: list(c.pipelines.list("prj-1", limit=100)),
            "listProjects": lambda c: list(c.projects.list(limit=100)),
            "listRuns": lambda c: list(c.runs.list("pl-1", limit=100)),
            "startRun": lambda c: c.runs.start("pl-1"),
        }
        return calls[op]

    def empty_id(self, op: str) -> Call:
        """The call of ``op`` with its path parameter empty (the snapshot's minLength 1)."""
        rows = [{"url": "u"}]
        calls: dict[str, Call] = {
            "addDatasetItems": lambda c: c.datasets.add_items("", rows),
            "attachDataset": lambda c: c.pipelines.attach("", self.dataset),
            "copyPipeline": lambda c: c.pipelines.copy(""),
            "createDataset": lambda c: c.datasets.create("", name="d"),
            "createExport": lambda c: c.exports.create("", fields=["url"]),
            "createUpload": lambda c: c.uploads.create(""),
            "exportPipeline": lambda c: c.pipelines.export_to_file("", self.out),
            "finalizeUpload": lambda c: c.uploads.finalize(""),
            "getExport": lambda c: c.exports.get(""),
            "getRun": lambda c: c.runs.get(""),
            "getUpload": lambda c: c.uploads.get(""),
            "importPipeline": lambda c: c.pipelines.import_file("", self.file),
            "listDatasetFields": lambda c: c.datasets.list_fields(""),
            "listDatasets": lambda c: list(c.datasets.list("")),
            "listExports": lambda c: list(c.exports.list("")),
            "listPipelines": lambda c: list(c.pipelines.list("")),
            "listRuns": lambda c: list(c.runs.list("")),
            "startRun": lambda c: c.runs.start(""),
        }
        return calls[op]

    def refuse(self, op: str, message: str, **fault: Any) -> None:
        self.sandbox.faults = FaultConfig(
            faults=[
                Fault(
                    "status",
                    status=fault.pop("status", 400),
                    route=op,
                    on_nth=(1,),
                    message=message,
                    code="VALIDATION_ERROR",
                    **fault,
                )
            ]
        )


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def _tightened(bound: RequestBound) -> str:
    """What a server that tightened ``bound`` says of a value the snapshot allows."""
    field, value = bound.field, bound.value
    return {
        "minLength": f"{field}: must be at least 10000 characters",
        "maxLength": f"{field}: must be at most 0 characters",
        "minimum": f"{field}: must be greater than or equal to 1000000000",
        "maximum": f"{field}: must be less than or equal to {int(value) // 2}",
        "minItems": f"{field}: must contain at least 10000 items",
        "maxItems": f"{field}: must contain at most 0 items",
    }[bound.keyword]


@pytest.mark.parametrize("bound", BOUNDS, ids=[b.id for b in BOUNDS])
def test_a_tightened_bound_refusing_an_allowed_value_is_drift(
    world: World, bound: RequestBound
) -> None:
    message = _tightened(bound)
    world.refuse(bound.operation, message)
    with world.sandbox.client(max_retries=0) as client, pytest.raises(ApiDriftError) as info:
        world.call(bound)(client)
    err = info.value
    assert (err.operation, err.field) == (bound.operation, bound.field)
    assert message in str(err) and err.snapshot_version in str(err)


PATH_BOUNDS = [b for b in BOUNDS if b.where == "path" and b.keyword == "minLength"]


@pytest.mark.parametrize("bound", PATH_BOUNDS, ids=[b.operation for b in PATH_BOUNDS])
def test_a_value_the_snapshot_rules_out_is_refused_before_sending(
    world: World, bound: RequestBound
) -> None:
    with world.sandbox.client() as client, pytest.raises(InvalidInputError):
        world.empty_id(bound.operation)(client)
    assert world.sandbox.requests_for(bound.operation) == []


MAXIMA = [b for b in BOUNDS if b.keyword == "maximum"]


@pytest.mark.parametrize("bound", MAXIMA, ids=[b.id for b in MAXIMA])
def test_a_value_over_a_guessed_maximum_refused_is_the_callers(
    world: World, bound: RequestBound
) -> None:
    """The snapshot only guesses ``limit``'s maximum, so it is not enforced before sending;
    a server refusing a value above it refuses what the snapshot rules out too."""
    assert bound.guess and bound.field == "limit"
    world.refuse(bound.operation, f"limit: must be less than or equal to {int(bound.value)}")
    op = bound.operation
    over = int(bound.value) + 1
    listing: dict[str, Call] = {
        "listDatasets": lambda c: list(c.datasets.list("prj-1", limit=over)),
        "listExports": lambda c: list(c.exports.list(world.dataset, limit=over)),
        "listPipelines": lambda c: list(c.pipelines.list("prj-1", limit=over)),
        "listProjects": lambda c: list(c.projects.list(limit=over)),
        "listRuns": lambda c: list(c.runs.list("pl-1", limit=over)),
    }
    with world.sandbox.client(max_retries=0) as client, pytest.raises(BadRequestError) as info:
        listing[op](client)
    assert not isinstance(info.value, ApiDriftError)


# ------------------------------------------------------------------ the other kinds of blame


@pytest.mark.parametrize(
    ("message", "fault", "field"),
    [
        ("fields[].type: is required", {}, "fields[].type"),
        ("Bad request", {"payload": {"field": "fields[0].type"}}, "fields[0].type"),
        ("invalid field declaration", {"payload": [{"field": "fields[0].kind"}]}, "fields[0].kind"),
    ],
    ids=["message", "details", "details-list"],
)
def test_a_nested_name_the_snapshot_does_not_declare_is_drift(
    world: World, message: str, fault: dict[str, Any], field: str
) -> None:
    """The issue's case: ``createUpload`` now requires ``fields[].type``."""
    world.refuse("createUpload", message, **fault)
    with world.sandbox.client(max_retries=0) as client, pytest.raises(ApiDriftError) as info:
        client.uploads.create(world.dataset, fields=["url"])
    assert (info.value.operation, info.value.field) == ("createUpload", field)
    assert "does not declare" in str(info.value)


@pytest.mark.parametrize("status", [400, 422])
def test_a_name_the_snapshot_does_not_require_left_out_is_drift(world: World, status: int) -> None:
    world.refuse("createUpload", "fileName: must not be empty", status=status)
    with world.sandbox.client(max_retries=0) as client, pytest.raises(ApiDriftError) as info:
        client.uploads.create(world.dataset, fields=["url"])
    assert (info.value.operation, info.value.field) == ("createUpload", "fileName")
    assert "does not require" in str(info.value)
    assert "fileName: must not be empty" in str(info.value)


def test_a_value_the_layer_chose_is_drift_whatever_the_server_says(world: World) -> None:
    world.refuse("listProjects", "offset: no longer supported, use pageToken")
    with world.sandbox.client(max_retries=0) as client, pytest.raises(ApiDriftError) as info:
        list(client.projects.list())
    assert (info.value.operation, info.value.field) == ("listProjects", "offset")
    assert "chose itself" in str(info.value)


@pytest.mark.parametrize(
    ("op", "message", "call"),
    [
        # the caller's own rows: the pipeline's input, not the API's contract
        (
            "addDatasetItems",
            "items[0].url: must be a valid URI",
            lambda w: lambda c: c.datasets.add_items(w.dataset, [{"url": "u"}]),
        ),
        # a field's JSON Schema is the caller's too
        (
            "createUpload",
            "fields[0].jsonSchema.type: must be one of string, number",
            lambda w: (
                lambda c: c.uploads.create(
                    w.dataset, fields=[{"name": "url", "jsonSchema": {"type": "text"}}]
                )
            ),
        ),
        # about what the value refers to, not its shape
        (
            "createDataset",
            "name: a dataset with this name already exists",
            lambda w: lambda c: c.datasets.create("prj-1", name="world"),
        ),
        # a complaint about an allowed value that says nothing of its shape
        (
            "startRun",
            "pipelineId: pipeline has no dataset attached",
            lambda w: lambda c: c.runs.start("pl-1"),
        ),
    ],
    ids=["rows", "json-schema", "already-exists", "state"],
)
def test_the_callers_data_and_references_stay_the_callers_error(
    world: World, op: str, message: str, call: Callable[[World], Call]
) -> None:
    world.refuse(op, message)
    with world.sandbox.client(max_retries=0) as client, pytest.raises(BadRequestError) as info:
        call(world)(client)
    assert not isinstance(info.value, ApiDriftError)
    assert message in str(info.value)


def test_a_refused_part_of_a_multipart_body_is_not_judged(world: World) -> None:
    """The parts of an import cannot be read back: a refusal of one stays the caller's."""
    world.refuse("importPipeline", "name: must be at least 3 characters")
    with world.sandbox.client(max_retries=0) as client, pytest.raises(BadRequestError) as info:
        client.pipelines.import_file("prj-1", world.file, name="ab")
    assert not isinstance(info.value, ApiDriftError)
