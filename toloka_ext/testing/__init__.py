"""A stateful local Toloka for tests: what moto is for boto3.

In-process (no sockets)::

    from toloka_ext.testing import Sandbox
    sandbox = Sandbox()
    with sandbox.client() as client:            # a toloka_ext.Toloka bound to the sandbox
        result = client.process_new_data("pl-1", [{"url": "https://x/1.jpg"}])

``sandbox.async_client()`` gives the ``AsyncToloka`` twin; both are configured (key, base
URLs, transport) and run on virtual time: their waits between polls move
``sandbox.client_time`` instead of sleeping. ``sandbox.http_client()`` gives raw HTTP.

What every sandbox holds from the start (``Sandbox.reset()`` goes back to it):

* API key ``"sandbox-key"`` (``ApiKey``, both APIs) and OAuth token ``"sandbox-token"``
  (v1 only); change them with ``Sandbox(api_key=..., oauth_token=...)``;
* v2 project ``prj-1`` ("Sandbox project") and pipeline ``pl-1`` ("Annotate items", in
  ``prj-1``), which labels each item ``yes`` or ``no`` in the field ``label``;
* v1 pools ``1`` and ``pool-1`` (no default overlap: tasks need ``overlap``) and
  ``pool-2`` (default overlap 3), all closed and without an input spec.

More with :meth:`Sandbox.add_project`, :meth:`Sandbox.add_pipeline` and
:meth:`Sandbox.add_pool` (which takes an ``input_spec`` the tasks are checked against);
options (polls to finish, page sizes, labels...) with ``Sandbox(...)`` or later
:meth:`Sandbox.configure`. Example::

    sandbox.add_pool("42", default_overlap=1, input_spec={"image": "string"})
    project = sandbox.add_project("Moderation")
    sandbox.add_pipeline("pl-7", name="Moderate", project_id=project)
    sandbox.configure(run_polls=1, max_page_size=2)

Code that builds its own clients: ``with mock_toloka() as sandbox: ...`` routes every httpx
request for Toloka hosts to a sandbox; such clients must use its key
(``Toloka(api_key="sandbox-key")``). As a real server:
``python -m toloka_ext.testing serve --port 0`` (its banner names the URLs, the key and the
seeded objects; needs ``pip install 'toloka-ext[testing]'``) or
``with SandboxServer() as server: ...``. The pytest plugin gives the ``toloka_sandbox`` and
``toloka_sandbox_server`` fixtures.

What a test can script (see each docstring): faults with any status, body or headers,
lost answers and client crashes before or after a request was applied
(:class:`Fault`, :class:`SimulatedCrash`), rewritten answers for drift (``rewrite=``),
recorded requests (``record_requests=True``), small pages (``max_page_size=``), v1 pool
input specs (:meth:`Sandbox.add_pool`), rate limits and a manual clock.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._backend import Counters
    from ._clock import Clock, ManualClock, SystemClock, VirtualTime
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
    "VirtualTime": "._clock",
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
    "VirtualTime",
    "current_sandbox",
    "mock_toloka",
    "serve_in_background",
]
