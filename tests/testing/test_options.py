"""Options: small pages, projects and pipelines set up by hand, v1 pool input specs,
configure(), and the client helpers' arguments."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

import toloka_ext
from toloka_ext.testing import ManualClock, Sandbox, SandboxConfig, SandboxServer

from .conftest import Api


def _api(sb: Sandbox, http: httpx.Client) -> Api:
    return Api(http, sb.v2_base_url, sb.v1_base_url, sb.api_key, sb.oauth_token)


# -- max_page_size -------------------------------------------------------------------------


def test_small_pages_make_callers_follow_pagination(clock: ManualClock) -> None:
    sb = Sandbox(clock=clock, max_page_size=2)
    for i in range(2, 6):
        sb.add_project(f"P{i}")
    with sb.http_client() as http:
        api = _api(sb, http)
        first = api.v2("GET", "/projects", params={"limit": 20}).json()
        assert [p["id"] for p in first["projects"]] == ["prj-1", "prj-2"]
        assert first["pagination"] == {"total": 5, "limit": 2, "offset": 0}
        seen, offset = [], 0
        while offset < first["pagination"]["total"]:
            page = api.v2("GET", "/projects", params={"offset": offset}).json()
            seen += [p["id"] for p in page["projects"]]
            offset += len(page["projects"])
        assert seen == [f"prj-{i}" for i in range(1, 6)]
        assert len(api.v2("GET", "/projects", params={"limit": 1}).json()["projects"]) == 1
        assert api.v2("GET", "/projects", params={"limit": 101}).status_code == 400  # contract


def test_max_page_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_page_size"):
        Sandbox(max_page_size=0)


# -- projects and pipelines by hand --------------------------------------------------------


def test_add_project_and_pipeline(clock: ManualClock) -> None:
    sb = Sandbox(clock=clock, max_page_size=2)
    assert sb.add_project("Other") == "prj-2"
    third = sb.add_project("Third", project_id="prj-3")
    sb.add_pipeline("pl-1", name="Annotate signs", project_id=third)  # moved to page 2
    extra = sb.add_pipeline(project_id="prj-2")
    with sb.http_client() as http:
        api = _api(sb, http)
        assert api.v2("GET", "/projects/prj-1/pipelines").json()["pipelines"] == []
        (moved,) = api.v2("GET", "/projects/prj-3/pipelines").json()["pipelines"]
        assert (moved["id"], moved["name"]) == ("pl-1", "Annotate signs")
        assert api.v2("GET", "/projects/prj-2/pipelines").json()["pipelines"][0]["id"] == extra
        assert api.v2("POST", "/projects", json={"name": "n"}).json()["id"] == "prj-4"
        copy = api.v2("POST", "/pipelines/pl-1/copy", json={}).json()
        assert copy["projectId"] == "prj-3" and copy["id"] not in ("pl-1", extra)
    with pytest.raises(KeyError, match="prj-9"):
        sb.add_pipeline(project_id="prj-9")


# -- configure -----------------------------------------------------------------------------


def test_configure_swaps_the_immutable_config(sandbox: Sandbox) -> None:
    before = sandbox.config
    sandbox.configure(operation_polls=4, labels=["a"])
    assert isinstance(sandbox.config, SandboxConfig) and sandbox.config is not before
    assert (sandbox.operation_polls, sandbox.labels) == (4, ("a",))
    assert before.operation_polls == 2  # a handler holding the old config saw no change
    with pytest.raises(AttributeError, match="configure"):
        sandbox.run_polls = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        sandbox.configure(no_such_option=1)
    with pytest.raises(ValueError, match="storage_base"):
        sandbox.configure(storage_base=sandbox.api_base)
    with sandbox.http_client() as http:
        api = _api(sandbox, http)
        tasks = [{"pool_id": "pool-1", "input_values": {}, "overlap": 1}]
        op = api.v1("POST", "/tasks", json=tasks, params={"async_mode": "true"}).json()
        statuses = [api.v1("GET", f"/operations/{op['id']}").json()["status"] for _ in range(4)]
    assert statuses == ["RUNNING", "RUNNING", "RUNNING", "SUCCESS"]


def test_the_config_is_a_read_only_copy(clock: ManualClock) -> None:
    rule = {"lang": "de"}
    pools = {"p": {"default_overlap": 1, "input_spec": {"n": "integer"}}}
    sb = Sandbox(clock=clock, fail_items_where=rule, v1_pools=pools)
    rule["lang"] = "en"
    pools["p"]["input_spec"]["n"] = "string"
    assert sb.fail_items_where == {"lang": "de"}
    assert sb.config.v1_pools["p"]["input_spec"] == {"n": "integer"}
    with pytest.raises(TypeError):
        sb.config.fail_items_where["x"] = 1  # type: ignore[index]
    with pytest.raises(AttributeError):
        sb.config.seed = 3  # type: ignore[misc]


# -- v1 pool input specs -------------------------------------------------------------------

SPEC = {"image": "string", "n": "integer", "w": "number", "ok": "boolean", "meta": "any"}
GOOD = {"image": "a.jpg", "n": 1, "w": 0.5, "ok": True, "meta": "anything"}


def _task(**values: Any) -> dict[str, Any]:
    return {"pool_id": "spec", "input_values": {**GOOD, **values}, "overlap": 1}


@pytest.fixture
def spec_sandbox(clock: ManualClock) -> Sandbox:
    sb = Sandbox(clock=clock)
    sb.add_pool("spec", input_spec=SPEC)
    return sb


def test_a_task_matching_the_spec_is_created(spec_sandbox: Sandbox) -> None:
    with spec_sandbox.http_client() as http:
        r = _api(spec_sandbox, http).v1("POST", "/tasks", json=_task(meta={"x": [1]}, w=2))
    assert r.status_code == 201 and r.json()["input_values"]["meta"] == {"x": [1]}
    assert spec_sandbox.pool("spec")["input_spec"] == SPEC  # type: ignore[index]


@pytest.mark.parametrize(
    ("task", "field", "code"),
    [
        (_task(bad=1), "input_values.bad", "VALUE_NOT_ALLOWED"),
        (_task(n="1"), "input_values.n", "INVALID_TYPE"),
        (_task(n=True), "input_values.n", "INVALID_TYPE"),
        (_task(ok=1), "input_values.ok", "INVALID_TYPE"),
        (_task(image=None), "input_values.image", "VALUE_REQUIRED"),
        (
            {"pool_id": "spec", "input_values": {"image": "a"}, "overlap": 1},
            "input_values.n",
            "VALUE_REQUIRED",
        ),
    ],
    ids=[
        "unknown-key",
        "string-for-integer",
        "bool-for-integer",
        "int-for-bool",
        "null",
        "missing",
    ],
)
def test_spec_errors_in_sync_mode(
    spec_sandbox: Sandbox, task: dict[str, Any], field: str, code: str
) -> None:
    with spec_sandbox.http_client() as http:
        api = _api(spec_sandbox, http)
        single = api.v1("POST", "/tasks", json=task)
        batch = api.v1("POST", "/tasks", json=[_task(), task])
        skipped = api.v1(
            "POST", "/tasks", json=[_task(), task], params={"skip_invalid_items": "true"}
        )
    assert single.status_code == 400 and single.json()["code"] == "VALIDATION_ERROR"
    assert single.json()["payload"][field]["code"] == code
    assert batch.status_code == 400 and batch.json()["payload"]["1"][field]["code"] == code
    assert skipped.status_code == 201
    assert list(skipped.json()["items"]) == ["0"]
    assert skipped.json()["validation_errors"]["1"][field]["code"] == code
    assert len(spec_sandbox.tasks()) == 1  # only the valid task of the skipping batch


@pytest.mark.parametrize("skip", [True, False])
def test_spec_errors_in_async_mode(spec_sandbox: Sandbox, skip: bool) -> None:
    params = {"async_mode": "true", "skip_invalid_items": str(skip).lower()}
    with spec_sandbox.http_client() as http:
        api = _api(spec_sandbox, http)
        tasks = [_task(), _task(bad=1), _task(n="x")]
        op = api.v1("POST", "/tasks", json=tasks, params=params).json()
        final = [api.v1("GET", f"/operations/{op['id']}").json() for _ in range(2)][-1]
        log = api.v1("GET", f"/operations/{op['id']}/log").json()
    invalid = [e for e in log if e["type"] == "TASK_VALIDATE"]
    assert [e["success"] for e in invalid] == [False, False]
    assert invalid[0]["output"]["input_values.bad"]["code"] == "VALUE_NOT_ALLOWED"
    assert invalid[1]["output"]["input_values.n"]["code"] == "INVALID_TYPE"
    assert final["status"] == ("SUCCESS" if skip else "FAIL")
    assert len(spec_sandbox.tasks()) == (1 if skip else 0)


def test_input_spec_through_v1_pools_and_checked(clock: ManualClock) -> None:
    sb = Sandbox(
        clock=clock, v1_pools={"42": {"default_overlap": 1, "input_spec": {"n": "integer"}}}
    )
    with sb.http_client() as http:
        api = _api(sb, http)
        ok = api.v1("POST", "/tasks", json={"pool_id": "42", "input_values": {"n": 1}})
        bad = api.v1("POST", "/tasks", json={"pool_id": "42", "input_values": {"n": 1, "bad": 1}})
    assert ok.status_code == 201
    assert bad.json()["payload"]["input_values.bad"]["code"] == "VALUE_NOT_ALLOWED"
    with pytest.raises(ValueError, match="unknown type 'str'"):
        Sandbox(v1_pools={"x": {"input_spec": {"n": "str"}}})
    with pytest.raises(ValueError, match="unknown type"):
        sb.add_pool("y", input_spec={"n": "date"})
    with pytest.raises(ValueError, match="unknown keys"):
        Sandbox(v1_pools={"x": {"input_specs": {}}})


def test_pools_without_a_spec_accept_any_input_values(sandbox: Sandbox) -> None:
    with sandbox.http_client() as http:
        r = _api(sandbox, http).v1(
            "POST", "/tasks", json={"pool_id": "pool-1", "input_values": {"x": [1]}, "overlap": 1}
        )
    assert r.status_code == 201


# -- client helpers ------------------------------------------------------------------------


class _FakeClient:
    """Stands in for toloka_ext.Toloka / AsyncToloka: records how it was built."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


