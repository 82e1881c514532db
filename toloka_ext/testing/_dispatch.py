"""The request pipeline shared by every way of serving a sandbox.

route → record → fault → auth → rate limit → handler → rewrite → encode, with the state
(:class:`Backend`), the options (:class:`SandboxConfig`) and the runtime state
(:class:`Runtime`) passed in explicitly.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

from ._backend import Backend
from ._config import SandboxConfig
from ._core import Ctx, Reply, Request, query_problem
from ._errors import ApiError, error_body
from ._faults import Fault
from ._recording import RecordedRequest, record
from ._routes import PREFIXES, Route, match
from ._runtime import Held, Runtime
from ._schemas import QUERY
from ._storage import STORAGE_PREFIX, handle_storage, storage_operation
from ._wire import Incoming, SandboxResponse

__all__ = ["Recorder", "Rewrite", "dispatch", "too_large"]

logger = logging.getLogger("toloka_ext.testing")

Rewrite = Callable[[str, Any], Any]
Recorder = Callable[[RecordedRequest], None]

_INJECTED = {
    429: "Too many requests (injected)",
    500: "Internal error (injected)",
    503: "Service unavailable (injected)",
}


def dispatch(
    backend: Backend,
    config: SandboxConfig,
    runtime: Runtime,
    incoming: Incoming,
    *,
    rewrite: Rewrite | None = None,
    recorder: Recorder | None = None,
) -> SandboxResponse:
    """Answer one request (the caller holds the backend's lock and flushes afterwards)."""
    # Held requests that are due are applied first: the server got to them meanwhile.
    runtime.apply_held(config.clock.now())
    if incoming.path.startswith(STORAGE_PREFIX):
        if recorder is not None:
            recorder(record(incoming, storage_operation(incoming.path)))
        return handle_storage(backend, config, runtime, incoming)
    return _api(backend, config, runtime, incoming, rewrite, recorder)


def _api(
    backend: Backend,
    config: SandboxConfig,
    runtime: Runtime,
    incoming: Incoming,
    rewrite: Rewrite | None,
    recorder: Recorder | None,
) -> SandboxResponse:
    request_id = runtime.next_request_id()
    path, method = incoming.path, incoming.method
    api = "v1" if path.startswith(PREFIXES["v1"] + "/") else "v2"
    prefix = PREFIXES[api]
    route: Route | None = None
    params: dict[str, str] = {}
    allowed: list[str] = []
    if path.startswith(prefix + "/"):
        route, params, allowed = match(api, method, path[len(prefix) :])
    if recorder is not None:
        recorder(record(incoming, route.operation_id if route is not None else None))
    if route is None:
        if allowed:
            err = ApiError(
                405, f"Method {method} is not allowed here", headers={"Allow": ", ".join(allowed)}
            )
            return _error(api, err, request_id)
        return _error(api, ApiError(404, f"No such path: {path}"), request_id)
    op = route.operation_id
    backend.counters.received[op] += 1
    fault = runtime.pick_fault(op)
    delay = runtime.faults.latency
    if fault is not None and fault.action == "late_apply":
        _hold(backend, config, runtime, incoming, route, params, request_id, fault)
        return SandboxResponse(
            0, [], b"", action="timeout", delay=delay, note=f"late_apply on {op}"
        )
    if fault is not None and not fault.answers and not fault.applies_first:
        action = fault.drop(allow_kill=config.allow_kill)
        return SandboxResponse(
            0, [], b"", action=action, delay=delay, note=f"{fault.action} on {op}"
        )
    try:
        if fault is not None and fault.action == "status":
            response = _fault_answer(api, fault, request_id)
            response.delay = delay
            return response
        _check_auth(config, api, incoming.headers)
        runtime.take_request(config.clock.now())
        _check_query(op, incoming.query)
        request = Request(
            api=api,
            method=method,
            path=path,
            params={k: unquote(v) for k, v in params.items()},
            query=incoming.query,
            headers=incoming.headers,
            body=incoming.body,
            request_id=request_id,
        )
        reply = route.handler(Ctx(backend, config, runtime, request))
    except ApiError as err:
        response = _error(api, err, request_id)
        response.delay = delay
        # A refused request is answered too, and that answer can be lost like any other.
        return _drop_after(response, fault, config, op)
    except Exception as exc:  # a sandbox bug: still answer with the documented body
        logger.exception("sandbox handler failed")
        return _error(api, ApiError(500, f"Internal error: {type(exc).__name__}"), request_id)
    backend.counters.applied[op] += 1
    if fault is not None and fault.action == "status_after":
        response = _fault_answer(api, fault, request_id)
    else:
        if rewrite is not None and reply.raw is None and reply.body is not None:
            if 200 <= reply.status < 300:
                # A copy as it would arrive on the wire: the rewrite may change it in place
                # without touching the sandbox's state.
                body = rewrite(op, json.loads(json.dumps(reply.body)))
                reply = Reply(reply.status, body, None, reply.content_type, reply.headers)
        if config.success_status is not None and 200 <= reply.status < 300:
            reply = Reply(
                config.success_status, reply.body, reply.raw, reply.content_type, reply.headers
            )
        response = _reply(reply, request_id)
    response.delay = delay
    return _drop_after(response, fault, config, op)


def _hold(
    backend: Backend,
    config: SandboxConfig,
    runtime: Runtime,
    incoming: Incoming,
    route: Route,
    params: Mapping[str, str],
    request_id: str,
    fault: Fault,
) -> None:
    """Keep a request to apply ``fault.delay`` seconds of the sandbox clock from now."""
    api = route.api
    op = route.operation_id

    def apply() -> None:
        try:
            _check_auth(config, api, incoming.headers)
            _check_query(route.operation_id, incoming.query)
            request = Request(
                api=api,
                method=incoming.method,
                path=incoming.path,
                params={k: unquote(v) for k, v in params.items()},
                query=incoming.query,
                headers=incoming.headers,
                body=incoming.body,
                request_id=request_id,
            )
            route.handler(Ctx(backend, config, runtime, request))
        except ApiError:
            return  # refused when it finally ran: nothing applied, as on a live server
        except Exception:  # a sandbox bug: logged, the request left unapplied
            logger.exception("sandbox handler failed on a held request")
            return
        backend.counters.applied[op] += 1

    runtime.held.append(Held(config.clock.now() + fault.delay, op, apply))


def _drop_after(
    response: SandboxResponse, fault: Fault | None, config: SandboxConfig, op: str
) -> SandboxResponse:
    """Apply a ``*_after`` reset/kill/crash: the answer was produced, then lost."""
    if fault is not None and fault.applies_first and not fault.answers:
        response.action = fault.drop(allow_kill=config.allow_kill)
        response.note = f"{fault.action} on {op}"
    return response


def too_large(url: str, length: int, limit: int, runtime: Runtime) -> SandboxResponse | None:
    """The documented 413 for an API request body of ``length`` bytes over ``limit``."""
    path = urlsplit(url).path
    if length <= limit or path.startswith(STORAGE_PREFIX):
        return None
    api = "v1" if path.startswith(PREFIXES["v1"] + "/") else "v2"
    err = ApiError(413, f"The request body is over the {limit}-byte limit", code=None)
    return _error(api, err, runtime.next_request_id())


def _fault_answer(api: str, fault: Fault, request_id: str) -> SandboxResponse:
    headers = fault.answer_headers()
    raw = fault.raw_body()
    if raw is not None:
        # Not the API's answer (a gateway's page, a proxy's): no API headers either.
        out = [(k.lower(), v) for k, v in headers.items()]
        if raw and all(k != "content-type" for k, _ in out):
            out.insert(0, ("content-type", "text/html; charset=utf-8"))
        return SandboxResponse(fault.status, out, raw)
    payload = fault.payload
    if payload is None and fault.status == 429:
        payload = {"interval": "MIN"}
    err = ApiError(
        fault.status,
        fault.message or _INJECTED.get(fault.status, "Injected fault"),
        code=fault.code,
        payload=payload,
        headers=headers,
    )
    return _error(api, err, request_id)


def _challenge(api: str) -> dict[str, str]:
    """The ``WWW-Authenticate`` of a 401: the schemes each API accepts."""
    return {"WWW-Authenticate": "ApiKey" if api == "v2" else "OAuth, ApiKey"}


def _check_query(operation: str, query: Mapping[str, list[str]]) -> None:
    """Every typed query parameter of ``operation``, each of its values, against the
    contract's checks (``_schemas.QUERY``): a 400 before any handler runs."""
    for name, checks in QUERY.get(operation, {}).items():
        for raw in query.get(name, ()):
            problem = query_problem(raw, checks)
            if problem is not None:
                raise ApiError(400, f"{name}: {problem}", code="VALIDATION_ERROR")


def _check_auth(config: SandboxConfig, api: str, headers: Mapping[str, str]) -> None:
    value = headers.get("authorization")
    if not value:
        raise ApiError(401, "Missing Authorization header", headers=_challenge(api))
    scheme, _, secret = value.strip().partition(" ")
    scheme = scheme.lower()
    if scheme == "apikey" and secrets.compare_digest(secret.strip(), config.api_key):
        return
    if scheme == "oauth" and secrets.compare_digest(secret.strip(), config.oauth_token):
        if api == "v1":
            return
        raise ApiError(403, "OAuth tokens are not accepted here; use an API key")
    raise ApiError(
        401, "Invalid API key" if api == "v2" else "Invalid token", headers=_challenge(api)
    )


def _error(api: str, err: ApiError, request_id: str) -> SandboxResponse:
    body = json.dumps(error_body(api, err, request_id)).encode()
    headers = [("content-type", "application/json"), ("x-request-id", request_id)]
    headers += [(k.lower(), v) for k, v in err.headers.items()]
    return SandboxResponse(err.status, headers, body)


def _reply(reply: Reply, request_id: str) -> SandboxResponse:
    body = reply.encode()
    headers = [("x-request-id", request_id)]
    if body or reply.raw is not None:
        headers.append(("content-type", reply.content_type))
    headers += [(k.lower(), v) for k, v in reply.headers.items()]
    return SandboxResponse(reply.status, headers, body)
