"""Every step, and the whole loop, through Prism serving the v2-beta snapshot.

The ``violations`` fixture fails a test if Prism saw a request that breaks the contract.
Storage URLs (``storage.example.com``) go to a local sink that records what arrived.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pipelines.conftest import RESULT_ROWS, Prefer, StorageSink
from toloka_ext import (
    AsyncToloka,
    ExportFailedError,
    InvalidInputError,
    ItemFilter,
    ItemFilterCondition,
    RunFailedError,
    Toloka,
    UploadFailedError,
)
from toloka_ext.types import DatasetAttachment, Page, RunStatus

pytestmark = pytest.mark.prism


def test_projects(prism_client: Toloka) -> None:
    projects = prism_client.projects.list(limit=5)
    assert [p.id for p in projects] == ["prj-1"]
    assert [len(p.items) for p in projects.iter_pages()] == [1]
    page = projects.first_page()
    assert isinstance(page, Page)
    assert page.total == 1 and not page.has_next_page()
    created = prism_client.projects.create("Street signs", description="boxes")
    assert created.id == "prj-1" and created.description


def test_datasets_and_fields(prism_client: Toloka) -> None:
    assert [d.id for d in prism_client.datasets.list("prj-1")] == ["ds-1"]
    ds = prism_client.datasets.create("prj-1", name="batch")
    assert ds.project_id == "prj-1"
    fields = prism_client.datasets.list_fields("ds-1")
    assert [f.name for f in fields] == ["url", "lang", "label"]
    assert fields[0].json_schema == {"type": "string"}


def test_add_items_inline(prism_client: Toloka, sink: StorageSink) -> None:
    summary = prism_client.datasets.add_items(
        "ds-1", [{"url": "https://x/1.jpg", "lang": "en"}, {"url": "https://x/2.jpg"}]
    )
    assert (summary.path, summary.requests, summary.rows) == ("inline", 1, 2)
    assert [f.name for f in summary.fields] == ["url", "lang"]
    assert sink.requests == []


def test_add_items_upload_path_sends_no_authorization(
    prism_client: Toloka, sink: StorageSink, tmp_path: Path
) -> None:
    rows = [{"url": f"https://x/{i}.jpg"} for i in range(50)]
    src = tmp_path / "rows.json"
    src.write_text(json.dumps(rows))
    summary = prism_client.datasets.add_items("ds-1", src, upload_threshold=0)
    assert summary.path == "upload" and summary.upload is not None
    assert summary.upload.status == "succeeded"
    (put,) = sink.requests
    assert put.method == "PUT" and put.url.host == "storage.example.com"
    assert "authorization" not in {k.lower() for k in put.headers}
    assert put.headers["content-length"] == str(len(sink.bodies[0]))
    assert json.loads(sink.bodies[0]) == rows


def test_upload_steps_and_failure_reason(
    prism_client: Toloka, prefer: Prefer, sink: StorageSink
) -> None:
    up = prism_client.uploads.create("ds-1", fields=["url"], file_name="rows.json")
    assert up.upload_url and up.status == "pending"
    prism_client.uploads.send(up, [{"url": "https://x/1.jpg"}], fields=["url"])
    assert sink.bodies == [b'[{"url":"https://x/1.jpg"}]']
    assert "authorization" not in {k.lower() for k in sink.requests[0].headers}
    assert prism_client.uploads.finalize(up.id).status == "processing"
    assert prism_client.uploads.wait(up.id).status == "succeeded"
    prefer.examples["/uploads/"] = "failed"
    with pytest.raises(UploadFailedError, match="Row 17") as info:
        prism_client.uploads.wait(up.id)
    assert info.value.reason.startswith("Row 17")


def test_pipelines(prism_client: Toloka, tmp_path: Path) -> None:
    assert [p.id for p in prism_client.pipelines.list("prj-1")] == ["pl-1"]
    copy = prism_client.pipelines.copy("pl-1", name="batch copy", project_id="prj-1")
    assert copy.source_pipeline_id == "pl-1"
    out = prism_client.pipelines.export_to_file("pl-1", tmp_path / "signs.pipeline")
    assert json.loads(out.read_bytes())["format"] == "toloka-pipeline"
    imported = prism_client.pipelines.import_file("prj-1", out, name="imported")
    assert imported.id == "pl-2"
    att = prism_client.pipelines.attach(
        "pl-3",
        "ds-1",
        item_limit=100,
        item_filter=ItemFilter([ItemFilterCondition("lang", "eq", "en")]),
    )
    assert isinstance(att, DatasetAttachment) and att.dataset_id == "ds-1"


@pytest.mark.parametrize("limit", [0, -3])
def test_item_limit_must_be_positive(prism_client: Toloka, limit: int) -> None:
    with pytest.raises(InvalidInputError, match="item_limit"):
        prism_client.pipelines.attach("pl-3", "ds-1", item_limit=limit)
    with pytest.raises(InvalidInputError, match="item_limit"):
        prism_client.process_new_data("pl-1", [{"a": 1}], item_limit=limit)


def test_runs(prism_client: Toloka, prefer: Prefer) -> None:
    run = prism_client.runs.start("pl-3")
    assert run.status == RunStatus.PENDING
    seen: list[tuple[int, int, int]] = []
    final = prism_client.runs.watch(
        run.id,
        on_progress=lambda r: seen.append(
            (r.progress.total, r.progress.completed, r.progress.failed) if r.progress else (0, 0, 0)
        ),
    )
    assert final.status == "completed" and seen == [(2, 2, 0)]
    assert [r.id for r in prism_client.runs.list("pl-3")] == ["run-1"]
    prefer.examples["/runs/"] = "failed"
    with pytest.raises(RunFailedError, match="no pool configured") as info:
        prism_client.runs.watch(run.id)
    assert info.value.run.status == "failed"
    prefer.examples["/runs/"] = "cancelled"
    with pytest.raises(RunFailedError, match="cancelled"):
        prism_client.runs.watch(run.id)


def test_exports(prism_client: Toloka, prefer: Prefer, tmp_path: Path) -> None:
    exp = prism_client.exports.create("ds-1", fields=["url"], field_ids=["fld-9"])
    assert exp.status == "pending"
    ready = prism_client.exports.wait(exp.id)
    assert ready.download_url
    path = prism_client.exports.download(ready, tmp_path / "out" / "results.jsonl")
    assert [json.loads(line) for line in path.read_text().splitlines()] == RESULT_ROWS
    assert list(prism_client.exports.iter_rows(exp.id)) == RESULT_ROWS
    prefer.examples["/exports/"] = "failed"
    with pytest.raises(ExportFailedError, match="fld-404"):
        prism_client.exports.wait(exp.id)


def test_export_field_names_are_checked(prism_client: Toloka) -> None:
    with pytest.raises(InvalidInputError) as info:
        prism_client.exports.create("ds-1", fields=["url", "colour"])
    message = str(info.value)
    assert "colour" in message and "url (fld-1)" in message and "label (fld-9)" in message


def test_process_new_data(prism_client: Toloka, sink: StorageSink, tmp_path: Path) -> None:
    result = prism_client.process_new_data(
        "pl-1",
        [{"url": "https://x/1.jpg", "lang": "en"}],
        journal=tmp_path / "batch.journal",
        item_limit=10,
        export_fields=["url", "label"],
    )
    assert result.rows() == RESULT_ROWS
    assert result.run.status == "completed" and result.pipeline.id == "pl-3"
    assert result.path.exists() and result.path.parent == tmp_path
    assert all("authorization" not in {k.lower() for k in r.headers} for r in sink.requests)


def test_process_new_data_upload_path(
    prism_client: Toloka, sink: StorageSink, tmp_path: Path
) -> None:
    result = prism_client.process_new_data(
        "pl-1", [{"url": "u"}] * 3, upload_threshold=0, output=tmp_path / "r.jsonl"
    )
    assert result.items.path == "upload"
    assert [r.method for r in sink.requests] == ["PUT", "GET"]
    assert result.rows() == RESULT_ROWS


# ----------------------------------------------------------------------- async twins


@pytest.mark.anyio
async def test_async_every_step(
    aprism_client: AsyncToloka, sink: StorageSink, tmp_path: Path
) -> None:
    c = aprism_client
    first = await c.projects.list().first_page()
    assert [p.id for p in first.items] == ["prj-1"]
    assert [p.id async for p in c.projects.list()] == ["prj-1"]
    assert (await c.projects.create("p")).id == "prj-1"
    assert [d.id async for d in c.datasets.list("prj-1")] == ["ds-1"]
    assert (await c.datasets.create("prj-1", name="b")).id == "ds-1"
    assert len(await c.datasets.list_fields("ds-1")) == 3
    inline = await c.datasets.add_items("ds-1", [{"url": "a"}])
    assert inline.path == "inline"
    uploaded = await c.datasets.add_items("ds-1", [{"url": "a"}], upload_threshold=0)
    assert uploaded.path == "upload"
    assert "authorization" not in {k.lower() for k in sink.requests[-1].headers}
    up = await c.uploads.create("ds-1")
    await c.uploads.send(up, [{"k": 1}])
    assert sink.bodies[-1] == b'[{"k":1}]'
    assert (await c.uploads.finalize(up.id)).status == "processing"
    assert (await c.uploads.wait(up.id)).status == "succeeded"
    assert [p.id async for p in c.pipelines.list("prj-1")] == ["pl-1"]
    copy = await c.pipelines.copy("pl-1", name="c")
    out = await c.pipelines.export_to_file("pl-1", tmp_path / "x.pipeline")
    assert (await c.pipelines.import_file("prj-1", out)).id == "pl-2"
    assert (await c.pipelines.attach(copy.id, "ds-1", item_limit=5)).dataset_id == "ds-1"
    run = await c.runs.start(copy.id)
    assert (await c.runs.watch(run.id)).status == "completed"
    assert [r.id async for r in c.runs.list(copy.id)] == ["run-1"]
    exp = await c.exports.create("ds-1")
    ready = await c.exports.wait(exp.id)
    path = await c.exports.download(ready, tmp_path / "r.jsonl")
    assert path.read_bytes() == sink.result
    assert [row async for row in c.exports.iter_rows(ready)] == RESULT_ROWS


@pytest.mark.anyio
async def test_async_process_new_data_and_failures(
    aprism_client: AsyncToloka, prefer: Prefer, tmp_path: Path
) -> None:
    result = await aprism_client.process_new_data(
        "pl-1", [{"url": "a"}], journal=tmp_path / "j", project_id="prj-1"
    )
    assert result.rows() == RESULT_ROWS
    prefer.examples["/runs/"] = "failed"
    with pytest.raises(RunFailedError):
        await aprism_client.runs.watch("run-1")
    with pytest.raises(InvalidInputError):
        await aprism_client.exports.create("ds-1", fields=["nope"])
