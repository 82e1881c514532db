"""Watching (backoff, cap, timeout, unknown states), atomic downloads, credentials, result
formats: runs that progress as they are polled, and exports served from presigned storage,
by the sandbox."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pipelines._flows import storage_requests
from toloka_ext import (
    APIConnectionError,
    ApiDriftError,
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
    PollPolicy,
    PollTimeoutError,
    RunFailedError,
    Toloka,
)
from toloka_ext._v2._results import read_result_rows
from toloka_ext._v2._rows import iter_result_rows
from toloka_ext.testing import Fault, FaultConfig, Sandbox
from toloka_ext.types import Export, Run

POLICY = PollPolicy(interval=1, max_interval=4, backoff_factor=2, timeout=60)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def _started_run(sandbox: Sandbox, rows: list[dict[str, Any]]) -> str:
    """A run of ``rows`` through pl-1, started and not polled yet."""
    with sandbox.client() as client:
        dataset = client.datasets.create("prj-1", name="watched")
        client.datasets.add_items(dataset.id, rows)
        client.pipelines.attach("pl-1", dataset.id)
        run_id = client.runs.start("pl-1").id
    del sandbox.requests[:]
    return run_id


def _watching(sandbox: Sandbox) -> tuple[Toloka, Clock]:
    clock = Clock()
    return sandbox.client(sleep=clock.sleep, clock=clock, poll_policy=POLICY), clock


FOUR = [{"n": i} for i in range(4)]


def test_watch_backs_off_up_to_the_cap_and_reports_progress() -> None:
    sandbox = Sandbox(record_requests=True, run_polls=8)  # done at the 8th GET
    run_id = _started_run(sandbox, FOUR)
    client, clock = _watching(sandbox)
    progress: list[tuple[int, int, int]] = []
    with client:
        run = client.runs.watch(
            run_id,
            on_progress=lambda r: progress.append(
                (r.progress.total, r.progress.completed, r.progress.failed)
                if r.progress
                else (0, 0, 0)
            ),
        )
    assert run.status == "completed"
    assert clock.sleeps == [1, 2, 4, 4, 4, 4, 4]
    assert progress[0] == (4, 0, 0) and progress[-1] == (4, 4, 0) and len(progress) == 8
    assert [c for _, c, _ in progress] == sorted(c for _, c, _ in progress)  # it progressed
    assert len(sandbox.requests_for("getRun")) == 8


def _rewrite_run(change: Callable[[int, Any], Any]) -> Callable[[str, Any], Any]:
    """Rewrite the n-th (1-based) ``getRun`` answer with ``change(n, body)``."""
    seen = 0

    def rewrite(op: str, body: Any) -> Any:
        nonlocal seen
        if op != "getRun":
            return body
        seen += 1
        return change(seen, body)

    return rewrite


def _queued(body: Any) -> Any:
    """``body`` under a status the snapshot does not know, with no item done yet."""
    progress = {**body["progress"], "completed": 0, "failed": 0}
    queued = {**body, "status": "queued_v2", "progress": progress}
    queued.pop("finishedAt", None)
    return queued


def test_unknown_status_keeps_polling_until_it_resolves() -> None:
    """A status the snapshot does not know for a few polls is waited through."""
    sandbox = Sandbox(record_requests=True, run_polls=1)
    run_id = _started_run(sandbox, FOUR)
    sandbox.rewrite = _rewrite_run(lambda n, b: _queued(b) if n <= 2 else b)
    client, _ = _watching(sandbox)
    with client:
        assert client.runs.watch(run_id).status == "completed"
    assert len(sandbox.requests_for("getRun")) == 3


def test_a_known_status_forever_times_out_naming_the_last_state() -> None:
    sandbox = Sandbox(record_requests=True, run_polls=10**6)
    run_id = _started_run(sandbox, FOUR)
    client, clock = _watching(sandbox)
    with client, pytest.raises(PollTimeoutError) as info:
        client.runs.watch(run_id, timeout=10)
    assert clock.now == pytest.approx(10)
    last = info.value.obj
    assert isinstance(last, Run) and last.status == "running" and last.id == run_id
    assert f"last seen: run {run_id} status 'running'" in str(info.value)
    assert "/4 completed, 0 failed" in str(info.value)


def test_unknown_status_forever_is_drift_long_before_the_timeout() -> None:
    sandbox = Sandbox(record_requests=True, run_polls=10**6)
    run_id = _started_run(sandbox, FOUR)
    sandbox.rewrite = _rewrite_run(lambda n, b: {**b, "status": "paused_by_operator"})
    client, clock = _watching(sandbox)
    with client, pytest.raises(ApiDriftError) as info:
        client.runs.watch(run_id, timeout=3600)
    assert (info.value.operation, info.value.field) == ("getRun", "status")
    assert "'paused_by_operator'" in str(info.value) and run_id in str(info.value)
    # The default bound: 10 polls in a row (waits 1, 2, then 4 s under POLICY).
    assert len(sandbox.requests_for("getRun")) == 10
    assert clock.now == pytest.approx(1 + 2 + 4 * 7)


def test_a_run_whose_items_all_fail_raises_with_the_server_message() -> None:
    sandbox = Sandbox(record_requests=True, run_polls=2, fail_items_where={"n": 0})
    run_id = _started_run(sandbox, [{"n": 0}, {"n": 0}])
    client, _ = _watching(sandbox)
    with client, pytest.raises(RunFailedError) as info:
        client.runs.watch(run_id)
    assert info.value.reason == "All 2 items failed"
    assert info.value.run.status == "failed" and info.value.run.id == run_id
    assert "All 2 items failed" in str(info.value)
    assert len(sandbox.requests_for("getRun")) == 2  # running, then failed


@pytest.mark.parametrize("status", ["failed", "cancelled"])
def test_terminal_failures_raise_with_the_server_message(status: str) -> None:
    sandbox = Sandbox(record_requests=True, run_polls=10)
    run_id = _started_run(sandbox, FOUR)

    def ended(n: int, body: Any) -> Any:
        if n < 2:
            return body
        return {**body, "status": status, "error": {"message": f"server says {status}"}}

    sandbox.rewrite = _rewrite_run(ended)
    client, _ = _watching(sandbox)
    with client, pytest.raises(RunFailedError) as info:
        client.runs.watch(run_id)
    assert info.value.reason == f"server says {status}"
    assert info.value.run.status == status
    assert f"server says {status}" in str(info.value)
    assert len(sandbox.requests_for("getRun")) == 2


def test_missing_api_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOLOKA_API_KEY", raising=False)
    monkeypatch.delenv("TOLOKA_OAUTH_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="TOLOKA_API_KEY"):
        Toloka()
    sandbox = Sandbox(api_key="from-env", record_requests=True)
    run_id = _started_run(sandbox, FOUR)
    monkeypatch.setenv("TOLOKA_API_KEY", "from-env")
    with sandbox.client(api_key=None) as client:  # the key comes from the environment
        assert client.runs.get(run_id).id == run_id
    monkeypatch.setenv("TOLOKA_API_KEY", "other")
    with sandbox.client(api_key=None, max_retries=0) as client:
        with pytest.raises(AuthenticationError):
            client.runs.get(run_id)
    assert all("Authorization" in r.headers for r in sandbox.requests)
    assert sandbox.counters.applied["getRun"] == 1


# ----------------------------------------------------------------------- storage


def test_authorization_never_reaches_storage_even_from_a_leaky_client(tmp_path: Path) -> None:
    sandbox = Sandbox(record_requests=True)
    leaky = httpx.Client(
        transport=sandbox.transport, headers={"Authorization": "ApiKey must-not-leak"}
    )
    with leaky, sandbox.client(storage_client=leaky) as client:
        result = client.process_new_data(
            "pl-1", [{"a": 1}], upload_threshold=0, output=tmp_path / "r.jsonl"
        )
    assert [{"a": r["a"]} for r in result.rows()] == [{"a": 1}]
    assert result.rows()[0]["label"] in ("yes", "no")
    storage = storage_requests(sandbox)
    assert [r.operation for r in storage] == ["storagePut", "storageGet"]
    assert all("Authorization" not in r.headers for r in storage)
    assert all(r.url.startswith(sandbox.storage_base) for r in storage)
    api = [r for r in sandbox.requests if r not in storage]
    assert api and all("Authorization" in r.headers for r in api)
    assert all(r.url.startswith(sandbox.v2_base_url) for r in api)


def test_default_storage_client_carries_no_credentials(tmp_path: Path) -> None:
    sandbox = Sandbox(record_requests=True)
    with sandbox.client() as client:
        client.process_new_data("pl-1", [{"a": 1}], upload_threshold=0, output=tmp_path / "r.jsonl")
    assert sandbox.counters.applied["storagePut"] == 1
    assert sandbox.counters.applied["storageGet"] == 1
    storage = storage_requests(sandbox)
    assert len(storage) == 2 and all("Authorization" not in r.headers for r in storage)


def _ready_export(sandbox: Sandbox, rows: list[dict[str, Any]], fmt: str | None = None) -> Export:
    with sandbox.client() as client:
        dataset = client.datasets.create("prj-1", name="results")
        client.datasets.add_items(dataset.id, rows)
        export = client.exports.wait(client.exports.create(dataset.id, format=fmt).id)
    assert export.download_url is not None
    del sandbox.requests[:]
    return export


class _Broken(httpx.SyncByteStream):
    def __iter__(self) -> Any:
        yield b'{"a": 1}\n'
        raise httpx.ReadError("connection reset")


def test_download_is_atomic_when_the_body_breaks_midway(tmp_path: Path) -> None:
    # A body that breaks after its first bytes is a property of the HTTP stream, which the
    # sandbox (answering whole bodies) cannot produce: this storage stub can.
    sandbox = Sandbox()
    export = _ready_export(sandbox, [{"a": 1}, {"a": 2}])
    stub = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, stream=_Broken()))
    )
    target = tmp_path / "results.jsonl"
    target.write_text("previous complete file\n")
    with stub, sandbox.client(storage_client=stub) as client:
        with pytest.raises(APIConnectionError) as info:
            client.exports.download(export, target)
    assert isinstance(info.value.__cause__, httpx.ReadError)
    assert target.read_text() == "previous complete file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.jsonl"]


def test_download_is_atomic_when_storage_drops_the_connection(tmp_path: Path) -> None:
    sandbox = Sandbox(record_requests=True)
    export = _ready_export(sandbox, [{"a": 1}, {"a": 2}])
    sandbox.faults = FaultConfig(faults=[Fault("reset_after", route="storageGet", rate=1.0)])
    target = tmp_path / "results.jsonl"
    target.write_text("previous complete file\n")
    with sandbox.client(max_retries=2) as client:
        with pytest.raises(APIConnectionError):
            client.exports.download(export, target)
    assert len(sandbox.requests_for("storageGet")) == 3  # a download is retried
    assert target.read_text() == "previous complete file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.jsonl"]
    sandbox.faults = FaultConfig()
    with sandbox.client() as client:
        assert list(read_result_rows(client.exports.download(export, target))) == [
            {"a": 1},
            {"a": 2},
        ]


EXPECTED = [{"a": "1", "b": "x"}, {"a": "2", "b": "y"}]


@pytest.mark.parametrize("fmt", ["jsonl", "json", "csv"])
def test_result_rows_in_every_format(fmt: str, tmp_path: Path) -> None:
    sandbox = Sandbox(record_requests=True)
    export = _ready_export(sandbox, EXPECTED, fmt)
    assert export.format == fmt
    with sandbox.client() as client:
        assert list(client.exports.iter_rows(export)) == EXPECTED
        path = client.exports.download(export, tmp_path / f"r.{fmt}")
        assert list(read_result_rows(path)) == EXPECTED
        # By id: the export is fetched first, then its file.
        assert list(client.exports.iter_rows(export.id)) == EXPECTED
    assert [r.operation for r in sandbox.requests] == [
        "storageGet",
        "storageGet",
        "getExport",
        "storageGet",
    ]


@pytest.mark.parametrize(
    ("fmt", "content"),
    [
        ("jsonl", b'{"a": "1", "b": "x"}\n\n{"a": "2", "b": "y"}\n'),
        ("json", b'[{"a": "1", "b": "x"}, {"a": "2", "b": "y"}]'),
        ("csv", b"a,b\r\n1,x\r\n2,y\r\n"),
    ],
)
def test_result_files_are_parsed_in_every_format(fmt: str, content: bytes) -> None:
    assert list(iter_result_rows(io.BytesIO(content), fmt)) == EXPECTED


# -- poll_policy=, and policy= its deprecated old name ------------------------------------

ONE_SECOND = PollPolicy(interval=1, max_interval=1, backoff_factor=1, timeout=60)
POLLING_CALLS: dict[str, Callable[..., object]] = {
    "runs.watch": lambda c, **kw: c.runs.watch("run-none", **kw),
    "exports.wait": lambda c, **kw: c.exports.wait("exp-none", **kw),
    "uploads.wait": lambda c, **kw: c.uploads.wait("upl-none", **kw),
    "datasets.add_items": lambda c, **kw: c.datasets.add_items("ds-none", [{"url": "a"}], **kw),
    "process_new_data": lambda c, **kw: c.process_new_data(
        "pl-none", [{"url": "a"}], project_id="prj-1", **kw
    ),
}


@pytest.mark.parametrize("name", POLLING_CALLS)
def test_policy_is_the_deprecated_name_of_poll_policy(name: str) -> None:
    sandbox = Sandbox()
    call = POLLING_CALLS[name]
    with sandbox.client() as client:
        with pytest.raises(InvalidInputError, match="give poll_policy= only") as both:
            call(client, poll_policy=ONE_SECOND, policy=ONE_SECOND)
        assert both.value.field == "policy" and sandbox.requests == []  # refused up front
        with pytest.warns(DeprecationWarning, match=r"use poll_policy= .*removed in 0\.3\.0"):
            with pytest.raises(NotFoundError):  # the call went on: the object is not there
                call(client, policy=ONE_SECOND)
        with pytest.raises(NotFoundError):  # the new name does not warn (warnings are errors)
            call(client, poll_policy=ONE_SECOND)


def test_the_old_name_still_sets_the_policy() -> None:
    sandbox = Sandbox()
    run_id = _started_run(sandbox, [{"url": f"https://x/{i}.jpg"} for i in range(3)])
    client, clock = _watching(sandbox)
    with client, pytest.warns(DeprecationWarning) as warned:
        run = client.runs.watch(run_id, policy=ONE_SECOND)
    assert run.status == "completed"
    assert clock.sleeps and set(clock.sleeps) == {1.0}  # ONE_SECOND's, not POLICY's backoff
    assert warned[0].filename == __file__  # the warning names the caller's line
