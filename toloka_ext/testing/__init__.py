"""A stateful local Toloka for tests: what moto is for boto3.

In-process (no sockets)::

    from toloka_ext.testing import Sandbox
    sandbox = Sandbox()
    with sandbox.client() as client:            # a toloka_ext.Toloka bound to the sandbox
        result = client.process_new_data("pl-1", [{"url": "https://x/1.jpg"}])

or ``sandbox.http_client()`` for raw HTTP, or ``with mock_toloka() as sandbox: ...`` to
route every httpx request for Toloka hosts to it; as a real server:
``python -m toloka_ext.testing serve --port 0`` or ``with SandboxServer() as server: ...``.
The pytest plugin gives ``toloka_sandbox`` and ``toloka_sandbox_server`` fixtures.

What a test can script (see each docstring): faults with any status, body or headers,
lost answers and client crashes before or after a request was applied
(:class:`Fault`, :class:`SimulatedCrash`), rewritten answers for drift (``rewrite=``),
recorded requests (``record_requests=True``), small pages (``max_page_size=``), v1 pool
input specs (:meth:`Sandbox.add_pool`), rate limits and a manual clock.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._backend import Counters
    from ._clock import Clock, ManualClock, SystemClock
    from ._config import SandboxConfig
    from ._faults import Fault, FaultConfig, SimulatedCrash
    from ._mock import current_sandbox, mock_toloka
    from ._recording import RecordedHeaders, RecordedRequest
    from ._sandbox import Sandbox
    from ._server import SandboxServer, serve_in_background
    from ._transport import SandboxTransport
    from ._wire import SandboxResponse

# Loaded on first use, so that importing the pytest plugin (a submodule) stays cheap.
_LAZY = {
    "Counters": "._backend",
    "Clock": "._clock",
    "ManualClock": "._clock",
    "SystemClock": "._clock",
    "SandboxConfig": "._config",
    "Fault": "._faults",
    "FaultConfig": "._faults",
    "SimulatedCrash": "._faults",
    "current_sandbox": "._mock",
    "mock_toloka": "._mock",
    "RecordedHeaders": "._recording",
    "RecordedRequest": "._recording",
    "Sandbox": "._sandbox",
    "SandboxServer": "._server",
    "serve_in_background": "._server",
    "SandboxTransport": "._transport",
    "SandboxResponse": "._wire",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Clock",
    "Counters",
    "Fault",
    "FaultConfig",
    "ManualClock",
    "RecordedHeaders",
    "RecordedRequest",
    "Sandbox",
    "SandboxConfig",
    "SandboxResponse",
    "SandboxServer",
    "SandboxTransport",
    "SimulatedCrash",
    "SystemClock",
    "current_sandbox",
    "mock_toloka",
    "serve_in_background",
]
