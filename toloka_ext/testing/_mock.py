"""``mock_toloka``: route every httpx request for Toloka hosts to an in-process sandbox."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar, cast

import httpx

from ._sandbox import Sandbox
from ._transport import SandboxTransport

__all__ = ["mock_toloka", "current_sandbox"]

F = TypeVar("F", bound=Callable[..., Any])

TOLOKA_HOSTS = frozenset(
    {
        "platform.toloka.ai",
        "toloka.dev",
        "sandbox.toloka.dev",
        "api.sandbox.test",
        "storage.sandbox.test",
    }
)

_lock = threading.Lock()
_depth = 0
_active: Sandbox | None = None
_originals: dict[str, Any] = {}


def current_sandbox() -> Sandbox:
    """The sandbox of the active ``mock_toloka`` (``RuntimeError`` outside one)."""
    if _active is None:
        raise RuntimeError("no mock_toloka() is active")
    return _active


def _patch() -> None:
    sync_orig = httpx.HTTPTransport.handle_request
    async_orig = httpx.AsyncHTTPTransport.handle_async_request
    _originals["sync"], _originals["async"] = sync_orig, async_orig

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        if request.url.host in TOLOKA_HOSTS and _active is not None:
            return SandboxTransport(_active).handle_request(request)
        return sync_orig(self, request)

    async def handle_async_request(
        self: httpx.AsyncHTTPTransport, request: httpx.Request
    ) -> httpx.Response:
        if request.url.host in TOLOKA_HOSTS and _active is not None:
            return await SandboxTransport(_active).handle_async_request(request)
        return await async_orig(self, request)

    httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[method-assign]


def _unpatch() -> None:
    httpx.HTTPTransport.handle_request = _originals.pop("sync")  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = _originals.pop("async")  # type: ignore[method-assign]


class mock_toloka:  # noqa: N801 - named like moto's mock_aws
    """Serve Toloka from a fresh in-process sandbox; a context manager and a decorator.

    Inside it, httpx requests to ``platform.toloka.ai``, ``toloka.dev`` and the sandbox
    hosts are answered by the sandbox (other hosts are untouched). Nesting is safe: inner
    uses share the outer sandbox, which is created on the outermost entry and closed on
    its exit.

    Example:
        with mock_toloka() as sandbox:
            r = httpx.get("https://platform.toloka.ai/api/v2-beta/projects",
                          headers=sandbox.auth_headers("v2"))
    """

    def __init__(self, **sandbox_options: Any) -> None:
        self._options = sandbox_options
        self._owned: Sandbox | None = None

    def start(self) -> Sandbox:
        global _depth, _active
        with _lock:
            if _depth == 0:
                self._owned = Sandbox(**self._options)
                _active = self._owned
                _patch()
            _depth += 1
            assert _active is not None
            return _active

    def stop(self) -> None:
        global _depth, _active
        with _lock:
            _depth -= 1
            if _depth == 0:
                _unpatch()
                if _active is not None:
                    _active.close()
                _active = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with mock_toloka(**self._options):
                    return await func(*args, **kwargs)

            return cast(F, async_wrapper)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with mock_toloka(**self._options):
                return func(*args, **kwargs)

        return cast(F, wrapper)
