"""A minimal API v1 task server for ``make bench``: raw ASGI + orjson, nothing else.

    python bench/_v1_server.py [--operation-polls 1]

Binds 127.0.0.1 on a free port, prints ``PORT <n>`` on stdout and serves (uvicorn, one
process, no access log) until killed. It exists so that a benchmark sees the *client*: per
task it parses the request with orjson, stamps an id and echoes the task back, about a
microsecond of CPU, far below any client measured, where the package's own sandbox
(``toloka_ext.testing``) validates every task against the contract and costs more than the
clients do.

What it answers (the requests the measured clients make, shaped as Toloka answers them):

* ``POST /api/v1/tasks``: a list (or one task) created at once. Sync mode answers 201
  ``{"items": {"<position>": task}}`` (plus ``"validation_errors": {}`` with
  ``skip_invalid_items``). With ``async_mode=true`` it answers a ``TASK.BATCH_CREATE``
  operation, ``PENDING``; a second request with the same ``operation_id`` is a 409
  ``OPERATION_ALREADY_EXISTS``. The operation then runs as Toloka runs one, in the
  background once the answer is sent: a slice of ``OPERATION_SLICE`` tasks at a time, with
  requests served between slices. (Until 0.2.0's bench it ran inside the request, which
  charged the operation's work to the client's wait and hid every overlap a client makes.)
* ``GET /api/v1/operations/{id}``: the operation, ``SUCCESS`` once it has run and from its
  ``--operation-polls``-th read on (``RUNNING`` before);
  ``GET /api/v1/operations/{id}/log``: one ``TASK_CREATE`` item a task, its ``input``
  echoing the task as sent (toloka-kit's ``__item_idx`` included, which toloka-kit relies on
  Toloka to do; ``--no-echo-item-idx`` leaves it out, as the sandbox does, and toloka-kit
  then skips reading the created tasks back) and ``output.task_id``.
* ``GET /api/v1/tasks?pool_id=...``: keyset pages (``sort=id`` or ``-id``, ``limit``
  (default 50), ``id_gt``/``id_gte``/``id_lt``/``id_lte``). Only two reads are served: the
  newest task of a pool (``sort=-id&limit=1``, which ``create_tasks`` makes first) and the
  tasks that async operations created (toloka-kit reads them back after each operation).
  Sync-mode tasks are not kept: the server's memory stays flat at a million tasks.
* ``GET /_bench/stats``: ``{"created": <tasks created>, "requests": {route: count}}``,
  which the harness checks against the count it asked for.

No validation, no auth check, no rate limit, no faults: none of that is what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import orjson

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PREFIX = "/api/v1"
OPERATION_SLICE = 500  # tasks an async operation creates between two requests served


# Task ids: the task's number, fixed-width hex, so that string order is creation order.


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]  # v1's format: no offset


class State:
    def __init__(self, operation_polls: int, echo_item_idx: bool) -> None:
        self.operation_polls = operation_polls
        self.echo_item_idx = echo_item_idx
        self.created = 0
        self.requests: Counter[str] = Counter()
        self.newest: dict[str, dict[str, Any]] = {}  # pool -> its newest task
        self.kept: dict[int, dict[str, Any]] = {}  # number -> task, async mode only
        self.operations: dict[str, dict[str, Any]] = {}

    def create(self, tasks: list[Any], *, keep: bool) -> list[dict[str, Any]]:
        """The tasks with an id and a time; one comprehension (the server's cost per task
        is what keeps it out of the client's figures)."""
        now = _now()
        first = self.created + 1
        self.created += len(tasks)
        created = [{**t, "id": f"{n:016x}", "created": now} for n, t in enumerate(tasks, first)]
        if keep:
            for body in created:
                body.pop("__item_idx", None)
            self.kept.update(enumerate(created, first))
        for body in created:
            self.newest[body["pool_id"]] = body
        return created


def _reply(status: int, body: object) -> tuple[int, bytes]:
    return status, orjson.dumps(body)


def _error(status: int, code: str, message: str) -> tuple[int, bytes]:
    return _reply(status, {"code": code, "message": message})


_KEYS: list[str] = []


def _keys(n: int) -> list[str]:
    """``"0"`` ... ``str(n - 1)``, the positions an answer's ``items`` are keyed by (made once)."""
    _KEYS.extend(str(i) for i in range(len(_KEYS), n))
    return _KEYS[:n]


def create_tasks(state: State, query: dict[str, str], body: bytes) -> tuple[int, bytes]:
    data = orjson.loads(body)
    single = isinstance(data, dict)
    tasks: list[Any] = [data] if single else data
    if query.get("async_mode") == "true":
        op_id = query.get("operation_id") or str(uuid.uuid4())
        if op_id in state.operations:
            return _error(409, "OPERATION_ALREADY_EXISTS", f"Operation {op_id} already exists")
        op = {
            "id": op_id,
            "type": "TASK.BATCH_CREATE",
            "status": "PENDING",
            "submitted": _now(),
            "parameters": {
                k: query.get(k) == "true"
                for k in ("allow_defaults", "open_pool", "skip_invalid_items")
            },
        }
        entry: dict[str, Any] = {"op": op, "polls": 0, "log": None}
        state.operations[op_id] = entry
        # The operation runs after the answer is sent, as Toloka runs it: in the server's
        # background, not in the client's request (call_soon: once this request is answered).
        asyncio.get_running_loop().call_soon(run_operation, state, entry, tasks)
        return _reply(201, op)
    created = state.create(tasks, keep=False)
    if single:
        return _reply(201, created[0])
    answer: dict[str, Any] = {"items": dict(zip(_keys(len(created)), created, strict=True))}
    if query.get("skip_invalid_items") == "true":
        answer["validation_errors"] = {}
    return _reply(201, answer)


def get_operation(state: State, op_id: str) -> tuple[int, bytes]:
    entry = state.operations.get(op_id)
    if entry is None:
        return _error(404, "DOES_NOT_EXIST", f"Operation {op_id} does not exist")
    op = entry["op"]
    if op["status"] not in ("SUCCESS", "FAIL"):
        entry["polls"] += 1
        op.setdefault("started", _now())
        if entry["log"] is not None and entry["polls"] >= state.operation_polls:
            n = entry["count"]
            op.update(status="SUCCESS", finished=_now(), progress=100)
            op["details"] = {
                "total_count": n,
                "valid_count": n,
                "not_valid_count": 0,
                "success_count": n,
                "failed_count": 0,
            }
        else:
            op.update(status="RUNNING", progress=50)
    return _reply(200, op)


def get_operation_log(state: State, op_id: str) -> tuple[int, bytes]:
    entry = state.operations.get(op_id)
    if entry is None:
        return _error(404, "DOES_NOT_EXIST", f"Operation {op_id} does not exist")
    if entry["op"]["status"] != "SUCCESS":
        return _reply(200, [])
    return 200, entry["log"]


def run_operation(state: State, entry: dict[str, Any], sent: list[Any], start: int = 0) -> None:
    """Create a slice of the operation's tasks and log them, then let the server answer
    what came in meanwhile before the next slice (a client's next request never waits for
    a whole operation). The log is kept as bytes, as Toloka keeps it."""
    part = sent[start : start + OPERATION_SLICE]
    created = state.create(part, keep=True)
    if not state.echo_item_idx:
        part = [{k: v for k, v in task.items() if k != "__item_idx"} for task in part]
    log = [
        {"type": "TASK_CREATE", "success": True, "input": task, "output": {"task_id": t["id"]}}
        for task, t in zip(part, created, strict=True)
    ]
    entry.setdefault("parts", []).append(orjson.dumps(log)[1:-1])
    if start + OPERATION_SLICE < len(sent):
        asyncio.get_running_loop().call_soon(
            run_operation, state, entry, sent, start + OPERATION_SLICE
        )
        return
    entry["count"] = len(sent)
    entry["log"] = b"[" + b",".join(p for p in entry.pop("parts") if p) + b"]"


def list_tasks(state: State, query: dict[str, str]) -> tuple[int, bytes]:
    pool = query.get("pool_id")
    if not pool:
        return _error(400, "VALIDATION_ERROR", "pool_id: Value must be present")
    limit = int(query.get("limit", "50"))
    if query.get("sort") == "-id" and not any(k.startswith("id_") for k in query):
        newest = state.newest.get(pool)
        items = [newest] if newest is not None and limit else []
        return _reply(200, {"items": items, "has_more": False})
    low, high = 1, state.created
    for key, shift in (("id_gt", 1), ("id_gte", 0)):
        if key in query:
            low = max(low, int(query[key], 16) + shift)
    for key, shift in (("id_lt", -1), ("id_lte", 0)):
        if key in query:
            high = min(high, int(query[key], 16) + shift)
    numbers = range(low, high + 1)
    if query.get("sort") == "-id":
        numbers = numbers[::-1]
    items: list[dict[str, Any]] = []
    has_more = False
    for number in numbers:
        task = state.kept.get(number)
        if task is None or task["pool_id"] != pool:
            continue
        if len(items) == limit:
            has_more = True
            break
        items.append(task)
    return _reply(200, {"items": items, "has_more": has_more})


def route(
    state: State, method: str, path: str, query: dict[str, str], body: bytes
) -> tuple[str, tuple[int, bytes]]:
    if path.startswith(PREFIX):
        rest = path[len(PREFIX) :].rstrip("/")
        if rest == "/tasks":
            if method == "POST":
                return "createTasks", create_tasks(state, query, body)
            if method == "GET":
                return "listTasks", list_tasks(state, query)
        parts = rest.split("/")
        if method == "GET" and len(parts) in (3, 4) and parts[1] == "operations":
            if len(parts) == 3:
                return "getOperation", get_operation(state, parts[2])
            if parts[3] == "log":
                return "getOperationLog", get_operation_log(state, parts[2])
    if method == "GET" and path == "/_bench/stats":
        stats = {"created": state.created, "requests": dict(state.requests)}
        return "stats", _reply(200, stats)
    return "unknown", _error(404, "NOT_FOUND", f"{method} {path}")


def make_app(state: State) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        query = {k: v[-1] for k, v in parse_qs(scope["query_string"].decode()).items()}
        name, (status, payload) = route(
            state, scope["method"], scope["path"], query, b"".join(chunks)
        )
        state.requests[name] += 1
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(payload)),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operation-polls", type=int, default=1)
    parser.add_argument("--no-echo-item-idx", dest="echo_item_idx", action="store_false")
    args = parser.parse_args()
    import gc

    import uvicorn

    # The server keeps every task an async operation created (toloka-kit reads them back):
    # with the collector on, its full collections walked them again and again, a third of
    # the server's CPU in async mode. A run lives for seconds and makes no cycles worth it.
    gc.disable()

    # IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets whose proto says
    # TCP, and without it a header write followed by a body write waits ~40 ms for an ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # before PORT is printed: a bound socket that is not listening refuses
    config = uvicorn.Config(
        make_app(State(args.operation_polls, args.echo_item_idx)),
        log_level="warning",
        access_log=False,
        lifespan="off",
        http="h11",
        loop="asyncio",
    )
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])
    sys.exit(0)


if __name__ == "__main__":
    main()
