"""Class 3: configuration is never drift.

A base URL that does not lead to the API (the issue's sandbox root without
``/api/v2-beta``, which answers JSON 404 everywhere; the other API's base; a path Prism does
not serve) is a ``ConfigurationError`` naming ``base_url`` / ``v1_base_url``, for every call,
reads and creates alike, and nothing is created. A right base whose one endpoint moved is
still drift. (The command line's ``--base-url`` and exit 2: tests/cli/test_base_url.py.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from scripts.mockserver import PrismServer
from toloka_ext import ApiDriftError, ConfigurationError, Toloka
from toloka_ext.testing import Sandbox

Call = Callable[[Toloka, Path], object]

V2_CALLS: dict[str, Call] = {
    "me": lambda c, _: c.me(),
    "projects.list": lambda c, _: list(c.projects.list()),
    "projects.create": lambda c, _: c.projects.create("never"),
    "datasets.list": lambda c, _: list(c.datasets.list("prj-1")),
    "datasets.create": lambda c, _: c.datasets.create("prj-1", name="never"),
    "datasets.add_items": lambda c, _: c.datasets.add_items("ds-1", [{"a": 1}]),
    "datasets.list_fields": lambda c, _: c.datasets.list_fields("ds-1"),
    "pipelines.list": lambda c, _: list(c.pipelines.list("prj-1")),
    "pipelines.export_to_file": lambda c, d: c.pipelines.export_to_file("pl-1", d / "x"),
    "runs.start": lambda c, _: c.runs.start("pl-1"),
    "runs.get": lambda c, _: c.runs.get("run-1"),
    "runs.watch": lambda c, _: c.runs.watch("run-1"),
    "uploads.get": lambda c, _: c.uploads.get("upl-1"),
    "exports.get": lambda c, _: c.exports.get("exp-1"),
    "process_new_data": lambda c, _: c.process_new_data("pl-1", [{"a": 1}]),
}
V1_CALLS: dict[str, Call] = {
    "operations.get": lambda c, _: c.operations.get("op-1"),
    "operations.list": lambda c, _: list(c.operations.list()),
    "tasks.get": lambda c, _: c.tasks.get("task-1"),
    "tasks.list": lambda c, _: list(c.tasks.list(pool_id="pool-1")),
    "tasks.create_task": lambda c, _: c.tasks.create_task(
        {"pool_id": "pool-2", "input_values": {"n": 1}}, allow_defaults=True
    ),
}


def _wrong_base(sandbox: Sandbox, api: str, kind: str) -> str:
    root = sandbox.v2_base_url.removesuffix("/api/v2-beta")
    if kind == "root":
        return root  # the case: /api/v2-beta (or /api/v1) left out
    if kind == "other-api":
        return sandbox.v1_base_url if api == "v2" else sandbox.v2_base_url
    return f"{root}/api/v2beta" if api == "v2" else f"{root}/api/vl"  # a typo


@pytest.mark.parametrize("wrong", ["root", "other-api", "typo"])
@pytest.mark.parametrize("name", list(V2_CALLS))
def test_a_base_url_that_is_not_the_pipeline_api(name: str, wrong: str, tmp_path: Path) -> None:
    sandbox = Sandbox(record_requests=True)
    base = _wrong_base(sandbox, "v2", wrong)
    with sandbox.client(base_url=base) as client, pytest.raises(ConfigurationError) as info:
        V2_CALLS[name](client, tmp_path)
    assert not isinstance(info.value, ApiDriftError)
    assert info.value.setting == "base_url"
    assert f"base_url {base!r}" in str(info.value) and "TOLOKA_BASE_URL" in str(info.value)
    assert all(r.operation is None for r in sandbox.requests)  # nothing reached the API
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("wrong", ["root", "other-api", "typo"])
@pytest.mark.parametrize("name", list(V1_CALLS))
def test_a_v1_base_url_that_is_not_api_v1(name: str, wrong: str, tmp_path: Path) -> None:
    sandbox = Sandbox(record_requests=True)
    base = _wrong_base(sandbox, "v1", wrong)
    with sandbox.client(v1_base_url=base) as client, pytest.raises(ConfigurationError) as info:
        V1_CALLS[name](client, tmp_path)
    assert info.value.setting == "v1_base_url"
    assert f"v1_base_url {base!r}" in str(info.value)
    assert all(r.operation is None for r in sandbox.requests)


def test_the_right_base_with_one_endpoint_gone_is_still_drift() -> None:
    """GET /me answers under the base: the base is right, the 404 of a route is drift."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/me"):
            return httpx.Response(200, json={"id": "acc-1"})
        return httpx.Response(404, json={"code": "NOT_FOUND", "message": "No such path"})

    with (
        Toloka(
            api_key="k", base_url="https://api.test/v2", transport=httpx.MockTransport(handler)
        ) as client,
        pytest.raises(ApiDriftError) as info,
    ):
        list(client.projects.list())
    assert (info.value.operation, info.value.field) == ("listProjects", "<endpoint>")


@pytest.mark.parametrize(
    ("status", "body", "verdict"),
    [
        (401, {"code": "UNAUTHORIZED", "message": "Invalid API key"}, "api"),
        (403, {"code": "FORBIDDEN", "message": "no"}, "api"),
        (200, {"id": "acc-1"}, "api"),
        (404, {"code": "NOT_FOUND", "message": "No such path"}, "config"),
        (405, {"message": "Method not allowed"}, "config"),
        (200, ["not", "an", "object"], "config"),
        (503, {"message": "busy"}, "unknown"),
        (429, {"message": "slow down"}, "unknown"),
    ],
)
def test_what_the_probe_of_the_base_concludes(status: int, body: Any, verdict: str) -> None:
    """Only the API answering (even refusing the key) proves the base; no answer proves
    nothing and is asked again."""
    probes: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/me"):
            probes.append(request.url.path)
            return httpx.Response(status, json=body)
        return httpx.Response(404, text="<html>gone</html>", headers={"content-type": "text/html"})

    with Toloka(
        api_key="k",
        base_url="https://api.test/v2",
        transport=httpx.MockTransport(handler),
        max_retries=0,
    ) as client:
        for _ in range(2):
            if verdict == "config":
                with pytest.raises(ConfigurationError):
                    client.runs.get("run-1")
            else:
                with pytest.raises(ApiDriftError):
                    client.runs.get("run-1")
    if verdict == "api":
        assert len(probes) == 1  # the API's verdict is kept
    elif verdict == "config":
        assert len(probes) == 2  # each call is refused after its probe
    else:
        assert len(probes) >= 2  # no verdict: asked again on the next call


@pytest.mark.prism
def test_a_path_prism_does_not_serve_is_configuration(prism_v2: PrismServer) -> None:
    """Prism serving the contract at its root: a base with ``/api/v2-beta`` added is wrong."""
    with (
        Toloka(api_key="k", base_url=f"{prism_v2.url}/api/v2-beta", max_retries=0) as client,
        pytest.raises(ConfigurationError) as info,
    ):
        list(client.projects.list())
    assert info.value.setting == "base_url"
    with Toloka(api_key="k", base_url=prism_v2.url, max_retries=0) as client:
        assert client.me().id  # the right base answers
