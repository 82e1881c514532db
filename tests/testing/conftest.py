"""Fixtures for the sandbox's own tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from toloka_ext.testing import ManualClock, Sandbox, SandboxServer

pytest_plugins = ["pytester"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[Sandbox]:
    with Sandbox(clock=clock) as sb:
        yield sb


class Api:
    """A tiny client for one sandbox: auth only for the API origin, never for storage."""

    def __init__(self, http: httpx.Client, v2: str, v1: str, key: str, token: str) -> None:
        self.http = http
        self.v2_url = v2
        self.v1_url = v1
        self.h2 = {"Authorization": f"ApiKey {key}"}
        self.h1 = {"Authorization": f"OAuth {token}"}

    def v2(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {**self.h2, **kw.pop("headers", {})}
        return self.http.request(method, self.v2_url + path, headers=headers, **kw)

    def v1(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {**self.h1, **kw.pop("headers", {})}
        return self.http.request(method, self.v1_url + path, headers=headers, **kw)


@pytest.fixture
def api(sandbox: Sandbox) -> Iterator[Api]:
    with sandbox.http_client() as http:
        yield Api(
            http, sandbox.v2_base_url, sandbox.v1_base_url, sandbox.api_key, sandbox.oauth_token
        )


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer() as srv:
        yield srv


@pytest.fixture
def served_api(server: SandboxServer) -> Iterator[Api]:
    with httpx.Client(timeout=10) as http:
        yield Api(http, server.v2_base_url, server.v1_base_url, server.api_key, server.oauth_token)
