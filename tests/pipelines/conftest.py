"""Fixtures for the Pipeline API layer on Prism: clients, and a sink standing in for the
presigned object storage that Prism cannot serve."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import ViolationLog
from toloka_ext import AsyncToloka, Toloka

RESULT_ROWS = [
    {"url": "https://img.example.com/1.jpg", "label": "stop"},
    {"url": "https://img.example.com/2.jpg", "label": "yield"},
]


class StorageSink:
    """Presigned storage stand-in: records every request, serves the export file."""

    def __init__(self, result: bytes | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.bodies: list[bytes] = []
        self.result = result or b"".join(json.dumps(r).encode() + b"\n" for r in RESULT_ROWS)

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self.requests.append(request)
        self.bodies.append(body)
        if request.method in ("PUT", "POST"):
            return httpx.Response(200)
        return httpx.Response(200, content=self.result)

    async def ahandler(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.requests.append(request)
        self.bodies.append(body)
        if request.method in ("PUT", "POST"):
            return httpx.Response(200)
        return httpx.Response(200, content=self.result)


def no_sleep(_: float) -> None:
    return None


async def ano_sleep(_: float) -> None:
    return None


class Prefer:
    """Chooses Prism's named example per GET path prefix (Prism 5.14 serves the *last* named
    example by default, which for uploads/runs/exports is the failed one)."""

    def __init__(self) -> None:
        self.examples: dict[str, str] = {
            "/uploads/": "succeeded",
            "/runs/": "completed",
            "/exports/": "ready",
        }

    def _apply(self, request: httpx.Request) -> None:
        if request.method != "GET":
            return
        for prefix, example in self.examples.items():
            if request.url.path.startswith(prefix):
                request.headers["Prefer"] = f"example={example}"

    def hook(self, request: httpx.Request) -> None:
        self._apply(request)

    async def ahook(self, request: httpx.Request) -> None:
        self._apply(request)


@pytest.fixture
def prefer() -> Prefer:
    return Prefer()


@pytest.fixture
def sink() -> StorageSink:
    return StorageSink()


@pytest.fixture
def prism_client(
    prism_v2: Any, violations: ViolationLog, sink: StorageSink, prefer: Prefer
) -> Iterator[Toloka]:
    storage = httpx.Client(transport=httpx.MockTransport(sink.handler))
    http = httpx.Client(event_hooks={"request": [prefer.hook], "response": [violations.hook]})
    with Toloka(
        api_key="test-key",
        base_url=prism_v2.url,
        http_client=http,
        storage_client=storage,
        sleep=no_sleep,
    ) as client:
        yield client
    http.close()
    storage.close()


@pytest.fixture
async def aprism_client(
    prism_v2: Any, violations: ViolationLog, sink: StorageSink, prefer: Prefer
) -> AsyncIterator[AsyncToloka]:
    storage = httpx.AsyncClient(transport=httpx.MockTransport(sink.ahandler))
    http = httpx.AsyncClient(
        event_hooks={"request": [prefer.ahook], "response": [violations.ahook]}
    )
    async with AsyncToloka(
        api_key="test-key",
        base_url=prism_v2.url,
        http_client=http,
        storage_client=storage,
        sleep=ano_sleep,
    ) as client:
        yield client
    await http.aclose()
    await storage.aclose()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
