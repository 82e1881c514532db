"""The package's own client (``toloka_ext.Toloka`` / ``AsyncToloka``) against the sandbox,
through ``Sandbox.client()`` / ``async_client()``: the workflows a downstream test would run.

These drive the real clients, so they need ``toloka_ext.Toloka`` and ``AsyncToloka``.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from toloka_ext.testing import Fault, FaultConfig, Sandbox, SandboxServer


def _tasks(n: int) -> list[dict[str, object]]:
    return [{"pool_id": "pool-1", "input_values": {"x": i}, "overlap": 1} for i in range(n)]


def test_whole_workflow_in_process() -> None:
    sandbox = Sandbox(fail_items_where={"url": "u3"})
    with sandbox.client() as client:
        result = client.process_new_data(
            "pl-1", [{"url": f"u{i}"} for i in range(5)], export_fields=["url", "label"]
        )
    rows = result.rows()
    assert [r["url"] for r in rows] == ["u0", "u1", "u2", "u3", "u4"]
    assert [r["label"] is None for r in rows] == [False, False, False, True, False]
    assert result.run.progress is not None and result.run.progress.failed == 1
    assert sandbox.counters.applied["startRun"] == 1


@pytest.mark.anyio
async def test_whole_workflow_async_in_process() -> None:
    sandbox = Sandbox(record_requests=True)
    async with sandbox.async_client() as client:
        result = await client.process_new_data("pl-1", [{"url": f"u{i}"} for i in range(3)])
        created = await client.tasks.create_tasks(_tasks(3), async_mode=True)
    assert len(result.rows()) == 3 and len(created.created) == 3
    assert sandbox.counters.tasks_created == 3
    # both APIs were reached with credentials, presigned storage without
    storage = [r for r in sandbox.requests if r.operation in ("storagePut", "storageGet")]
    api = [r for r in sandbox.requests if r not in storage]
    assert {r.path.split("/")[2] for r in api} == {"v2-beta", "v1"}
    assert all(r.headers["Authorization"] == "[REDACTED]" for r in api)
    assert storage and all("Authorization" not in r.headers for r in storage)


def test_upload_path_over_real_http() -> None:
    with SandboxServer() as server:
        seen: list[tuple[str, bool]] = []

        def hook(request: httpx.Request) -> None:
            seen.append((request.url.host, "authorization" in request.headers))

        storage = httpx.Client(event_hooks={"request": [hook]}, timeout=30)
        with server.client(storage_client=storage) as client:
            result = client.process_new_data(
                "pl-1", [{"text": f"row {i}"} for i in range(300)], upload_threshold=1000
            )
        storage.close()
        assert result.items.upload is not None  # the rows went through uploadUrl
        assert len(result.rows()) == 300
        assert seen and all(host == "localhost" and not auth for host, auth in seen)


def test_async_tasks_are_created_exactly_once_despite_a_lost_answer() -> None:
    faults = FaultConfig(faults=[Fault("reset_after", route="createTasks", on_nth=(1,))])
    sandbox = Sandbox(faults=faults)
    with sandbox.client() as client:
        result = client.tasks.create_tasks(_tasks(3000), async_mode=True, operation_id=uuid.uuid4())
    assert len(result.created) == 3000
    # the lost answer was retried with the same operation id (409 OPERATION_ALREADY_EXISTS)...
    assert sandbox.counters.received["createTasks"] == 2
    assert sandbox.counters.tasks_created == 3000  # ...and nothing was created twice


def test_sync_lost_answer_is_settled_by_reading_the_pool_back() -> None:
    faults = FaultConfig(faults=[Fault("reset_after", route="createTasks", on_nth=(1,))])
    sandbox = Sandbox(faults=faults)
    with sandbox.client() as client:
        result = client.tasks.create_tasks(_tasks(7000))
    # the first request was applied but its answer lost: not re-sent, read back instead
    assert sandbox.counters.received["createTasks"] == 2
    assert len(result.created) == 7000 and result.unknown == []
    assert sandbox.counters.tasks_created == 7000


def test_sync_lost_answer_is_reported_unknown_without_read_back() -> None:
    faults = FaultConfig(faults=[Fault("reset_after", route="createTasks", on_nth=(1,))])
    sandbox = Sandbox(faults=faults)
    with sandbox.client() as client:
        result = client.tasks.create_tasks(
            _tasks(7000), resolve_unknown=False, raise_on_unknown=False
        )
    # the first request was applied but its answer lost: the client does not re-send it
    assert len(result.created) == 2000
    assert sum(len(chunk) for chunk in result.unknown) == 5000
    assert sandbox.counters.tasks_created == 7000
