"""Serving a sandbox without sockets (an httpx transport) and as an ASGI application.

Both adapt any object with the :class:`Responder` shape (a ``Sandbox``), so they import
nothing of the sandbox itself.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import httpx

from ._faults import SimulatedCrash
from ._wire import SandboxResponse, Timeout

__all__ = ["AsgiApp", "Responder", "SandboxTransport"]

Obj = dict[str, Any]

# The exit code of a served process stopped by a kill_* fault.
KILL_EXIT_CODE = 17


class Responder(Protocol):
    """What the adapters need: the pure request handler and a way to persist state now."""

    def handle(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | Sequence[tuple[str, str]],
        body: bytes = b"",
        *,
        timeout: Timeout | None = None,
    ) -> SandboxResponse: ...

    def flush(self) -> None: ...

    def refuse_oversize(self, url: str, length: int) -> SandboxResponse | None: ...


def _timeout(request: httpx.Request) -> Timeout | None:
    value = request.extensions.get("timeout")
    return value if isinstance(value, Mapping) else None


class SandboxTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """An httpx transport (sync and async) over :meth:`Sandbox.handle`: no sockets, no threads.

    A dropped connection raises ``httpx.ReadError`` (the request may or may not have been
    applied, exactly as a client would see it); a ``crash_*`` fault raises
    :class:`~toloka_ext.testing.SimulatedCrash`.

    Example:
        with httpx.Client(transport=SandboxTransport(sandbox)) as http:
            http.get(f"{sandbox.v2_base_url}/me", headers=sandbox.auth_headers())
    """

    def __init__(self, sandbox: Responder) -> None:
        self.sandbox = sandbox

    def _answer(self, request: httpx.Request, body: bytes) -> SandboxResponse:
        refused = self.sandbox.refuse_oversize(str(request.url), len(body))
        if refused is not None:
            return refused
        return self.sandbox.handle(
            request.method,
            str(request.url),
            list(request.headers.multi_items()),
            body,
            timeout=_timeout(request),
        )

    def _respond(self, request: httpx.Request) -> httpx.Response:
        return self._to_httpx(request, self._answer(request, request.read()))

    def _to_httpx(self, request: httpx.Request, result: SandboxResponse) -> httpx.Response:
        if result.action == "crash":
            raise SimulatedCrash(f"{result.note}: {request.method} {request.url}")
        if result.action == "timeout":
            raise httpx.ReadTimeout("Timed out waiting for the answer", request=request)
        if result.action is not None:
            raise httpx.ReadError("Connection reset by peer", request=request)
        return httpx.Response(
            result.status, headers=result.headers, content=result.body, request=request
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        result = self._answer(request, request.read())
        if result.delay:
            time.sleep(result.delay)
        return self._to_httpx(request, result)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        result = self._answer(request, await request.aread())
        if result.delay:
            await asyncio.sleep(result.delay)
        return self._to_httpx(request, result)


class AsgiApp:
    """A raw ASGI app over :meth:`Sandbox.handle` (what ``serve`` runs under uvicorn).

    Served, a ``crash_*`` fault drops the connection like the matching ``reset_*``: the
    client process is not ours to stop.
    """

    def __init__(self, sandbox: Responder) -> None:
        self.sandbox = sandbox

    async def __call__(self, scope: Obj, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self.sandbox.flush()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        host = next((v for k, v in headers if k.lower() == "host"), "sandbox")
        raw_path = scope.get("raw_path") or scope["path"].encode()
        url = f"{scope.get('scheme', 'http')}://{host}{raw_path.decode('latin-1')}"
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")
        # An oversized body is refused from its declared length, before a byte of it is read;
        # without one (chunked), as soon as what arrived passes the limit.
        declared = next((v for k, v in headers if k.lower() == "content-length"), None)
        refused = None
        if declared is not None and declared.isdigit():
            refused = self.sandbox.refuse_oversize(url, int(declared))
        chunks: list[bytes] = []
        size = 0
        more = refused is None
        while more:
            message = await receive()
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
            refused = self.sandbox.refuse_oversize(url, size)
            if refused is not None:
                break
        if refused is not None:
            await self._send(send, refused, close=True)
            return
        result = self.sandbox.handle(scope["method"], url, headers, b"".join(chunks))
        if result.delay:
            await asyncio.sleep(result.delay)
        if result.action == "kill":
            self.sandbox.flush()
            os._exit(KILL_EXIT_CODE)
        if result.action is not None:  # "reset", "timeout" or "crash": a reset when served
            transport = getattr(getattr(send, "__self__", None), "transport", None)
            if transport is not None and hasattr(transport, "abort"):
                transport.abort()
                return
            # Fallback: start the answer and fail, so the server closes the connection.
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise ConnectionAbortedError("sandbox fault: connection dropped")
        await self._send(send, result)

    @staticmethod
    async def _send(send: Any, result: SandboxResponse, *, close: bool = False) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in result.headers]
        if close:  # the rest of the body is not read: the connection cannot be reused
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": result.status, "headers": headers})
        await send({"type": "http.response.body", "body": result.body})
