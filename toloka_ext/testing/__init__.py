"""A stateful local Toloka for tests: what moto is for boto3.

In-process (no sockets)::

    from toloka_ext.testing import Sandbox
    sandbox = Sandbox()
    http = sandbox.http_client()
    http.get(f"{sandbox.v2_base_url}/projects", headers=sandbox.auth_headers("v2"))

or ``with mock_toloka() as sandbox: ...`` to route every httpx request for Toloka hosts
to it; as a real server: ``python -m toloka_ext.testing serve --port 8765`` or
``with SandboxServer() as server: ...``. The pytest plugin gives ``toloka_sandbox`` and
``toloka_sandbox_server`` fixtures.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._backend import Counters
    from ._clock import Clock, ManualClock, SystemClock
    from ._faults import Fault, FaultConfig
    from ._mock import current_sandbox, mock_toloka
    from ._sandbox import Sandbox, SandboxResponse, SandboxTransport
    from ._server import SandboxServer, serve_in_background

# Loaded on first use, so that importing the pytest plugin (a submodule) stays cheap.
_LAZY = {
    "Counters": "._backend",
    "Clock": "._clock",
    "ManualClock": "._clock",
    "SystemClock": "._clock",
    "Fault": "._faults",
    "FaultConfig": "._faults",
    "current_sandbox": "._mock",
    "mock_toloka": "._mock",
    "Sandbox": "._sandbox",
    "SandboxResponse": "._sandbox",
    "SandboxTransport": "._sandbox",
    "SandboxServer": "._server",
    "serve_in_background": "._server",
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
    "Sandbox",
    "SandboxResponse",
    "SandboxServer",
    "SandboxTransport",
    "SystemClock",
    "current_sandbox",
    "mock_toloka",
    "serve_in_background",
]
