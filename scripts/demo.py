"""The main job: walk the Pipeline API v2-beta workflow end to end.

With ``TOLOKA_API_KEY`` set it talks to the real API (``TOLOKA_BASE_URL`` overrides the
URL; ``TOLOKA_PIPELINE_ID``/``TOLOKA_PROJECT_ID`` choose what to copy). Without a key it
starts a local Prism mock of the snapshot on 127.0.0.1 and walks the same steps against
it, so the command works on a machine with no network and no account.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toloka_pipeline_api import AuthenticatedClient  # noqa: E402
from toloka_pipeline_api.api.account import get_me  # noqa: E402
from toloka_pipeline_api.api.datasets import add_dataset_items, create_dataset  # noqa: E402
from toloka_pipeline_api.api.exports import create_export, get_export  # noqa: E402
from toloka_pipeline_api.api.pipelines import attach_dataset, copy_pipeline  # noqa: E402
from toloka_pipeline_api.api.projects import list_projects  # noqa: E402
from toloka_pipeline_api.api.runs import get_run, start_run  # noqa: E402
from toloka_pipeline_api.models import (  # noqa: E402
    AddItemsRequest,
    AddItemsRequestItemsItem,
    AttachDatasetRequest,
    CopyPipelineRequest,
    CreateDatasetRequest,
    CreateExportRequest,
    Error,
    ExportFieldByName,
    FieldDeclaration,
)

from scripts.mockserver import SPECS, PrismServer  # noqa: E402

PRODUCTION = "https://platform.toloka.ai/api/v2-beta"


@contextlib.contextmanager
def _target() -> Iterator[tuple[str, str, str]]:
    key = os.environ.get("TOLOKA_API_KEY")
    if key:
        yield os.environ.get("TOLOKA_BASE_URL", PRODUCTION), key, "live API"
        return
    with PrismServer(SPECS["v2-beta"]) as prism:
        yield prism.url, "local-mock-key", f"local Prism mock at {prism.url}"


def _ok(step: str, parsed: object) -> object:
    if parsed is None or isinstance(parsed, Error):
        detail = parsed.message if isinstance(parsed, Error) else "unexpected response"
        raise SystemExit(f"{step} failed: {detail}")
    return parsed


def main() -> int:
    with _target() as (base_url, key, label):
        print(f"Pipeline API v2-beta workflow against the {label}")
        with AuthenticatedClient(base_url=base_url, token=key, prefix="ApiKey") as client:
            me = _ok("GET /me", get_me.sync(client=client))
            print(f"  key belongs to account {me.id}")
            projects = _ok("list projects", list_projects.sync(client=client, limit=5))
            project_id = os.environ.get("TOLOKA_PROJECT_ID") or projects.projects[0].id
            print(f"  project {project_id} ({projects.pagination.total} visible)")
            dataset = _ok(
                "create dataset",
                create_dataset.sync(
                    project_id, client=client, body=CreateDatasetRequest(name="demo")
                ),
            )
            rows = [{"url": f"https://img.example.com/{i}.jpg"} for i in range(3)]
            added = _ok(
                "add items",
                add_dataset_items.sync(
                    dataset.id,
                    client=client,
                    body=AddItemsRequest(
                        items=[AddItemsRequestItemsItem.from_dict(r) for r in rows],
                        fields=[FieldDeclaration(name="url")],
                    ),
                ),
            )
            print(f"  dataset {dataset.id}: {added.item_count} rows added inline")
            source = os.environ.get("TOLOKA_PIPELINE_ID", "pl-1")
            copy = _ok(
                "copy pipeline",
                copy_pipeline.sync(
                    source, client=client, body=CopyPipelineRequest(name="demo batch")
                ),
            )
            _ok(
                "attach dataset",
                attach_dataset.sync(
                    copy.id,
                    client=client,
                    body=AttachDatasetRequest(dataset_id=dataset.id),
                ),
            )
            run = _ok("start run", start_run.sync(copy.id, client=client))
            print(f"  pipeline {copy.id} copied from {source}, run {run.id} started")
            status = _ok("get run", get_run.sync(run.id, client=client))
            progress = status.progress
            print(
                f"  run {status.status}: {progress.completed}/{progress.total} done, "
                f"{progress.failed} failed"
            )
            export = _ok(
                "create export",
                create_export.sync(
                    dataset.id,
                    client=client,
                    body=CreateExportRequest(fields=[ExportFieldByName(name="url")]),
                ),
            )
            ready = _ok("get export", get_export.sync(export.id, client=client))
            print(f"  export {ready.id} {ready.status}: {ready.download_url}")
            print(json.dumps({"dataset": dataset.id, "pipeline": copy.id, "run": run.id}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
