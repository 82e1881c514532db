"""pytest fixtures for the sandbox: ``toloka_sandbox`` (in-process) and ``toloka_sandbox_server``.

Imports only the standard library and pytest at import time, so registering it through the
``pytest11`` entry point never breaks pytest for installs without the ``testing`` extra.
Options go through a marker: ``@pytest.mark.toloka_sandbox(seed=3, run_polls=1)``.

Seeded objects, the clients and the setup methods are listed in each fixture's docstring.

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

    Clients, already configured (key, base URLs, in-process transport):
    ``.client()`` (``toloka_ext.Toloka``) and ``.async_client()`` (``AsyncToloka``), both
    on the sandbox's virtual time: waits between polls and ``Retry-After`` waits move
    ``.client_time`` (and a ``ManualClock`` given as ``clock=``) instead of sleeping.
    Also ``.http_client()``, ``.transport``, ``.v2_base_url``, ``.v1_base_url``,
    ``.counters`` and ``.requests`` / ``.requests_for(operation_id)`` (``record_requests``
    is on unless the marker turns it off).

    Seeded: API key ``"sandbox-key"`` (``.api_key``; OAuth token ``"sandbox-token"`` for
    v1); v2 project ``prj-1``; pipeline ``pl-1`` (labels items ``yes``/``no`` in
    ``label``); v1 pools ``1`` and ``pool-1`` (tasks need ``overlap``) and ``pool-2``
    (default overlap 3). Set up more with ``.add_project(name)``,
    ``.add_pipeline(pipeline_id, name=, project_id=)``,
    ``.add_pool(pool_id, default_overlap=, status=, input_spec=)``, and change options with
    ``.configure(run_polls=1, ...)`` or the marker.

    Example::

        @pytest.mark.toloka_sandbox(run_polls=1)
        def test_tasks(toloka_sandbox):
            toloka_sandbox.add_pool("42", input_spec={"url": "string"})
            with toloka_sandbox.client() as client:
                result = client.tasks.create_tasks(
                    [{"pool_id": "42", "input_values": {"url": "a"}, "overlap": 1}]
                )
            assert result.ok and len(toloka_sandbox.tasks("42")) == 1
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

    It offers ``.client()`` / ``.async_client()`` over real HTTP, configured and on virtual
    time like ``toloka_sandbox``'s (``.client_time``), ``.url``, ``.v2_base_url``,
    ``.v1_base_url``, ``.api_key``, ``.auth_headers()``, ``.banner``, ``.kill()`` and
    ``.start()``. Seeded like ``toloka_sandbox`` (key ``"sandbox-key"``, project ``prj-1``,
    pipeline ``pl-1``, pools ``1``, ``pool-1``, ``pool-2``); marker options are passed to
    the served sandbox (JSON values only). Needs ``pip install 'toloka-ext[testing]'``.
    """
    from toloka_ext.testing import SandboxServer

    with SandboxServer(**_options(request)) as server:
        yield server
