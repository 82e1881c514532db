"""Each drift fixture served by Prism (real HTTP), driven through ``toloka_ext``'s workflow.

Additive changes are absorbed with the new data still reachable; breaking ones raise one
``ApiDriftError`` naming the operation, the field and the snapshot version.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from toloka_pipeline_api._snapshot import SNAPSHOT_VERSION

from scripts.mockserver import PrismServer, port_is_free
from tests.drift.mutations import BY_NAME, FIXTURES, DriftFixture, load_snapshot
from toloka_ext import ApiDriftError, Toloka
from toloka_ext.types import ExportStatus, Run, RunStatus, UploadStatus

pytestmark = pytest.mark.prism

# ------------------------------------------------------------------ what each fixture drives

Driver = Callable[[Toloka], None]
DriftStep = tuple[Callable[[Toloka], object], str, str]  # step, operation, field


def _assert_unknown(value: Any, enum: type, raw: str) -> None:
    assert isinstance(value, enum)
    assert value == raw and str(value) == raw
    assert not value.is_known
    assert "unknown" in repr(value)


def run_status_added(c: Toloka) -> None:
    started = c.runs.start("pl-3")
    _assert_unknown(started.status, RunStatus, "paused")
    got = c.runs.get(started.id)
    _assert_unknown(got.status, RunStatus, "paused")
    assert got.progress is not None and got.progress.total == 2
    listed = list(c.runs.list("pl-3"))
    assert [r.id for r in listed] == ["run-1"]
    _assert_unknown(listed[0].status, RunStatus, "paused")


def upload_status_added(c: Toloka) -> None:
    finalized = c.uploads.finalize("upl-1")
    _assert_unknown(finalized.status, UploadStatus, "validating")
    got = c.uploads.get("upl-1")
    _assert_unknown(got.status, UploadStatus, "validating")
    assert got.dataset_id == "ds-1"


def export_status_added(c: Toloka) -> None:
    created = c.exports.create("ds-1", fields=["url"])
    _assert_unknown(created.status, ExportStatus, "queued")
    got = c.exports.get(created.id)
    _assert_unknown(got.status, ExportStatus, "queued")
    assert got.format is not None and got.format.is_known


def run_property_added(c: Toloka) -> None:
    seen: list[Run] = []
    run = c.runs.watch("run-1", on_progress=seen.append)
    assert run.status == RunStatus.COMPLETED
    assert run.extra == {"queuePosition": 3}
    assert seen and all(r.extra == {"queuePosition": 3} for r in seen)
    assert c.runs.start("pl-3").extra == {"queuePosition": 3}
    assert [r.extra for r in c.runs.list("pl-3")] == [{"queuePosition": 3}]


def optional_property_removed(c: Toloka) -> None:
    seen: list[Run] = []
    run = c.runs.watch("run-1", on_progress=seen.append)
    assert run.status == RunStatus.COMPLETED and run.status.is_known
    assert run.progress is None and seen and all(r.progress is None for r in seen)
    assert run.finished_at is not None and run.extra == {}
    assert c.runs.start("pl-3").progress is None


ABSORBED: dict[str, Driver] = {
    "run-status-added": run_status_added,
    "upload-status-added": upload_status_added,
    "export-status-added": export_status_added,
    "run-property-added": run_property_added,
    "optional-property-removed": optional_property_removed,
}

# The first step is the one the fixture declares; the others touch the same change elsewhere.
DRIFTED: dict[str, list[DriftStep]] = {
    "required-property-removed": [
        (lambda c: c.runs.get("run-1"), "getRun", "status"),
        (lambda c: c.runs.watch("run-1"), "getRun", "status"),
        (lambda c: c.runs.start("pl-3"), "startRun", "status"),
        (lambda c: list(c.runs.list("pl-3")), "listRuns", "runs[0].status"),
    ],
    "required-property-renamed": [
        (lambda c: c.datasets.create("prj-1", name="batch-7"), "createDataset", "id"),
        (lambda c: list(c.datasets.list("prj-1")), "listDatasets", "datasets[0].id"),
    ],
    "property-type-changed": [
        (lambda c: c.runs.get("run-1"), "getRun", "progress.total"),
        (lambda c: c.runs.start("pl-3"), "startRun", "progress.total"),
    ],
    "path-renamed": [
        (lambda c: c.runs.get("run-1"), "getRun", "<endpoint>"),
        (lambda c: c.runs.watch("run-1"), "getRun", "<endpoint>"),
    ],
    "required-request-property-added": [
        (lambda c: c.datasets.create("prj-1", name="batch-7"), "createDataset", "visibility"),
    ],
}

# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module", params=[f.name for f in FIXTURES])
def drifted(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[DriftFixture, PrismServer]]:
    """One Prism per drift fixture, serving the mutated snapshot."""
    fixture = BY_NAME[request.param]
    path = tmp_path_factory.mktemp("drift") / f"{fixture.name}.json"
    path.write_text(json.dumps(fixture.apply(load_snapshot())), encoding="utf-8")
    server = PrismServer(path)
    with server:
        yield fixture, server
    assert port_is_free(server.port)


def _storage(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b"")


@pytest.fixture
def client(drifted: tuple[DriftFixture, PrismServer]) -> Iterator[Toloka]:
    fixture, prism = drifted

    def prefer(request: httpx.Request) -> None:
        for prefix, example in fixture.prefer.items():
            if request.method == "GET" and request.url.path.startswith(prefix):
                request.headers["Prefer"] = f"example={example}"

    storage = httpx.Client(transport=httpx.MockTransport(_storage))
    http = httpx.Client(event_hooks={"request": [prefer]})
    with Toloka(
        api_key="test-key",
        base_url=prism.url,
        max_retries=0,
        http_client=http,
        storage_client=storage,
        sleep=lambda _: None,
    ) as c:
        yield c
    http.close()
    storage.close()


# ------------------------------------------------------------------ tests


def test_every_fixture_has_a_driver() -> None:
    assert set(ABSORBED) | set(DRIFTED) == set(BY_NAME)
    for name, steps in DRIFTED.items():
        declared = BY_NAME[name].layer
        assert (steps[0][1], steps[0][2]) == (declared.operation, declared.field)
    assert all(BY_NAME[n].layer.outcome == "absorbed" for n in ABSORBED)


def test_layer_outcome(drifted: tuple[DriftFixture, PrismServer], client: Toloka) -> None:
    fixture, _ = drifted
    if fixture.layer.outcome == "absorbed":
        ABSORBED[fixture.name](client)
        return
    for step, operation, field in DRIFTED[fixture.name]:
        with pytest.raises(ApiDriftError) as info:
            step(client)
        err = info.value
        assert (err.operation, err.field) == (operation, field)
        assert err.snapshot_version == SNAPSHOT_VERSION
        for part in (operation, field, SNAPSHOT_VERSION):
            assert part in str(err)
