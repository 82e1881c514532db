"""Drift isolation: what the layer absorbs, and the one error for what it cannot.

The drifted answers are the sandbox's real answers rewritten (``Sandbox.rewrite``), or
scripted faults where an answer is not the API's JSON at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from toloka_ext import ApiDriftError, BadRequestError, NotFoundError, Toloka
from toloka_ext._v2._adapter import SNAPSHOT_VERSION
from toloka_ext.testing import Fault, FaultConfig, Sandbox
from toloka_ext.types import ExportStatus, Run, RunStatus, UploadStatus

Rewrite = Callable[[str, Any], Any]


def _on(op: str, change: Callable[[Any], Any]) -> Rewrite:
    """A rewrite applying ``change`` to the answers of ``op`` only."""

    def rewrite(operation: str, body: Any) -> Any:
        return change(body) if operation == op else body

    return rewrite


def _client(sandbox: Sandbox) -> Toloka:
    return sandbox.client(max_retries=0)


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(record_requests=True)


@pytest.fixture
def dataset_id(sandbox: Sandbox) -> str:
    with sandbox.client() as client:
        dataset = client.datasets.create("prj-1", name="drift")
        client.datasets.add_items(dataset.id, [{"url": "a"}, {"url": "b"}])
    return dataset.id


@pytest.fixture
def run_id(sandbox: Sandbox, dataset_id: str) -> str:
    """A real run of two items, started (and not polled yet)."""
    with sandbox.client() as client:
        client.pipelines.attach("pl-1", dataset_id)
        return client.runs.start("pl-1").id


def test_snapshot_version_comes_from_the_generated_package() -> None:
    from toloka_pipeline_api._snapshot import SNAPSHOT

    assert SNAPSHOT["date"] in SNAPSHOT_VERSION


def test_new_enum_value_is_kept_raw_and_recognisable(sandbox: Sandbox, run_id: str) -> None:
    sandbox.rewrite = _on("getRun", lambda b: {**b, "status": "paused_for_review"})
    with _client(sandbox) as client:
        run = client.runs.get(run_id)
    assert isinstance(run, Run) and run.id == run_id
    assert run.status == "paused_for_review"
    assert not run.status.is_known
    assert RunStatus.COMPLETED.is_known
    assert "unknown" in repr(run.status)


def test_new_enum_values_on_upload_and_export(sandbox: Sandbox, dataset_id: str) -> None:
    with _client(sandbox) as client:
        upload = client.uploads.create(dataset_id)
        export = client.exports.create(dataset_id)

        def drifted(op: str, body: Any) -> Any:
            if op == "getUpload":
                return {**body, "status": "virus_scanning"}
            if op == "getExport":
                return {**body, "status": "archiving", "format": "parquet"}
            return body

        sandbox.rewrite = drifted
        upload = client.uploads.get(upload.id)
        assert upload.status == "virus_scanning" and not upload.status.is_known
        assert isinstance(upload.status, UploadStatus)
        exp = client.exports.get(export.id)
    assert isinstance(exp.status, ExportStatus) and not exp.status.is_known
    assert exp.format == "parquet" and exp.format is not None and not exp.format.is_known


def test_extra_fields_are_kept_at_every_level(sandbox: Sandbox, run_id: str) -> None:
    def extra(body: Any) -> Any:
        return {
            **body,
            "priority": 7,
            "progress": {**body["progress"], "skipped": 3},
            "error": {"message": "m", "retryable": True},
        }

    sandbox.rewrite = _on("getRun", extra)
    with _client(sandbox) as client:
        run = client.runs.get(run_id)
    assert run.extra == {"priority": 7}
    assert run.progress is not None and run.progress.extra == {"skipped": 3}
    assert run.progress.total == 2
    assert run.error is not None and run.error.extra == {"retryable": True}


def test_missing_optional_fields_are_fine(sandbox: Sandbox, run_id: str) -> None:
    sandbox.rewrite = _on("getRun", lambda b: {"id": b["id"], "status": "pending"})
    with _client(sandbox) as client:
        run = client.runs.get(run_id)
        assert run.progress is None and run.pipeline_id is None and run.created_at is None
        sandbox.rewrite = _on("getRun", lambda b: {**b, "createdAt": None})
        run = client.runs.get(run_id)
    assert run.created_at is None and run.pipeline_id == "pl-1"


def _without(key: str) -> Callable[[Any], Any]:
    return lambda b: {k: v for k, v in b.items() if k != key}


def _progress(**change: Any) -> Callable[[Any], Any]:
    def apply(body: Any) -> Any:
        progress = {**body["progress"], **change}
        return {**body, "progress": {k: v for k, v in progress.items() if v is not None}}

    return apply


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (_without("status"), "status"),
        (_progress(failed=None), "progress.failed"),
        (lambda b: {**b, "id": 17}, "id"),
        (lambda b: {**b, "status": 3}, "status"),
        (_progress(total="2"), "progress.total"),
        (lambda b: {**b, "createdAt": "yesterday"}, "createdAt"),
        (lambda b: ["not", "an", "object"], "<body>"),
        (None, "<body>"),  # not JSON at all (see below)
    ],
    ids=[
        "missing-required",
        "missing-nested",
        "id-type",
        "enum-type",
        "nested-type",
        "bad-date",
        "array-body",
        "non-json",
    ],
)
def test_unabsorbable_change_is_one_drift_error(
    sandbox: Sandbox, run_id: str, change: Callable[[Any], Any] | None, field: str
) -> None:
    if change is None:
        html = Fault("status", status=200, route="getRun", on_nth=(1,), body="<html>gw</html>")
        sandbox.faults = FaultConfig(faults=[html])
    else:
        sandbox.rewrite = _on("getRun", change)
    with _client(sandbox) as client, pytest.raises(ApiDriftError) as info:
        client.runs.get(run_id)
    err = info.value
    assert (err.operation, err.field, err.snapshot_version) == ("getRun", field, SNAPSHOT_VERSION)
    assert "getRun" in str(err) and field in str(err) and SNAPSHOT_VERSION in str(err)
    assert not isinstance(err, KeyError | ValueError | TypeError)
    assert len(sandbox.requests_for("getRun")) == 1


def test_renamed_list_key_is_drift(sandbox: Sandbox) -> None:
    sandbox.rewrite = _on(
        "listProjects", lambda b: {"items": b["projects"], "pagination": b["pagination"]}
    )
    with _client(sandbox) as client, pytest.raises(ApiDriftError) as info:
        list(client.projects.list())
    assert (info.value.operation, info.value.field) == ("listProjects", "projects")


def test_moved_endpoint_is_drift_but_a_missing_object_is_not(sandbox: Sandbox, run_id: str) -> None:
    with _client(sandbox) as client:
        # A framework 404 (no API error body) on a path that should exist: the endpoint moved.
        page = Fault("status", status=404, route="getRun", on_nth=(1,), body="404 page not found")
        sandbox.faults = FaultConfig(faults=[page])
        with pytest.raises(ApiDriftError) as info:
            client.runs.get(run_id)
        assert info.value.field == "<endpoint>" and info.value.operation == "getRun"
        # Any 404 on a path without ids is drift, even with the API's error body.
        sandbox.faults = FaultConfig(
            faults=[Fault("status", status=404, route="listProjects", on_nth=(1,))]
        )
        with pytest.raises(ApiDriftError) as info:
            list(client.projects.list())
        assert info.value.field == "<endpoint>" and info.value.operation == "listProjects"
        # A 404 with the API's error body on /runs/{id}: the run does not exist.
        with pytest.raises(NotFoundError):
            client.runs.get("run-404")
        assert client.runs.get(run_id).id == run_id  # and the real one still does
        sandbox.faults = FaultConfig(
            faults=[Fault("status", status=405, route="startRun", on_nth=(1,))]
        )
        with pytest.raises(ApiDriftError) as info:
            client.runs.start("pl-1")
        assert info.value.operation == "startRun"
    assert sandbox.counters.applied["startRun"] == 1  # the fixture's only


@pytest.mark.anyio
async def test_drift_in_the_async_client(sandbox: Sandbox, run_id: str) -> None:
    answers = 0

    def rewrite(op: str, body: Any) -> Any:
        nonlocal answers
        if op != "getRun":
            return body
        answers += 1
        if answers == 1:
            return {**body, "status": "warming_up", "x": 1}
        return {"id": body["id"]}

    sandbox.rewrite = rewrite
    async with sandbox.async_client(max_retries=0) as client:
        run = await client.runs.get(run_id)
        assert not run.status.is_known and run.extra == {"x": 1}
        with pytest.raises(ApiDriftError) as info:
            await client.runs.get(run_id)
    assert (info.value.operation, info.value.field) == ("getRun", "status")


def test_drift_inside_the_whole_loop_is_reported_with_the_operation(sandbox: Sandbox) -> None:
    def rewrite(op: str, body: Any) -> Any:
        if op == "copyPipeline":
            return {k: v for k, v in body.items() if k != "id"}
        if op == "getRun" and body["status"] == "pending":
            return {**body, "status": "queued_v2"}
        return body

    sandbox.rewrite = rewrite
    with sandbox.client() as client, pytest.raises(ApiDriftError) as info:
        client.process_new_data("pl-1", [{"a": 1}])
    assert (info.value.operation, info.value.field) == ("copyPipeline", "id")
    assert "copyPipeline" in str(info.value) and SNAPSHOT_VERSION in str(info.value)
    assert sandbox.requests_for("attachDataset") == []  # the loop stopped there


def test_a_400_over_an_unknown_request_field_is_drift(sandbox: Sandbox) -> None:
    with _client(sandbox) as client:
        sandbox.faults = FaultConfig(
            faults=[
                Fault(
                    "status",
                    status=400,
                    route="createDataset",
                    on_nth=(1,),
                    message="visibility: is required",
                    code="VALIDATION_ERROR",
                )
            ]
        )
        with pytest.raises(ApiDriftError) as info:
            client.datasets.create("prj-1", name="b")
        assert (info.value.operation, info.value.field) == ("createDataset", "visibility")
        sandbox.faults = FaultConfig(
            faults=[
                Fault(
                    "status",
                    status=422,
                    route="startRun",
                    on_nth=(1,),
                    message="bad",
                    payload={"field": "tier"},
                )
            ]
        )
        with pytest.raises(ApiDriftError) as info:
            client.runs.start("pl-1")
        assert (info.value.operation, info.value.field) == ("startRun", "tier")
    assert sandbox.counters.applied["createDataset"] == 0


def test_a_400_over_a_known_request_field_stays_a_caller_error(
    sandbox: Sandbox, dataset_id: str
) -> None:
    with _client(sandbox) as client:
        sandbox.faults = FaultConfig(
            faults=[
                Fault(
                    "status",
                    status=400,
                    route="attachDataset",
                    on_nth=(1,),
                    message="datasetId: no such dataset in this project",
                ),
                Fault("status", status=400, route="createProject", on_nth=(1,)),
            ]
        )
        with pytest.raises(BadRequestError) as info:
            client.pipelines.attach("pl-1", dataset_id, item_limit=5)
        assert not isinstance(info.value, ApiDriftError)
        with pytest.raises(BadRequestError) as info:
            client.projects.create("p")
        assert not isinstance(info.value, ApiDriftError)
