"""The sandbox: configuration, the pure request handler and its httpx / ASGI adapters."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import random
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from ._backend import Backend, Counters
from ._clock import Clock, SystemClock, iso_v2
from ._core import Ctx, Reply
from ._errors import ApiError, error_body
from ._faults import Fault, FaultConfig, FaultState
from ._routes import PREFIXES, match
from ._v2 import render_export

if TYPE_CHECKING:
    from toloka_ext import PipelineClient, TasksClient

__all__ = ["Sandbox", "SandboxResponse", "SandboxTransport"]

Obj = dict[str, Any]
logger = logging.getLogger("toloka_ext.testing")

DEFAULT_API_BASE = "https://api.sandbox.test"
DEFAULT_STORAGE_BASE = "https://storage.sandbox.test"
DEFAULT_PIPELINES: Mapping[str, str] = {"pl-1": "Annotate items"}
DEFAULT_POOLS: Mapping[str, Mapping[str, Any]] = {
    "1": {"default_overlap": None},  # the pool of the contract's examples
    "pool-1": {"default_overlap": None},
    "pool-2": {"default_overlap": 3},
}


@dataclass
class SandboxResponse:
    """What :meth:`Sandbox.handle` answers.

    ``action`` is ``None`` (send the response), ``"reset"`` (drop the connection instead) or
    ``"kill"`` (stop the serving process); ``delay`` is injected latency in seconds.
    """

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    action: str | None = None
    delay: float = 0.0

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass
class _Fail(Exception):
    """A fault decided before the handler ran."""

    fault: Fault
    extra: dict[str, str] = field(default_factory=dict)


class Sandbox:
    """A stateful local Toloka (Pipeline API v2-beta + v1 tasks), in memory or on SQLite.

    Example:
        sandbox = Sandbox()
        with sandbox.http_client() as http:
            r = http.get(f"{sandbox.v2_base_url}/projects", headers=sandbox.auth_headers("v2"))
            assert r.json()["projects"][0]["id"] == "prj-1"

    Note: long-running objects (uploads, runs, exports, operations) move on when polled:
    each GET of the object is one step (``*_polls`` steps to finish); with ``step_seconds``
    each that many seconds of ``clock`` is one more step.
    """

    def __init__(
        self,
        *,
        api_key: str = "sandbox-key",
        oauth_token: str = "sandbox-token",
        seed: int = 0,
        clock: Clock | None = None,
        db_path: str | Path | None = None,
        faults: FaultConfig | None = None,
        api_base: str = DEFAULT_API_BASE,
        storage_base: str = DEFAULT_STORAGE_BASE,
        seed_pipelines: Mapping[str, str] | None = None,
        v1_pools: Mapping[str, Mapping[str, Any]] | None = None,
        upload_polls: int = 2,
        run_polls: int = 3,
        export_polls: int = 2,
        operation_polls: int = 2,
        step_seconds: float | None = None,
        labels: Sequence[str] = ("yes", "no"),
        label_field: str = "label",
        fail_items_where: Mapping[str, Any] | None = None,
        url_ttl: float = 3600.0,
        max_inline_bytes: int = 2 * 1024 * 1024,
        verified: bool = True,
        allow_kill: bool = False,
    ) -> None:
        self.api_key = api_key
        self.oauth_token = oauth_token
        self.seed = seed
        self.clock: Clock = clock or SystemClock()
        self.faults = faults or FaultConfig()
        self.api_base = api_base.rstrip("/")
        self.storage_base = storage_base.rstrip("/")
        if urlsplit(self.api_base)[:2] == urlsplit(self.storage_base)[:2]:
            raise ValueError("storage_base must be a different origin from api_base")
        self.seed_pipelines = dict(DEFAULT_PIPELINES if seed_pipelines is None else seed_pipelines)
        self.v1_pools = {k: dict(v) for k, v in (v1_pools or DEFAULT_POOLS).items()}
        self.upload_polls = upload_polls
        self.run_polls = run_polls
        self.export_polls = export_polls
        self.operation_polls = operation_polls
        self.step_seconds = step_seconds
        self.labels = tuple(labels)
        self.label_field = label_field
        self.fail_items_where = dict(fail_items_where or {})
        self.url_ttl = url_ttl
        self.max_inline_bytes = max_inline_bytes
        self.verified = verified
        self.allow_kill = allow_kill
        self.backend = Backend(db_path)
        self._init_runtime()
        self._seed()

    # -- lifecycle ----------------------------------------------------------------------
    def _init_runtime(self) -> None:
        self.rng = random.Random(self.seed)
        self._fault_state = FaultState(self.faults, self.seed)
        self._requests = 0

    def _seed(self) -> None:
        backend = self.backend
        with backend.lock:
            if backend.get("project", "prj-1") is None and not backend.seq["prj"]:
                backend.save(
                    "project",
                    {
                        "id": "prj-1",
                        "name": "Sandbox project",
                        "createdAt": iso_v2(self.clock.now()),
                    },
                )
                backend.seq["prj"] = 1
            for pid, name in self.seed_pipelines.items():
                if backend.get("pipeline", pid) is None:
                    backend.save(
                        "pipeline",
                        {
                            "id": pid,
                            "name": name,
                            "projectId": "prj-1",
                            "createdAt": iso_v2(self.clock.now()),
                            "_graph": {
                                "steps": [
                                    {
                                        "name": "annotate",
                                        "type": "label",
                                        "labels": list(self.labels),
                                    }
                                ]
                            },
                        },
                    )
                    prefix, _, num = pid.rpartition("-")
                    if num.isdigit():
                        backend.seq[prefix] = max(backend.seq[prefix], int(num))
            for pool_id, conf in self.v1_pools.items():
                if backend.get("pool", pool_id) is None:
                    backend.save(
                        "pool",
                        {
                            "id": pool_id,
                            "status": conf.get("status", "CLOSED"),
                            "default_overlap": conf.get("default_overlap"),
                            "baseline_solutions_allowed": conf.get(
                                "baseline_solutions_allowed", True
                            ),
                        },
                    )
            backend.flush()

    def reset(self) -> None:
        """Back to a fresh sandbox: seeded objects only, counters and faults restarted."""
        self.backend.reset()
        self._init_runtime()
        self._seed()

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public helpers -----------------------------------------------------------------
    @property
    def v2_base_url(self) -> str:
        return self.api_base + PREFIXES["v2"]

    @property
    def v1_base_url(self) -> str:
        return self.api_base + PREFIXES["v1"]

    @property
    def url(self) -> str:
        return self.api_base

    @property
    def counters(self) -> Counters:
        return self.backend.counters

    def auth_headers(self, api: str = "v2") -> dict[str, str]:
        """``Authorization`` for ``api`` (``"v2"``: ApiKey, ``"v1"``: OAuth)."""
        if api == "v1":
            return {"Authorization": f"OAuth {self.oauth_token}"}
        return {"Authorization": f"ApiKey {self.api_key}"}

    @property
    def transport(self) -> SandboxTransport:
        """An httpx transport (sync and async) answering from this sandbox."""
        return SandboxTransport(self)

    def mock_transport(self) -> httpx.MockTransport:
        """The same as :attr:`transport`, as an ``httpx.MockTransport``."""
        transport = SandboxTransport(self)
        return httpx.MockTransport(transport._respond)

    def http_client(self, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` bound to this sandbox (no auth headers: add them per API)."""
        return httpx.Client(transport=self.transport, **kwargs)

    def async_http_client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, **kwargs)

    def pipeline_client(self, **kwargs: Any) -> PipelineClient:
        """A :class:`toloka_ext.PipelineClient` bound to this sandbox (polls without sleeping)."""
        from toloka_ext import PipelineClient

        kwargs.setdefault("sleep", lambda _seconds: None)
        return PipelineClient(
            api_key=self.api_key, base_url=self.v2_base_url, transport=self.transport, **kwargs
        )

    def tasks_client(self, **kwargs: Any) -> TasksClient:
        """A :class:`toloka_ext.TasksClient` bound to this sandbox (polls without sleeping)."""
        from toloka_ext import TasksClient

        kwargs.setdefault("sleep", lambda _seconds: None)
        return TasksClient(
            oauth_token=self.oauth_token,
            base_url=self.v1_base_url,
            transport=self.transport,
            **kwargs,
        )

    @property
    def asgi_app(self) -> Any:
        """An ASGI application serving this sandbox (for uvicorn or an ASGI test client)."""
        return AsgiApp(self)

    def new_token(self) -> str:
        return secrets.token_urlsafe(24)

    def tasks(self, pool_id: str | None = None) -> list[Obj]:
        """The v1 tasks created, oldest first."""
        tasks = self.backend.all("task")
        return [dict(t) for t in tasks if pool_id is None or t["pool_id"] == pool_id]

    def pool(self, pool_id: str) -> Obj | None:
        pool = self.backend.get("pool", pool_id)
        return dict(pool) if pool else None

    def add_pool(
        self, pool_id: str, *, default_overlap: int | None = None, status: str = "CLOSED"
    ) -> None:
        with self.backend.lock:
            self.backend.save(
                "pool",
                {
                    "id": pool_id,
                    "status": status,
                    "default_overlap": default_overlap,
                    "baseline_solutions_allowed": True,
                },
            )
            self.backend.flush()

    def dataset_rows(self, dataset_id: str) -> list[Obj]:
        """A dataset's rows keyed by field name."""
        ds = self.backend.get("dataset", dataset_id)
        if ds is None:
            raise KeyError(dataset_id)
        names = {f["id"]: f["name"] for f in ds["_fields"]}
        return [{names[k]: v for k, v in item["values"].items()} for item in ds["_items"]]

    # -- rate limits used by handlers -----------------------------------------------------
    def take_tasks(self, count: int) -> None:
        now = self.clock.now()
        for name, limit, span, interval in (
            ("tasks_min", self.faults.tasks_per_minute, 60, "MIN"),
            ("tasks_day", self.faults.tasks_per_day, 86400, "DAY"),
        ):
            wait = self._fault_state.take(name, count, limit, span, now)
            if wait is not None:
                raise ApiError(
                    429,
                    f"Too many tasks: the limit is {limit} per {interval.lower()}",
                    code="TOO_MANY_REQUESTS",
                    payload={"interval": interval},
                    headers={"Retry-After": str(wait)},
                )

    # -- the pure core ------------------------------------------------------------------
    def handle(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | Sequence[tuple[str, str]],
        body: bytes = b"",
    ) -> SandboxResponse:
        """Answer one HTTP request (the core that the transport and the ASGI app share)."""
        items = headers.items() if isinstance(headers, Mapping) else headers
        hdrs = {k.lower(): v for k, v in items}
        parts = urlsplit(url)
        path = parts.path or "/"
        with self.backend.lock:
            try:
                if path.startswith("/_storage/"):
                    return self._storage(method.upper(), path, parse_qs(parts.query), hdrs, body)
                return self._api(
                    method.upper(), path, parse_qs(parts.query, keep_blank_values=True), hdrs, body
                )
            finally:
                self.backend.flush()

    def _request_id(self) -> str:
        self._requests += 1
        return f"req-{self.seed:x}-{self._requests:08d}"

    def _api(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> SandboxResponse:
        request_id = self._request_id()
        api = "v1" if path.startswith(PREFIXES["v1"] + "/") else "v2"
        prefix = PREFIXES[api]
        if not (path.startswith(prefix + "/")):
            return self._error(api, ApiError(404, f"No such path: {path}"), request_id)
        route, params, allowed = match(api, method, path[len(prefix) :])
        if route is None:
            if allowed:
                err = ApiError(
                    405,
                    f"Method {method} is not allowed here",
                    headers={"Allow": ", ".join(allowed)},
                )
                return self._error(api, err, request_id)
            return self._error(api, ApiError(404, f"No such path: {path}"), request_id)
        op = route.operation_id
        self.counters.received[op] += 1
        fault = self._fault_state.pick(op)
        delay = self.faults.latency
        if fault is not None and fault.action in ("reset_before", "kill_before"):
            return SandboxResponse(0, [], b"", action=self._action(fault), delay=delay)
        try:
            if fault is not None and fault.action == "status":
                raise self._fault_error(fault)
            self._check_auth(api, headers)
            wait = self._fault_state.take(
                "requests", 1, self.faults.requests_per_minute, 60, self.clock.now()
            )
            if wait is not None:
                raise ApiError(
                    429,
                    f"Too many requests: the limit is {self.faults.requests_per_minute} a minute",
                    payload={"interval": "MIN"},
                    headers={"Retry-After": str(wait)},
                )
            ctx = Ctx(
                sandbox=self,
                api=api,
                method=method,
                path=path,
                params={k: unquote(v) for k, v in params.items()},
                query=query,
                headers=headers,
                body=body,
                request_id=request_id,
            )
            reply = route.handler(ctx)
        except ApiError as err:
            response = self._error(api, err, request_id)
            response.delay = delay
            return response
        except Exception as exc:  # a sandbox bug: still answer with the documented body
            logger.exception("sandbox handler failed")
            bug = ApiError(500, f"Internal error: {type(exc).__name__}")
            return self._error(api, bug, request_id)
        self.counters.applied[op] += 1
        response = self._reply(reply, request_id)
        response.delay = delay
        if fault is not None and fault.action in ("reset_after", "kill_after"):
            response.action = self._action(fault)
        return response

    def _action(self, fault: Fault) -> str:
        return "kill" if fault.action.startswith("kill") and self.allow_kill else "reset"

    def _fault_error(self, fault: Fault) -> ApiError:
        if fault.status == 429:
            return ApiError(
                429,
                "Too many requests (injected)",
                payload={"interval": "MIN"},
                headers={"Retry-After": str(fault.retry_after)},
            )
        messages = {500: "Internal error (injected)", 503: "Service unavailable (injected)"}
        return ApiError(fault.status, messages.get(fault.status, "Injected fault"))

    def _check_auth(self, api: str, headers: Mapping[str, str]) -> None:
        value = headers.get("authorization")
        if not value:
            raise ApiError(401, "Missing Authorization header")
        scheme, _, secret = value.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "apikey" and secrets.compare_digest(secret.strip(), self.api_key):
            return
        if scheme == "oauth" and secrets.compare_digest(secret.strip(), self.oauth_token):
            if api == "v1":
                return
            raise ApiError(403, "OAuth tokens are not accepted here; use an API key")
        raise ApiError(401, "Invalid API key" if api == "v2" else "Invalid token")

    def _error(self, api: str, err: ApiError, request_id: str) -> SandboxResponse:
        import json

        body = json.dumps(error_body(api, err, request_id)).encode()
        headers = [("content-type", "application/json"), ("x-request-id", request_id)]
        headers += [(k.lower(), v) for k, v in err.headers.items()]
        return SandboxResponse(err.status, headers, body)

    def _reply(self, reply: Reply, request_id: str) -> SandboxResponse:
        body = reply.encode()
        headers = [("x-request-id", request_id)]
        if body or reply.raw is not None:
            headers.append(("content-type", reply.content_type))
        headers += [(k.lower(), v) for k, v in reply.headers.items()]
        return SandboxResponse(reply.status, headers, body)

    # -- presigned storage ----------------------------------------------------------------
    def _storage_error(self, status: int, code: str, message: str) -> SandboxResponse:
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        ).encode()
        return SandboxResponse(status, [("content-type", "application/xml")], body)

    def _storage(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> SandboxResponse:
        kind, _, oid = path[len("/_storage/") :].partition("/")
        op = {"uploads": "storagePut", "exports": "storageGet"}.get(kind, "storage")
        self.counters.received[op] += 1
        fault = self._fault_state.pick(op)
        if fault is not None and fault.action in ("reset_before", "kill_before"):
            return SandboxResponse(0, [], b"", action=self._action(fault))
        if fault is not None and fault.action == "status":
            return self._storage_error(fault.status, "InternalError", "Injected fault")
        if "authorization" in headers:
            return self._storage_error(
                403, "AccessDenied", "Presigned URLs take no Authorization header"
            )
        expected = {"uploads": "PUT", "exports": "GET"}.get(kind)
        if expected is None:
            return self._storage_error(404, "NoSuchKey", "The specified key does not exist")
        if method != expected:
            return self._storage_error(405, "MethodNotAllowed", f"Use {expected}")
        obj = self.backend.get("upload" if kind == "uploads" else "export", oid)
        token = (query.get("token") or [""])[-1]
        if obj is None or not obj.get("_token") or not secrets.compare_digest(token, obj["_token"]):
            return self._storage_error(403, "SignatureDoesNotMatch", "Bad or missing token")
        if self.clock.now() > obj["_expires"]:
            return self._storage_error(403, "AccessDenied", "Request has expired")
        if kind == "uploads":
            if obj["_used"] or obj["status"] != "pending":
                return self._storage_error(403, "AccessDenied", "This upload URL was already used")
            obj["_data"] = base64.b64encode(body).decode()
            obj["_used"] = True
            self.backend.save("upload", obj)
            response = SandboxResponse(200, [("etag", f'"{len(body):x}"')], b"")
        else:
            data, ctype = render_export(obj)
            response = SandboxResponse(200, [("content-type", ctype)], data)
        self.counters.applied[op] += 1
        if fault is not None and fault.action in ("reset_after", "kill_after"):
            response.action = self._action(fault)
        return response


class SandboxTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport (sync and async) over :meth:`Sandbox.handle`: no sockets, no threads.

    A dropped connection raises ``httpx.ReadError`` (the request may or may not have been
    applied, exactly as a client would see it).
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def _respond(self, request: httpx.Request) -> httpx.Response:
        result = self.sandbox.handle(
            request.method, str(request.url), list(request.headers.multi_items()), request.read()
        )
        return self._to_httpx(request, result)

    def _to_httpx(self, request: httpx.Request, result: SandboxResponse) -> httpx.Response:
        if result.action is not None:
            raise httpx.ReadError("Connection reset by peer", request=request)
        return httpx.Response(
            result.status, headers=result.headers, content=result.body, request=request
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        result = self.sandbox.handle(
            request.method, str(request.url), list(request.headers.multi_items()), request.read()
        )
        if result.delay:
            time.sleep(result.delay)
        return self._to_httpx(request, result)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        result = self.sandbox.handle(
            request.method, str(request.url), list(request.headers.multi_items()), body
        )
        if result.delay:
            await asyncio.sleep(result.delay)
        return self._to_httpx(request, result)


class AsgiApp:
    """A raw ASGI app over :meth:`Sandbox.handle` (what ``serve`` runs under uvicorn)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    async def __call__(self, scope: Obj, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self.sandbox.backend.flush()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        host = next((v for k, v in headers if k.lower() == "host"), "sandbox")
        raw_path = scope.get("raw_path") or scope["path"].encode()
        url = f"{scope.get('scheme', 'http')}://{host}{raw_path.decode('latin-1')}"
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        result = self.sandbox.handle(scope["method"], url, headers, b"".join(chunks))
        if result.delay:
            await asyncio.sleep(result.delay)
        if result.action == "kill":
            self.sandbox.backend.flush()
            os._exit(17)
        if result.action == "reset":
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is not None and hasattr(transport, "abort"):
                transport.abort()
                return
            # Fallback: start the answer and fail, so the server closes the connection.
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise ConnectionAbortedError("sandbox fault: connection dropped")
        await send(
            {
                "type": "http.response.start",
                "status": result.status,
                "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in result.headers],
            }
        )
        await send({"type": "http.response.body", "body": result.body})
