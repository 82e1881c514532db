"""Watching (backoff, cap, timeout, unknown states), atomic downloads, credentials."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pipelines.fake_api import API, STORAGE, FakePipelineAPI
from toloka_ext import APIConnectionError, ConfigurationError, PollPolicy, PollTimeoutError
from toloka_ext._pipelines import (
    Export,
    ExportFormat,
    ExportStatus,
    PipelineClient,
    Run,
    RunFailedError,
    read_result_rows,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def _run(status: str, completed: int = 0) -> dict[str, Any]:
    return {
        "id": "run-1",
        "status": status,
        "progress": {"total": 4, "completed": completed, "failed": 0},
    }


def _scripted(bodies: list[dict[str, Any]]) -> tuple[PipelineClient, Clock, list[int]]:
    clock = Clock()
    served: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        i = min(len(served), len(bodies) - 1)
        served.append(i)
        return httpx.Response(200, json=bodies[i])

    client = PipelineClient(
        api_key="k",
        base_url=API,
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        clock=clock,
        poll_policy=PollPolicy(interval=1, max_interval=4, backoff_factor=2, timeout=60),
    )
    return client, clock, served


def test_watch_backs_off_up_to_the_cap_and_reports_progress() -> None:
    bodies = [_run("pending")] + [_run("running", i) for i in range(6)] + [_run("completed", 4)]
    client, clock, _ = _scripted(bodies)
    progress: list[tuple[int, int, int]] = []
    run = client.runs.watch(
        "run-1",
        on_progress=lambda r: progress.append(
            (r.progress.total, r.progress.completed, r.progress.failed) if r.progress else (0, 0, 0)
        ),
    )
    assert run.status == "completed"
    assert clock.sleeps == [1, 2, 4, 4, 4, 4, 4]
    assert progress[0] == (4, 0, 0) and progress[-1] == (4, 4, 0) and len(progress) == 8


def test_unknown_status_keeps_polling_until_it_resolves() -> None:
    client, _, served = _scripted([_run("queued_v2"), _run("queued_v2"), _run("completed", 4)])
    assert client.runs.watch("run-1").status == "completed"
    assert len(served) == 3


def test_unknown_status_forever_times_out_with_the_last_run() -> None:
    client, clock, _ = _scripted([_run("paused_by_operator")])
    with pytest.raises(PollTimeoutError) as info:
        client.runs.watch("run-1", timeout=10)
    assert clock.now == pytest.approx(10)
    last = info.value.obj
    assert isinstance(last, Run) and not last.status.is_known


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_terminal_failures_raise_with_the_server_message(status: str) -> None:
    body = {**_run(status, 1), "error": {"message": f"server says {status}"}}
    client, _, _ = _scripted([_run("running"), body])
    with pytest.raises(RunFailedError) as info:
        client.runs.watch("run-1")
    assert info.value.reason == f"server says {status}"
    assert info.value.run.status == status
    assert f"server says {status}" in str(info.value)


def test_missing_api_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOLOKA_API_KEY", raising=False)
    monkeypatch.delenv("TOLOKA_OAUTH_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="TOLOKA_API_KEY"):
        PipelineClient()
    monkeypatch.setenv("TOLOKA_API_KEY", "from-env")
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200, json={"id": "run-1", "status": "pending"})

    PipelineClient(base_url=API, transport=httpx.MockTransport(handler)).runs.get("run-1")
    assert seen == ["ApiKey from-env"]


# ----------------------------------------------------------------------- storage


def test_authorization_never_reaches_storage_even_from_a_leaky_client(tmp_path: Path) -> None:
    fake = FakePipelineAPI()
    leaky = httpx.Client(
        transport=fake.transport(), headers={"Authorization": "ApiKey must-not-leak"}
    )
    client = PipelineClient(
        api_key="k",
        base_url=API,
        transport=fake.transport(),
        storage_client=leaky,
        sleep=lambda _: None,
    )
    result = client.process_new_data(
        "pl-1", [{"a": 1}], upload_threshold=0, output=tmp_path / "r.jsonl"
    )
    assert result.rows() == [{"a": 1, "label": "label-0"}]
    storage = [r for r in fake.requests if str(r.url).startswith(STORAGE)]
    assert [r.method for r in storage] == ["PUT", "GET"]
    assert all("Authorization" not in r.headers for r in storage)
    api = [r for r in fake.requests if str(r.url).startswith(API)]
    assert all(r.headers["Authorization"] == "ApiKey k" for r in api)


def test_default_storage_client_carries_no_credentials(tmp_path: Path) -> None:
    fake = FakePipelineAPI()
    client = PipelineClient(
        api_key="k", base_url=API, transport=fake.transport(), sleep=lambda _: None
    )
    client.process_new_data("pl-1", [{"a": 1}], upload_threshold=0, output=tmp_path / "r.jsonl")
    assert fake.applied["storagePut"] == 1 and fake.storage_auth_seen == []


class _Broken(httpx.SyncByteStream):
    def __iter__(self) -> Any:
        yield b'{"a": 1}\n'
        raise httpx.ReadError("connection reset")


def test_download_is_atomic(tmp_path: Path) -> None:
    def storage(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=_Broken())

    client = PipelineClient(
        api_key="k",
        base_url=API,
        transport=httpx.MockTransport(storage),
        storage_client=httpx.Client(transport=httpx.MockTransport(storage)),
    )
    target = tmp_path / "results.jsonl"
    target.write_text("previous complete file\n")
    export = Export(id="e", status=ExportStatus.READY, download_url=f"{STORAGE}/e.jsonl")
    with pytest.raises(APIConnectionError) as info:
        client.exports.download(export, target)
    assert isinstance(info.value.__cause__, httpx.ReadError)
    assert target.read_text() == "previous complete file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.jsonl"]


@pytest.mark.parametrize(
    ("fmt", "content"),
    [
        ("jsonl", b'{"a": "1", "b": "x"}\n\n{"a": "2", "b": "y"}\n'),
        ("json", b'[{"a": "1", "b": "x"}, {"a": "2", "b": "y"}]'),
        ("csv", b"a,b\r\n1,x\r\n2,y\r\n"),
    ],
)
def test_result_rows_in_every_format(fmt: str, content: bytes, tmp_path: Path) -> None:
    def storage(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=content)

    client = PipelineClient(
        api_key="k",
        base_url=API,
        transport=httpx.MockTransport(storage),
        storage_client=httpx.Client(transport=httpx.MockTransport(storage)),
    )
    export = Export(
        id="e",
        status=ExportStatus.READY,
        format=ExportFormat(fmt),
        download_url=f"{STORAGE}/e?sig=1",
    )
    expected = [{"a": "1", "b": "x"}, {"a": "2", "b": "y"}]
    assert list(client.exports.iter_rows(export)) == expected
    path = client.exports.download(export, tmp_path / f"r.{fmt}")
    assert list(read_result_rows(path)) == expected
    assert json.dumps(expected)
