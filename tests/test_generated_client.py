"""Every v2-beta operation, called once through the generated client against Prism.

Each call must come back as its parsed 2xx model, and Prism must report no contract
violation for the request we sent (``sl-violations``), which proves the generated
request builders match the snapshot.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from toloka_pipeline_api import AuthenticatedClient
from toloka_pipeline_api.api.account import get_me
from toloka_pipeline_api.api.datasets import (
    add_dataset_items,
    create_dataset,
    list_dataset_fields,
    list_datasets,
)
from toloka_pipeline_api.api.exports import create_export, get_export, list_exports
from toloka_pipeline_api.api.pipelines import (
    attach_dataset,
    copy_pipeline,
    export_pipeline,
    import_pipeline,
    list_pipelines,
)
from toloka_pipeline_api.api.projects import create_project, list_projects
from toloka_pipeline_api.api.runs import get_run, list_runs, start_run
from toloka_pipeline_api.api.uploads import create_upload, finalize_upload, get_upload
from toloka_pipeline_api.models import (
    AddItemsRequest,
    AddItemsRequestItemsItem,
    AddItemsResult,
    AttachDatasetRequest,
    CopyPipelineRequest,
    CreateDatasetRequest,
    CreateExportRequest,
    CreateProjectRequest,
    CreateUploadRequest,
    Dataset,
    DatasetAttachment,
    DatasetList,
    Export,
    ExportFieldById,
    ExportFieldByName,
    ExportList,
    ExportStatus,
    FieldDeclaration,
    FieldDeclarationJsonSchema,
    FieldList,
    ImportPipelineRequest,
    ItemFilter,
    ItemFilterCondition,
    ItemFilterConditionOperator,
    Me,
    Pipeline,
    PipelineList,
    Project,
    ProjectList,
    Run,
    RunList,
    RunStatus,
    StartRunRequest,
    Upload,
    UploadStatus,
)
from toloka_pipeline_api.types import File

from tests.conftest import ViolationLog

pytestmark = pytest.mark.prism


@pytest.fixture
def client(prism_v2: Any, violations: ViolationLog) -> Iterator[AuthenticatedClient]:
    c = AuthenticatedClient(
        base_url=prism_v2.url,
        token="test-key",
        prefix="ApiKey",
        httpx_args={"event_hooks": {"response": [violations.hook]}},
    )
    with c:
        yield c


def _url_field() -> FieldDeclaration:
    schema = FieldDeclarationJsonSchema.from_dict({"type": "string"})
    return FieldDeclaration(name="url", json_schema=schema)


CALLS: dict[str, tuple[Callable[[AuthenticatedClient], Any], type]] = {
    "getMe": (lambda c: get_me.sync_detailed(client=c), Me),
    "listProjects": (
        lambda c: list_projects.sync_detailed(client=c, limit=5, offset=0),
        ProjectList,
    ),
    "createProject": (
        lambda c: create_project.sync_detailed(
            client=c, body=CreateProjectRequest(name="Signs", description="boxes")
        ),
        Project,
    ),
    "listDatasets": (
        lambda c: list_datasets.sync_detailed("prj-1", client=c, limit=10, offset=10),
        DatasetList,
    ),
    "createDataset": (
        lambda c: create_dataset.sync_detailed(
            "prj-1", client=c, body=CreateDatasetRequest(name="batch")
        ),
        Dataset,
    ),
    "addDatasetItems": (
        lambda c: add_dataset_items.sync_detailed(
            "ds-1",
            client=c,
            body=AddItemsRequest(
                items=[AddItemsRequestItemsItem.from_dict({"url": "https://x/1.jpg"})],
                fields=[_url_field()],
            ),
        ),
        AddItemsResult,
    ),
    "createUpload": (
        lambda c: create_upload.sync_detailed(
            "ds-1", client=c, body=CreateUploadRequest(fields=[_url_field()])
        ),
        Upload,
    ),
    "finalizeUpload": (lambda c: finalize_upload.sync_detailed("upl-1", client=c), Upload),
    "getUpload": (lambda c: get_upload.sync_detailed("upl-1", client=c), Upload),
    "listDatasetFields": (
        lambda c: list_dataset_fields.sync_detailed("ds-1", client=c),
        FieldList,
    ),
    "createExport": (
        lambda c: create_export.sync_detailed(
            "ds-1",
            client=c,
            body=CreateExportRequest(
                fields=[ExportFieldByName(name="url"), ExportFieldById(id="fld-9")]
            ),
        ),
        Export,
    ),
    "getExport": (lambda c: get_export.sync_detailed("exp-1", client=c), Export),
    "listPipelines": (lambda c: list_pipelines.sync_detailed("prj-1", client=c), PipelineList),
    "importPipeline": (
        lambda c: import_pipeline.sync_detailed(
            "prj-1",
            client=c,
            body=ImportPipelineRequest(
                file=File(payload=io.BytesIO(b'{"graph": {}}'), file_name="signs.pipeline"),
                name="imported",
            ),
        ),
        Pipeline,
    ),
    "copyPipeline": (
        lambda c: copy_pipeline.sync_detailed(
            "pl-1", client=c, body=CopyPipelineRequest(name="batch copy")
        ),
        Pipeline,
    ),
    "exportPipeline": (lambda c: export_pipeline.sync_detailed("pl-1", client=c), File),
    "attachDataset": (
        lambda c: attach_dataset.sync_detailed(
            "pl-3",
            client=c,
            body=AttachDatasetRequest(
                dataset_id="ds-1",
                item_limit=100,
                item_filter=ItemFilter(
                    conditions=[
                        ItemFilterCondition(
                            field="lang", operator=ItemFilterConditionOperator.EQ, value="en"
                        )
                    ]
                ),
            ),
        ),
        DatasetAttachment,
    ),
    "startRun": (
        lambda c: start_run.sync_detailed("pl-3", client=c, body=StartRunRequest()),
        Run,
    ),
    "getRun": (lambda c: get_run.sync_detailed("run-1", client=c), Run),
    "listRuns": (lambda c: list_runs.sync_detailed("pl-3", client=c, limit=1), RunList),
    "listExports": (lambda c: list_exports.sync_detailed("ds-1", client=c, limit=1), ExportList),
}


def test_every_operation_is_covered() -> None:
    import yaml

    from scripts.mockserver import SPECS

    spec = yaml.safe_load(SPECS["v2-beta"].read_text())
    operation_ids = {
        op["operationId"]
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert operation_ids == set(CALLS)


@pytest.mark.parametrize("operation", sorted(CALLS))
def test_operation_returns_parsed_model(client: AuthenticatedClient, operation: str) -> None:
    call, model = CALLS[operation]
    response = call(client)
    assert 200 <= response.status_code < 300, response.content
    assert isinstance(response.parsed, model), (operation, response.parsed)


def test_named_examples_parse(client: AuthenticatedClient) -> None:
    """Prism serves every documented status value; each parses to a known enum member."""
    for example, status in [
        ("pending", RunStatus.PENDING),
        ("running", RunStatus.RUNNING),
        ("failed", RunStatus.FAILED),
        ("cancelled", RunStatus.CANCELLED),
    ]:
        with client.with_headers({"Prefer": f"example={example}"}) as c:
            run = get_run.sync("run-1", client=c)
        assert isinstance(run, Run) and run.status is status and run.status.is_known
    for example, upload_status in [
        ("processing", UploadStatus.PROCESSING),
        ("failed", UploadStatus.FAILED),
    ]:
        with client.with_headers({"Prefer": f"example={example}"}) as c:
            upload = get_upload.sync("upl-1", client=c)
        assert isinstance(upload, Upload) and upload.status is upload_status
    with client.with_headers({"Prefer": "example=failed"}) as c:
        export = get_export.sync("exp-1", client=c)
    assert isinstance(export, Export) and export.status is ExportStatus.FAILED
    assert export.error is not None and "fld-404" in export.error.message


def test_missing_key_is_rejected(prism_v2: Any) -> None:
    response = httpx.get(prism_v2.url + "/projects")
    assert response.status_code == 401


def test_unknown_enum_value_is_kept_not_raised() -> None:
    run = Run.from_dict({"id": "r", "status": "paused", "queuePosition": 3})
    assert run.status == "paused" and not run.status.is_known
    assert run.additional_properties == {"queuePosition": 3}
