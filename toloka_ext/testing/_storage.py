"""Presigned object storage: one-time upload URLs (PUT) and export downloads (GET).

It answers like S3-style storage: XML errors, no API error bodies, and a 403 to any request
that carries an ``Authorization`` header (a presigned URL is its own credential).
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from ._backend import Backend
from ._config import SandboxConfig
from ._faults import Fault
from ._runtime import Runtime
from ._v2 import render_export
from ._wire import Incoming, SandboxResponse

__all__ = ["STORAGE_PREFIX", "handle_storage", "storage_operation"]

STORAGE_PREFIX = "/_storage/"
_KINDS = {"uploads": ("storagePut", "PUT", "upload"), "exports": ("storageGet", "GET", "export")}


def storage_operation(path: str) -> str:
    """The pseudo operationId of a storage path (``storagePut``, ``storageGet``, ``storage``)."""
    kind = path[len(STORAGE_PREFIX) :].partition("/")[0]
    return _KINDS[kind][0] if kind in _KINDS else "storage"


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> SandboxResponse:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()
    extra = [(k.lower(), v) for k, v in (headers or {}).items()]
    return SandboxResponse(status, [("content-type", "application/xml"), *extra], body)


def _fault_answer(fault: Fault) -> SandboxResponse:
    raw = fault.raw_body()
    headers = fault.answer_headers()
    if raw is None:
        return _error(
            fault.status, fault.code or "InternalError", fault.message or "Injected fault", headers
        )
    out = [(k.lower(), v) for k, v in headers.items()]
    if raw and not any(k == "content-type" for k, _ in out):
        out.insert(0, ("content-type", "text/html; charset=utf-8"))
    return SandboxResponse(fault.status, out, raw)


def _target(
    backend: Backend, config: SandboxConfig, incoming: Incoming
) -> tuple[dict[str, Any] | None, SandboxResponse | None]:
    """The upload or export the request may use, or the storage's refusal."""
    kind, _, oid = incoming.path[len(STORAGE_PREFIX) :].partition("/")
    if "authorization" in incoming.headers:
        return None, _error(403, "AccessDenied", "Presigned URLs take no Authorization header")
    if kind not in _KINDS:
        return None, _error(404, "NoSuchKey", "The specified key does not exist")
    _, method, table = _KINDS[kind]
    if incoming.method != method:
        return None, _error(405, "MethodNotAllowed", f"Use {method}")
    obj = backend.get(table, oid)
    token = (incoming.query.get("token") or [""])[-1]
    if obj is None or not obj.get("_token") or not secrets.compare_digest(token, obj["_token"]):
        return None, _error(403, "SignatureDoesNotMatch", "Bad or missing token")
    if config.clock.now() > obj["_expires"]:
        return None, _error(403, "AccessDenied", "Request has expired")
    if kind == "uploads" and (obj["_used"] or obj["status"] != "pending"):
        return None, _error(403, "AccessDenied", "This upload URL was already used")
    return obj, None


def handle_storage(
    backend: Backend, config: SandboxConfig, runtime: Runtime, incoming: Incoming
) -> SandboxResponse:
    op = storage_operation(incoming.path)
    backend.counters.received[op] += 1
    fault = runtime.pick_fault(op)
    if fault is not None and not fault.answers and not fault.applies_first:
        if op == "storagePut":
            # The storage consumed the one-time token when the request started; the bytes
            # never arrived. A client must notice and ask for a new upload URL.
            upload, refused = _target(backend, config, incoming)
            if refused is None and upload is not None:
                upload["_used"] = True
                backend.save("upload", upload)
        action = fault.drop(allow_kill=config.allow_kill)
        return SandboxResponse(0, [], b"", action=action, note=f"{fault.action} on {op}")
    if fault is not None and fault.action == "status":
        return _fault_answer(fault)
    obj, refused = _target(backend, config, incoming)
    if refused is not None:
        return refused
    assert obj is not None
    if op == "storagePut":
        obj["_data"] = base64.b64encode(incoming.body).decode()
        obj["_used"] = True
        backend.save("upload", obj)
        response = SandboxResponse(200, [("etag", f'"{len(incoming.body):x}"')], b"")
    else:
        data, ctype = render_export(obj)
        response = SandboxResponse(200, [("content-type", ctype)], data)
    backend.counters.applied[op] += 1
    if fault is not None and fault.action == "status_after":
        return _fault_answer(fault)
    if fault is not None and fault.applies_first:
        response.action = fault.drop(allow_kill=config.allow_kill)
        response.note = f"{fault.action} on {op}"
    return response
