"""The async twin has every public method of the sync client, with the same signature, and
sends the same requests for the same calls (through Prism)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pipelines.conftest import StorageSink
from toloka_ext._pipelines import AsyncPipelineClient, PipelineClient, _client

PAIRS = [
    (_client.PipelineClient, _client.AsyncPipelineClient),
    (_client.Projects, _client.AsyncProjects),
    (_client.Datasets, _client.AsyncDatasets),
    (_client.Uploads, _client.AsyncUploads),
    (_client.Pipelines, _client.AsyncPipelines),
    (_client.Runs, _client.AsyncRuns),
    (_client.Exports, _client.AsyncExports),
]
# Where the sync and async APIs must differ.
RENAMED = {"close": "aclose", "__enter__": "__aenter__", "__exit__": "__aexit__"}
SYNC_ONLY_PARAMS = {
    "sleep",
    "transport",
    "http_client",
    "storage_client",
    "client",
}  # typed differently


def _public(cls: type) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(cls)
        if (
            not name.startswith("_")
            or name in {"__init__", "__repr__", *RENAMED, *RENAMED.values()}
        )
        and (callable(member) or isinstance(member, property))
    }


@pytest.mark.parametrize(("sync_cls", "async_cls"), PAIRS, ids=[p[0].__name__ for p in PAIRS])
def test_every_public_method_has_an_async_twin_with_the_same_signature(
    sync_cls: type, async_cls: type
) -> None:
    sync_methods = _public(sync_cls)
    async_methods = _public(async_cls)
    expected = {RENAMED.get(n, n) for n in sync_methods}
    assert expected == set(async_methods)
    for name, method in sync_methods.items():
        twin = async_methods[RENAMED.get(name, name)]
        if name in RENAMED or isinstance(method, property):
            continue
        s, a = inspect.signature(method), inspect.signature(twin)
        assert list(s.parameters) == list(a.parameters), name
        for param in s.parameters.values():
            other = a.parameters[param.name]
            assert param.kind == other.kind, (name, param)
            if param.name not in SYNC_ONLY_PARAMS:
                assert param.default == other.default, (name, param)
                assert str(param.annotation) == str(other.annotation), (name, param.name)
        # A method returning a paginator is a plain method in both; anything else is a
        # coroutine (or an async generator) in the twin.
        if "Page" in str(s.return_annotation):
            assert not inspect.iscoroutinefunction(twin), name
        elif name not in ("__init__", "__repr__"):
            assert inspect.iscoroutinefunction(twin) or inspect.isasyncgenfunction(twin), name
    # The public docstrings exist on both sides.
    assert async_cls.__doc__ and sync_cls.__doc__


def _recorder(log: list[tuple[str, str, Any]]) -> Callable[[httpx.Request], None]:
    def record(request: httpx.Request) -> None:
        ctype = request.headers.get("content-type", "")
        body: Any = None
        if "json" in ctype and request.content:
            body = json.loads(request.content)
        elif ctype:
            body = ctype.split(";")[0]  # multipart: the boundary is random
        log.append((request.method, str(request.url), body))

    return record


STEPS: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = [
    ("projects", "list", (), {}),
    ("projects", "create", ("p",), {"description": "d"}),
    ("datasets", "create", ("prj-1",), {"name": "b"}),
    ("datasets", "list", ("prj-1",), {"limit": 5}),
    ("datasets", "list_fields", ("ds-1",), {}),
    ("datasets", "add_items", ("ds-1", [{"url": "a"}, {"url": "b"}]), {}),
    ("datasets", "add_items", ("ds-1", [{"url": "a"}]), {"upload_threshold": 0}),
    ("uploads", "create", ("ds-1",), {"fields": ["k"], "file_name": "f.json"}),
    ("uploads", "get", ("upl-1",), {}),
    ("uploads", "finalize", ("upl-1",), {}),
    ("uploads", "wait", ("upl-1",), {"timeout": 5}),
    ("pipelines", "list", ("prj-1",), {}),
    ("pipelines", "copy", ("pl-1",), {"name": "c", "project_id": "prj-1"}),
    ("pipelines", "export_to_file", ("pl-1", "{tmp}/x.pipeline"), {}),
    ("pipelines", "import_file", ("prj-1", "{tmp}/x.pipeline"), {"name": "imported"}),
    ("pipelines", "attach", ("pl-2", "ds-1"), {"item_limit": 5}),
    ("runs", "start", ("pl-2",), {"name": "r"}),
    ("runs", "get", ("run-1",), {}),
    ("runs", "list", ("pl-2",), {}),
    ("runs", "watch", ("run-1",), {"timeout": 5}),
    ("exports", "create", ("ds-1",), {"fields": ["url"], "format": "jsonl"}),
    ("exports", "get", ("exp-1",), {}),
    ("exports", "wait", ("exp-1",), {"timeout": 5}),
    ("exports", "download", ("exp-1", "{tmp}/r.jsonl"), {}),
    ("exports", "iter_rows", ("exp-1",), {}),
]


def _args(args: tuple[Any, ...], tmp: Path) -> tuple[Any, ...]:
    return tuple(a.format(tmp=tmp) if isinstance(a, str) else a for a in args)


def _summary(value: Any) -> Any:
    if isinstance(value, Path):
        return value.read_bytes()
    if isinstance(value, list):
        return [_summary(v) for v in value]
    return value


@pytest.mark.prism
@pytest.mark.anyio
async def test_sync_and_async_send_the_same_requests_and_return_the_same_values(
    prism_client: PipelineClient,
    aprism_client: AsyncPipelineClient,
    sink: StorageSink,
    tmp_path: Path,
) -> None:
    sync_log: list[tuple[str, str, Any]] = []
    async_log: list[tuple[str, str, Any]] = []
    prism_client._api.http_client.event_hooks["request"].append(_recorder(sync_log))

    async def arecord(request: httpx.Request) -> None:
        _recorder(async_log)(request)

    aprism_client._api.http_client.event_hooks["request"].append(arecord)
    (tmp_path / "s").mkdir()
    (tmp_path / "a").mkdir()
    for resource, name, args, kwargs in STEPS:
        method = getattr(getattr(prism_client, resource), name)
        got = method(*_args(args, tmp_path / "s"), **kwargs)
        if name in ("list", "iter_rows"):
            got = list(got)
        twin = getattr(getattr(aprism_client, resource), name)
        if name in ("list", "iter_rows"):
            agot = [x async for x in twin(*_args(args, tmp_path / "a"), **kwargs)]
        else:
            agot = await twin(*_args(args, tmp_path / "a"), **kwargs)
        assert _summary(got) == _summary(agot), (resource, name)
        assert sync_log == async_log, (resource, name)
        sync_log.clear()
        async_log.clear()
    storage = [(r.method, str(r.url)) for r in sink.requests]
    assert storage[0::2] == storage[1::2]  # every storage request twice: sync, then async