def test_client_helpers_pass_the_sandbox_and_take_overrides(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(toloka_ext, "Toloka", _FakeClient, raising=False)
    monkeypatch.setattr(toloka_ext, "AsyncToloka", _FakeClient, raising=False)
    sync: Any = sandbox.client(max_retries=0)
    assert set(sync.kwargs) == {
        "api_key",
        "base_url",
        "v1_base_url",
        "transport",
        "sleep",
        "clock",
        "max_retries",
    }
    assert sync.kwargs["api_key"] == "sandbox-key"
    assert sync.kwargs["base_url"] == sandbox.v2_base_url
    assert sync.kwargs["v1_base_url"] == sandbox.v1_base_url
    assert sync.kwargs["transport"].sandbox is sandbox and sync.kwargs["max_retries"] == 0
    assert sync.kwargs["sleep"](5) is None
    asynchronous: Any = sandbox.async_client(api_key="other")
    assert asynchronous.kwargs["api_key"] == "other"
    sleep = asynchronous.kwargs["sleep"](5)
    assert hasattr(sleep, "__await__")
    sleep.close()  # never awaited: only its kind matters here
    with httpx.Client() as http:
        own: Any = sandbox.client(http_client=http)
    assert "transport" not in own.kwargs  # the clients take one or the other


def test_server_client_helpers_use_real_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(toloka_ext, "Toloka", _FakeClient, raising=False)
    monkeypatch.setattr(toloka_ext, "AsyncToloka", _FakeClient, raising=False)
    server = SandboxServer(port=1234)  # never started: the helpers only read its URLs
    client: Any = server.client()
    assert client.kwargs["base_url"] == "http://127.0.0.1:1234/api/v2-beta"
    assert client.kwargs["v1_base_url"] == "http://127.0.0.1:1234/api/v1"
    assert "transport" not in client.kwargs and client.kwargs["api_key"] == "sandbox-key"
    assert server.async_client(sleep=None).kwargs["sleep"] is None


def test_unknown_operation_ids_stay_distinct(sandbox: Sandbox) -> None:
    # operation ids drawn from the runtime's seeded rng: distinct, valid UUIDs
    with sandbox.http_client() as http:
        api = _api(sandbox, http)
        ids = [
            api.v1("POST", "/tasks", json=[], params={"async_mode": "true"}).json()["id"]
            for _ in range(3)
        ]
    assert len(set(ids)) == 3 and all(uuid.UUID(i).version == 4 for i in ids)
