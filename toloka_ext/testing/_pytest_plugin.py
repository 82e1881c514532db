"""pytest fixtures for the sandbox: ``toloka_sandbox`` (in-process) and ``toloka_sandbox_server``.

Imports only the standard library and pytest at import time, so registering it through the
``pytest11`` entry point never breaks pytest for installs without the ``testing`` extra.
Options go through a marker: ``@pytest.mark.toloka_sandbox(seed=3, run_polls=1)``.

Example::

    def test_labels(toloka_sandbox):
        with toloka_sandbox.client() as client:
            result = client.process_new_data("pl-1", [{"url": "https://x/1.jpg"}])
        assert result.rows()[0]["label"] in ("yes", "no")
        assert len(toloka_sandbox.requests_for("startRun")) == 1
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "toloka_sandbox(**options): options for the toloka_sandbox / toloka_sandbox_server "
        "fixtures (Sandbox / SandboxServer keyword arguments)",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("toloka_sandbox")
    return dict(marker.kwargs) if marker is not None else {}


@pytest.fixture
def toloka_sandbox(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh in-process :class:`toloka_ext.testing.Sandbox`, recording its requests.

    It offers ``.client()`` / ``.async_client()`` (``toloka_ext.Toloka`` / ``AsyncToloka``
    bound to it), ``.http_client()``, ``.transport``, ``.v2_base_url``, ``.v1_base_url``,
    ``.api_key``, ``.counters`` and ``.requests`` / ``.requests_for(operation_id)``
    (``record_requests`` is on unless the marker turns it off).
    """
    from toloka_ext.testing import Sandbox

    options = _options(request)
    options.setdefault("record_requests", True)
    sandbox = Sandbox(**options)
    try:
        yield sandbox
    finally:
        sandbox.close()


@pytest.fixture
def toloka_sandbox_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A :class:`toloka_ext.testing.SandboxServer` process on a free port, stopped afterwards.

    It offers ``.client()`` / ``.async_client()`` over real HTTP, ``.url``,
    ``.v2_base_url``, ``.v1_base_url``, ``.auth_headers()``, ``.kill()`` and ``.start()``.
    """
    from toloka_ext.testing import SandboxServer

    with SandboxServer(**_options(request)) as server:
        yield server
