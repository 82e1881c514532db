"""The whole loop against the stateful local Toloka (``toloka_ext.testing.Sandbox``):
uploads to a different origin that rejects Authorization, runs that progress, exports that
download, and a crash after every request followed by a resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pipelines.fake_api import Crash
from toloka_ext._pipelines import AsyncPipelineClient, PipelineClient

testing = pytest.importorskip("toloka_ext.testing")

ROWS = [{"text": f"item {i}", "n": i} for i in range(7)]


class CrashingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Passes requests to the sandbox; raises ``Crash`` right after request ``k`` applied."""

    def __init__(self, inner: Any, crash_after: int | None = None) -> None:
        self.inner = inner
        self.crash_after = crash_after
        self.count = 0

    def _after(self, response: httpx.Response) -> httpx.Response:
        self.count += 1
        if self.crash_after is not None and self.count >= self.crash_after:
            raise Crash(f"after request {self.count}")
        return response

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._after(self.inner.handle_request(request))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return self._after(await self.inner.handle_async_request(request))


def _client(sandbox: Any, crash_after: int | None = None) -> tuple[PipelineClient, Any]:
    t = CrashingTransport(sandbox.transport, crash_after)
    client = PipelineClient(
        api_key=sandbox.api_key,
        base_url=sandbox.v2_base_url,
        transport=t,
        max_retries=0,
        sleep=lambda _: None,
    )
    return client, t


def _objects(sandbox: Any, kind: str) -> list[dict[str, Any]]:
    return list(sandbox.backend.all(kind))


def _check_once(sandbox: Any, rows: list[dict[str, Any]]) -> None:
    datasets = _objects(sandbox, "dataset")
    assert len(datasets) == 1
    copies = [p for p in _objects(sandbox, "pipeline") if p["id"] != "pl-1"]
    assert len(copies) == 1
    assert len(_objects(sandbox, "run")) == 1
    stored = sandbox.dataset_rows(datasets[0]["id"])
    assert [{k: r[k] for k in rows[0]} for r in stored] == rows


@pytest.mark.parametrize("upload_threshold", [16 * 1024 * 1024, 0], ids=["inline", "upload"])
def test_process_new_data_against_the_sandbox(upload_threshold: int, tmp_path: Path) -> None:
    sandbox = testing.Sandbox()
    client, transport = _client(sandbox)
    result = client.process_new_data(
        "pl-1", ROWS, journal=tmp_path / "j", upload_threshold=upload_threshold
    )
    rows = result.rows()
    assert [{k: r[k] for k in ROWS[0]} for r in rows] == ROWS
    assert all(r["label"] in ("yes", "no") for r in rows)
    assert result.run.status == "completed"
    _check_once(sandbox, ROWS)
    total = transport.count
    for k in range(1, total + 1):
        sandbox = testing.Sandbox()
        journal = tmp_path / f"j-{upload_threshold}-{k}"
        client, _ = _client(sandbox, crash_after=k)
        with pytest.raises(Crash):
            client.process_new_data(
                "pl-1", ROWS, journal=journal, upload_threshold=upload_threshold
            )
        client, _ = _client(sandbox)
        result = client.process_new_data(
            "pl-1", ROWS, journal=journal, upload_threshold=upload_threshold
        )
        _check_once(sandbox, ROWS)
        assert len(result.rows()) == len(ROWS), k


@pytest.mark.anyio
async def test_async_process_new_data_against_the_sandbox(tmp_path: Path) -> None:
    sandbox = testing.Sandbox()

    async def no_sleep(_: float) -> None:
        return None

    async with AsyncPipelineClient(
        api_key=sandbox.api_key,
        base_url=sandbox.v2_base_url,
        transport=sandbox.transport,
        sleep=no_sleep,
    ) as client:
        result = await client.process_new_data(
            "pl-1", ROWS, journal=tmp_path / "j", upload_threshold=0
        )
    assert len(result.rows()) == len(ROWS)
    _check_once(sandbox, ROWS)
