"""Drift isolation: what the layer absorbs, and the one error for what it cannot."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.pipelines.fake_api import API, FakePipelineAPI
from toloka_ext import ApiDriftError, NotFoundError
from toloka_ext._pipelines import (
    AsyncPipelineClient,
    ExportStatus,
    PipelineClient,
    Run,
    RunStatus,
    UploadStatus,
)
from toloka_ext._pipelines._adapter import SNAPSHOT_VERSION


def _client(handler: Any) -> PipelineClient:
    return PipelineClient(
        api_key="k",
        base_url=API,
        transport=httpx.MockTransport(handler),
        max_retries=0,
        sleep=lambda _: None,
    )


RUN = {
    "id": "run-1",
    "pipelineId": "pl-3",
    "status": "running",
    "progress": {"total": 2, "completed": 1, "failed": 0},
    "createdAt": "2026-11-23T10:07:00Z",
}


def _serving(body: Any, status: int = 200, **kw: Any) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes | str):
            return httpx.Response(status, content=body, **kw)
        return httpx.Response(status, json=body, **kw)

    return handler


def test_snapshot_version_comes_from_the_generated_package() -> None:
    from toloka_pipeline_api._snapshot import SNAPSHOT

    assert SNAPSHOT["date"] in SNAPSHOT_VERSION


def test_new_enum_value_is_kept_raw_and_recognisable() -> None:
    run = _client(_serving({**RUN, "status": "paused_for_review"})).runs.get("run-1")
    assert isinstance(run, Run)
    assert run.status == "paused_for_review"
    assert not run.status.is_known
    assert RunStatus.COMPLETED.is_known
    assert "unknown" in repr(run.status)


def test_new_enum_values_on_upload_and_export() -> None:
    c = _client(_serving({"id": "upl-1", "status": "virus_scanning"}))
    upload = c.uploads.get("upl-1")
    assert upload.status == "virus_scanning" and not upload.status.is_known
    assert isinstance(upload.status, UploadStatus)
    exp = _client(_serving({"id": "e", "status": "archiving", "format": "parquet"})).exports.get(
        "e"
    )
    assert isinstance(exp.status, ExportStatus) and not exp.status.is_known
    assert exp.format == "parquet" and exp.format is not None and not exp.format.is_known


def test_extra_fields_are_kept_at_every_level() -> None:
    body = {
        **RUN,
        "priority": 7,
        "progress": {**RUN["progress"], "skipped": 3},
        "error": {"message": "m", "retryable": True},
    }
    run = _client(_serving(body)).runs.get("run-1")
    assert run.extra == {"priority": 7}
    assert run.progress is not None and run.progress.extra == {"skipped": 3}
    assert run.error is not None and run.error.extra == {"retryable": True}


def test_missing_optional_fields_are_fine() -> None:
    run = _client(_serving({"id": "run-1", "status": "pending"})).runs.get("run-1")
    assert run.progress is None and run.pipeline_id is None and run.created_at is None
    run = _client(_serving({**RUN, "createdAt": None})).runs.get("run-1")
    assert run.created_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({k: v for k, v in RUN.items() if k != "status"}, "status"),
        ({**RUN, "progress": {"total": 2, "completed": 1}}, "progress.failed"),
        ({**RUN, "id": 17}, "id"),
        ({**RUN, "status": 3}, "status"),
        ({**RUN, "progress": {"total": "2", "completed": 1, "failed": 0}}, "progress.total"),
        ({**RUN, "createdAt": "yesterday"}, "createdAt"),
        (["not", "an", "object"], "<body>"),
        (b"<html>gateway</html>", "<body>"),
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
def test_unabsorbable_change_is_one_drift_error(body: Any, field: str) -> None:
    with pytest.raises(ApiDriftError) as info:
        _client(_serving(body)).runs.get("run-1")
    err = info.value
    assert (err.operation, err.field, err.snapshot_version) == ("getRun", field, SNAPSHOT_VERSION)
    assert "getRun" in str(err) and field in str(err) and SNAPSHOT_VERSION in str(err)
    assert not isinstance(err, KeyError | ValueError | TypeError)


def test_renamed_list_key_is_drift() -> None:
    body = {"items": [], "pagination": {"total": 0}}
    with pytest.raises(ApiDriftError) as info:
        list(_client(_serving(body)).projects.list())
    assert (info.value.operation, info.value.field) == ("listProjects", "projects")


def test_moved_endpoint_is_drift_but_a_missing_object_is_not() -> None:
    # A framework 404 (no API error body) on a path that should exist: the endpoint moved.
    moved = _client(_serving(b"404 page not found", status=404))
    with pytest.raises(ApiDriftError) as info:
        moved.runs.get("run-1")
    assert info.value.field == "<endpoint>" and info.value.operation == "getRun"
    # Any 404 on a path without ids is drift, even with an error body.
    with pytest.raises(ApiDriftError):
        list(_client(_serving({"message": "Not found"}, status=404)).projects.list())
    # A 404 with the API's error body on /runs/{id}: the run does not exist.
    with pytest.raises(NotFoundError):
        _client(_serving({"message": "Run not found", "code": "NOT_FOUND"}, 404)).runs.get("x")
    with pytest.raises(ApiDriftError):
        _client(_serving({"message": "Method not allowed"}, 405)).runs.start("pl-1")


@pytest.mark.anyio
async def test_drift_in_the_async_client() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx.Response(200, json={**RUN, "status": "warming_up", "x": 1})
        return httpx.Response(200, json={"id": "run-1"})

    async with AsyncPipelineClient(
        api_key="k", base_url=API, transport=httpx.MockTransport(handler)
    ) as client:
        run = await client.runs.get("run-1")
        assert not run.status.is_known and run.extra == {"x": 1}
        with pytest.raises(ApiDriftError) as info:
            await client.runs.get("run-1")
        assert info.value.field == "status"


def test_drift_inside_the_whole_loop_is_reported_with_the_operation() -> None:
    fake = FakePipelineAPI()

    def mutate(op: str, body: Any) -> Any:
        if op == "copyPipeline":
            return {k: v for k, v in body.items() if k != "id"}
        if op == "getRun":
            return {
                **body,
                "status": "queued_v2" if body["status"] == "pending" else body["status"],
            }
        return body

    fake.mutate = mutate
    client = PipelineClient(
        api_key="k",
        base_url=API,
        transport=fake.transport(),
        storage_client=httpx.Client(transport=fake.transport()),
        sleep=lambda _: None,
    )
    with pytest.raises(ApiDriftError) as info:
        client.process_new_data("pl-1", [{"a": 1}])
    assert (info.value.operation, info.value.field) == ("copyPipeline", "id")


def test_a_400_over_an_unknown_request_field_is_drift() -> None:
    body = {"message": "visibility: is required", "code": "VALIDATION_ERROR"}
    with pytest.raises(ApiDriftError) as info:
        _client(_serving(body, status=400)).datasets.create("prj-1", name="b")
    assert (info.value.operation, info.value.field) == ("createDataset", "visibility")
    body = {"message": "bad", "details": {"field": "tier"}}
    with pytest.raises(ApiDriftError) as info:
        _client(_serving(body, status=422)).runs.start("pl-1")
    assert info.value.field == "tier"


def test_a_400_over_a_known_request_field_stays_a_caller_error() -> None:
    from toloka_ext import BadRequestError

    body = {"message": "itemLimit: must be greater than or equal to 1"}
    with pytest.raises(BadRequestError):
        _client(_serving(body, status=400)).pipelines.attach("pl-3", "ds-1", item_limit=5)
    with pytest.raises(BadRequestError):
        _client(_serving({"message": "Invalid request"}, status=400)).projects.create("p")
