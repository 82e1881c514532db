"""The package's own clients against the sandbox: the workflows a downstream test would run."""

from __future__ import annotations

import uuid

import httpx

from toloka_ext.testing import Fault, FaultConfig, Sandbox, SandboxServer


def _tasks(n: int) -> list[dict[str, object]]:
    return [{"pool_id": "pool-1", "input_values": {"x": i}, "overlap": 1} for i in range(n)]


def test_pipeline_client_whole_workflow_in_process() -> None:
    sandbox = Sandbox(fail_items_where={"url": "u3"})
    with sandbox.pipeline_client() as client:
        result = client.process_new_data(
            "pl-1", [{"url": f"u{i}"} for i in range(5)], export_fields=["url", "label"]
        )
    rows = result.rows()
    assert [r["url"] for r in rows] == ["u0", "u1", "u2", "u3", "u4"]
    assert [r["label"] is None for r in rows] == [False, False, False, True, False]
    assert result.run.progress is not None and result.run.progress.failed == 1
    assert sandbox.counters.applied["startRun"] == 1


def test_pipeline_client_upload_path_over_real_http() -> None:
    with SandboxServer() as server:
        from toloka_ext import PipelineClient

        seen: list[tuple[str, bool]] = []

        def hook(request: httpx.Request) -> None:
            seen.append((request.url.host, "authorization" in request.headers))

        storage = httpx.Client(event_hooks={"request": [hook]}, timeout=30)
        with PipelineClient(
            api_key=server.api_key,
            base_url=server.v2_base_url,
            storage_client=storage,
            sleep=lambda _s: None,
        ) as client:
            result = client.process_new_data(
                "pl-1", [{"text": f"row {i}"} for i in range(300)], upload_threshold=1000
            )
        storage.close()
        assert result.items.upload is not None  # the rows went through uploadUrl
        assert len(result.rows()) == 300
        assert seen and all(host == "localhost" and not auth for host, auth in seen)


def test_tasks_client_async_is_created_exactly_once_despite_a_lost_answer() -> None:
    faults = FaultConfig(faults=[Fault("reset_after", route="createTasks", on_nth=(1,))])
    sandbox = Sandbox(faults=faults)
    with sandbox.tasks_client() as client:
        result = client.create_tasks(_tasks(3000), async_mode=True, operation_id=uuid.uuid4())
    assert len(result.created) == 3000
    assert sandbox.counters.received["createTasks"] == 2  # the lost answer was retried...
    assert sandbox.counters.tasks_created == 3000  # ...and nothing was created twice


def test_tasks_client_sync_lost_answer_is_reported_unknown() -> None:
    faults = FaultConfig(faults=[Fault("reset_after", route="createTasks", on_nth=(1,))])
    sandbox = Sandbox(faults=faults)
    with sandbox.tasks_client() as client:
        result = client.create_tasks(_tasks(7000))
    # the first chunk was applied but its answer lost: the client does not re-send it
    assert len(result.created) == 2000
    assert sum(len(chunk) for chunk in result.unknown) == 5000
    assert sandbox.counters.tasks_created == 7000
