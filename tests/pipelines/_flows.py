"""What the ``process_new_data`` tests check on the sandbox's state after a flow."""

from __future__ import annotations

from typing import Any

from toloka_ext.testing import Sandbox

Obj = dict[str, Any]
STORAGE_OPS = ("storagePut", "storageGet")


def objects(sandbox: Sandbox, kind: str) -> list[Obj]:
    """Every stored object of ``kind`` (``dataset``, ``pipeline``, ``run``, ``export``...)."""
    return list(sandbox.backend.all(kind))


def copies(sandbox: Sandbox) -> list[Obj]:
    """The pipelines created by copying another one."""
    return [p for p in objects(sandbox, "pipeline") if p.get("sourcePipelineId")]


def storage_requests(sandbox: Sandbox) -> list[Any]:
    return [r for r in sandbox.requests if r.operation in STORAGE_OPS]


def assert_exactly_once(sandbox: Sandbox, rows: list[Obj], *, exports: int = 1) -> None:
    """One dataset holding ``rows`` once, one copy bound to it, one run of it, ``exports``
    exports of it, at most one finalized upload, and no credentials sent to storage."""
    datasets = objects(sandbox, "dataset")
    assert len(datasets) == 1, datasets
    (dataset,) = datasets
    (copy,) = copies(sandbox)
    assert copy["sourcePipelineId"] == "pl-1" and copy["datasetId"] == dataset["id"]
    runs = objects(sandbox, "run")
    assert [r["pipelineId"] for r in runs] == [copy["id"]], runs
    assert runs[0]["status"] == "completed"
    assert runs[0]["progress"] == {"total": len(rows), "completed": len(rows), "failed": 0}
    made = objects(sandbox, "export")
    assert len(made) == exports, [e["id"] for e in made]
    assert {e["datasetId"] for e in made} == {dataset["id"]}
    stored = sandbox.dataset_rows(dataset["id"])
    assert [{k: r.get(k) for k in rows[0]} for r in stored] == rows
    assert sandbox.counters.applied["finalizeUpload"] <= 1
    assert sandbox.counters.applied["startRun"] == 1
    storage = storage_requests(sandbox)
    assert all("Authorization" not in r.headers for r in storage)
