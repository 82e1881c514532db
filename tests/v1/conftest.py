"""Fixtures for the v1 tests: the in-process sandbox (the only fake of Toloka) and clients on it.

Pool ``"42"`` declares the input spec ``{"n": "integer"}``, so a task whose ``input_values``
has a key ``"bad"`` is invalid server-side (field error ``input_values.bad``,
``VALUE_NOT_ALLOWED``), in sync mode and in async mode (``TASK_VALIDATE`` in the log).
Operations finish on their first poll (``operation_polls=1``) unless a test says otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import httpx
import pytest

from toloka_ext import AsyncToloka, PollPolicy, Toloka
from toloka_ext.testing import RecordedRequest, Sandbox

POOL = "42"
TOKEN = "secret-token-value"
FAST_POLL = PollPolicy(interval=0.0, max_interval=0.0, timeout=None)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def task(i: int, **extra: Any) -> dict[str, Any]:
    return {"pool_id": POOL, "input_values": {"n": i}, "overlap": 1, **extra}


def bad_task(i: int) -> dict[str, Any]:
    """A task the server rejects: ``bad`` is not an input field of pool 42."""
    return task(i, input_values={"n": i, "bad": 1})


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(record_requests=True, oauth_token=TOKEN, operation_polls=1) as sb:
        sb.add_pool(POOL, input_spec={"n": "integer"}, default_overlap=2)
        yield sb


def posts(sandbox: Sandbox) -> list[RecordedRequest]:
    """The ``POST /tasks`` requests the sandbox received."""
    return sandbox.requests_for("createTasks")


def ids_by_position(sandbox: Sandbox) -> dict[int, str]:
    """The id of every task the sandbox created, keyed by the ``n`` of its input."""
    return {t["input_values"]["n"]: t["id"] for t in sandbox.tasks()}


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[Toloka]:
    with sandbox.client(poll_policy=FAST_POLL) as c:
        yield c


@pytest.fixture
async def aclient(sandbox: Sandbox) -> AsyncIterator[AsyncToloka]:
    async with sandbox.async_client(poll_policy=FAST_POLL) as c:
        yield c


class SyncFacade:
    """Calls an ``AsyncToloka`` resource as if it were sync, so one test serves both twins."""

    def __init__(self, resource: Any) -> None:
        self._resource = resource

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._resource, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            async def go() -> Any:
                return await method(*args, **kwargs)

            return anyio.run(go)

        return call


@pytest.fixture(params=["sync", "async"])
def twin(request: pytest.FixtureRequest, sandbox: Sandbox) -> Iterator[Any]:
    """``Toloka().tasks`` or ``AsyncToloka().tasks`` (driven synchronously) on the sandbox,
    with the client's ``operations`` as ``twin.ops``."""
    if request.param == "sync":
        with sandbox.client(poll_policy=FAST_POLL) as c:
            c.tasks.ops = c.operations  # type: ignore[attr-defined]
            yield c.tasks
        return
    aclient = sandbox.async_client(poll_policy=FAST_POLL)
    facade = SyncFacade(aclient.tasks)
    facade.ops = SyncFacade(aclient.operations)  # type: ignore[attr-defined]
    yield facade
    anyio.run(aclient.aclose)


class Answers:
    """Every answer a client received, as ``(operation path, status, error code)``, through
    the ``event_hooks`` of the httpx client handed to it (``http_client=``)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int, str | None]] = []

    def _note(self, response: httpx.Response) -> None:
        code = None
        if response.is_error and response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            code = response.json().get("code")
        request = response.request
        self.seen.append((request.method, request.url.path, response.status_code, code))

    def hook(self, response: httpx.Response) -> None:
        response.read()
        self._note(response)

    async def ahook(self, response: httpx.Response) -> None:
        await response.aread()
        self._note(response)

    def http_client(self, transport: Any = None) -> httpx.Client:
        return httpx.Client(transport=transport, event_hooks={"response": [self.hook]})

    def async_http_client(self, transport: Any = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport, event_hooks={"response": [self.ahook]})

    def statuses(self, method: str, path_end: str) -> list[tuple[int, str | None]]:
        return [(s, c) for m, p, s, c in self.seen if m == method and p.endswith(path_end)]
