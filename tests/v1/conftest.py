"""A scripted in-memory fake of the v1 task API for unit tests (httpx.MockTransport)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest

from toloka_ext import AsyncTasksClient, PollPolicy, TasksClient

BASE = "https://toloka.test/api/v1"
Fault = Callable[[httpx.Request], httpx.Response | None]


def _now() -> str:
    return "2026-11-23T10:15:00.123"


class FakeV1:
    """Stateful enough to check exactly-once: it counts every task it really created.

    A task is invalid when its ``input_values`` has a key ``"bad"`` (the server is the judge
    of field names). ``faults`` is a queue of callables run before the normal handling of
    each POST /tasks; returning a response answers with it, raising an httpx error simulates
    a network failure, and ``apply_then_timeout`` applies the request and then loses the answer.
    """

    def __init__(self) -> None:
        self.tasks: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        self.logs: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[httpx.Request] = []
        self.faults: list[str | httpx.Response] = []
        self.polls_until_done = 1
        self._polls: dict[str, int] = {}
        self.conflict_on_duplicate_operation = False
        self.opened_pool_after: list[int] = []
        self.log_order_reversed = False

    # -- helpers for tests
    def post_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == "POST"]

    def _task(self, data: dict[str, Any]) -> dict[str, Any]:
        task_id = f"task-{len(self.tasks) + 1:06d}"
        task = {**data, "id": task_id, "created": _now(), "remaining_overlap": 1}
        self.tasks[task_id] = task
        return task

    @staticmethod
    def _errors(data: dict[str, Any]) -> dict[str, Any] | None:
        if "bad" in data.get("input_values", {}):
            return {"input_values.bad": {"code": "VALUE_NOT_ALLOWED", "message": "unknown field"}}
        return None

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/api/v1")
        if request.method == "POST" and path == "/tasks":
            fault = self.faults.pop(0) if self.faults else None
            if isinstance(fault, httpx.Response):
                return fault
            if fault == "connect_error":
                raise httpx.ConnectError("refused", request=request)
            if fault == "read_timeout_before_apply":
                raise httpx.ReadTimeout("lost", request=request)
            response = self._create(request)
            if fault == "apply_then_timeout":
                raise httpx.ReadTimeout("answer lost", request=request)
            return response
        if request.method == "GET" and path.startswith("/operations/"):
            rest = path.removeprefix("/operations/")
            if rest.endswith("/log"):
                op_id = rest.removesuffix("/log")
                if op_id not in self.logs:
                    return self._error(404, "DOES_NOT_EXIST")
                log = self.logs[op_id]
                return httpx.Response(
                    200, json=list(reversed(log)) if self.log_order_reversed else log
                )
            if rest not in self.operations:
                return self._error(404, "DOES_NOT_EXIST")
            return httpx.Response(200, json=self._poll(rest))
        return self._error(404, "DOES_NOT_EXIST")

    @staticmethod
    def _error(status: int, code: str, payload: Any = None) -> httpx.Response:
        body: dict[str, Any] = {"request_id": str(uuid.uuid4()), "code": code, "message": code}
        if payload is not None:
            body["payload"] = payload
        return httpx.Response(status, json=body)

    def _poll(self, op_id: str) -> dict[str, Any]:
        op = self.operations[op_id]
        count = self._polls.get(op_id, 0) + 1
        self._polls[op_id] = count
        if op["status"] in ("PENDING", "RUNNING") and count >= self.polls_until_done:
            op["status"] = op.pop("_final")
            op["finished"] = _now()
            op["progress"] = 100
        elif op["status"] == "PENDING":
            op["status"] = "RUNNING"
            op["started"] = _now()
        return {k: v for k, v in op.items() if not k.startswith("_")}

    def _create(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        body = json.loads(request.content)
        skip = params.get("skip_invalid_items") == "true"
        if params.get("open_pool") == "true":
            self.opened_pool_after.append(len(self.tasks))
        if isinstance(body, dict):
            errors = self._errors(body)
            if errors:
                return self._error(400, "VALIDATION_ERROR", {"0": errors})
            return httpx.Response(201, json=self._task(body))
        if params.get("async_mode") == "true":
            return self._create_async(body, params, skip)
        invalid = {str(i): e for i, t in enumerate(body) if (e := self._errors(t))}
        if invalid and not skip:
            return self._error(400, "VALIDATION_ERROR", invalid)
        items = {str(i): self._task(t) for i, t in enumerate(body) if str(i) not in invalid}
        out: dict[str, Any] = {"items": items, "extra_key": "kept"}
        if skip:
            out["validation_errors"] = invalid
        return httpx.Response(201, json=out)

    def _create_async(
        self, body: list[Any], params: httpx.QueryParams, skip: bool
    ) -> httpx.Response:
        op_id = params.get("operation_id") or str(uuid.uuid4())
        if op_id in self.operations:
            if self.conflict_on_duplicate_operation:
                return self._error(409, "CONFLICT_STATE")
            op = self.operations[op_id]
            return httpx.Response(201, json={k: v for k, v in op.items() if not k.startswith("_")})
        log: list[dict[str, Any]] = []
        invalid = [i for i, t in enumerate(body) if self._errors(t)]
        fail = bool(invalid) and not skip
        for t in body:
            errors = self._errors(t)
            if errors:
                log.append(
                    {"type": "TASK_VALIDATE", "success": False, "input": t, "output": errors}
                )
            elif not fail:
                created = self._task(t)
                log.append(
                    {
                        "type": "TASK_CREATE",
                        "success": True,
                        "input": t,
                        "output": {"task_id": created["id"]},
                    }
                )
        op = {
            "id": op_id,
            "type": "TASK.BATCH_CREATE",
            "status": "PENDING",
            "submitted": _now(),
            "parameters": {
                "open_pool": params.get("open_pool") == "true",
                "allow_defaults": params.get("allow_defaults") == "true",
                "skip_invalid_items": skip,
            },
            "details": {"total_count": len(body), "not_valid_count": len(invalid)},
            "brand_new_key": 1,
            "_final": "FAIL" if fail else "SUCCESS",
        }
        self.operations[op_id] = op
        self.logs[op_id] = log
        return httpx.Response(202, json={k: v for k, v in op.items() if not k.startswith("_")})


def no_sleep(seconds: float) -> None:
    pass


async def ano_sleep(seconds: float) -> None:
    pass


FAST_POLL = PollPolicy(interval=0.0, max_interval=0.0, timeout=None)


@pytest.fixture
def fake() -> FakeV1:
    return FakeV1()


@pytest.fixture
def client(fake: FakeV1) -> Iterator[TasksClient]:
    with TasksClient(
        oauth_token="secret-token-value",
        base_url=BASE,
        transport=httpx.MockTransport(fake.handler),
        sleep=no_sleep,
        poll_policy=FAST_POLL,
    ) as c:
        yield c


@pytest.fixture
async def aclient(fake: FakeV1) -> Any:
    async with AsyncTasksClient(
        oauth_token="secret-token-value",
        base_url=BASE,
        transport=httpx.MockTransport(fake.handler),
        sleep=ano_sleep,
        poll_policy=FAST_POLL,
    ) as c:
        yield c


def task(i: int, **extra: Any) -> dict[str, Any]:
    return {"pool_id": "42", "input_values": {"n": i}, "overlap": 1, **extra}


class SyncFacade:
    """Calls an :class:`AsyncTasksClient` as if it were sync, so one test serves both twins."""

    def __init__(self, client: AsyncTasksClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            async def go() -> Any:
                return await method(*args, **kwargs)

            return anyio.run(go)

        return call


@pytest.fixture(params=["sync", "async"])
def twin(request: pytest.FixtureRequest, fake: FakeV1) -> Iterator[Any]:
    """``TasksClient`` or ``AsyncTasksClient`` (driven synchronously) on the same fake."""
    kwargs: dict[str, Any] = {
        "oauth_token": "secret-token-value",
        "base_url": BASE,
        "transport": httpx.MockTransport(fake.handler),
        "poll_policy": FAST_POLL,
    }
    if request.param == "sync":
        with TasksClient(sleep=no_sleep, **kwargs) as client:
            yield client
        return
    aclient = AsyncTasksClient(sleep=ano_sleep, **kwargs)
    yield SyncFacade(aclient)
    anyio.run(aclient.aclose)
