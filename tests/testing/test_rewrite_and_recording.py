"""``rewrite=`` (answers changed on the way out, for drift tests) and ``record_requests=``."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import httpx
import pytest

from toloka_ext.testing import ManualClock, RecordedRequest, Sandbox

from .conftest import Api


def _api(sb: Sandbox, http: httpx.Client) -> Api:
    return Api(http, sb.v2_base_url, sb.v1_base_url, sb.api_key, sb.oauth_token)


# -- rewrite -------------------------------------------------------------------------------


def test_rewrite_drops_renames_and_invents(clock: ManualClock) -> None:
    seen: list[str] = []

    def drift(op: str, body: Any) -> Any:
        seen.append(op)
        if op == "listDatasets":
            for ds in body["datasets"]:
                del ds["itemCount"]
        if op == "createDataset":
            body["title"] = body.pop("name")
        if op == "getRun":
            body["status"] = "paused_for_review"
            body["brandNew"] = {"x": 1}
        return body

    sb = Sandbox(clock=clock, rewrite=drift, run_polls=1)
    with sb.http_client() as http:
        api = _api(sb, http)
        ds = api.v2("POST", "/projects/prj-1/datasets", json={"name": "d"}).json()
        assert ds["title"] == "d" and "name" not in ds
        api.v2("POST", f"/datasets/{ds['id']}/items", json={"items": [{"a": 1}]})
        (listed,) = api.v2("GET", "/projects/prj-1/datasets").json()["datasets"]
        assert listed["name"] == "d" and "itemCount" not in listed
        api.v2("POST", "/pipelines/pl-1/dataset", json={"datasetId": ds["id"]})
        run = api.v2("POST", "/pipelines/pl-1/runs").json()
        got = api.v2("GET", f"/runs/{run['id']}").json()
        assert got["status"] == "paused_for_review" and got["brandNew"] == {"x": 1}
    # the state is untouched: only the answers changed
    (stored,) = sb.backend.all("dataset")
    assert stored["name"] == "d" and stored["itemCount"] == 1
    assert sb.backend.get("run", run["id"])["status"] == "completed"  # type: ignore[index]
    assert seen == [
        "createDataset",
        "addDatasetItems",
        "listDatasets",
        "attachDataset",
        "startRun",
        "getRun",
    ]


def test_rewrite_gets_a_copy_it_may_change_in_place(sandbox: Sandbox) -> None:
    def vandal(op: str, body: Any) -> Any:
        if op == "getRun":
            body["progress"].clear()
        return body

    sandbox.configure(run_polls=5)
    sandbox.rewrite = vandal  # settable at any time
    with sandbox.http_client() as http:
        api = _api(sandbox, http)
        ds = api.v2("POST", "/projects/prj-1/datasets", json={"name": "d"}).json()["id"]
        api.v2("POST", f"/datasets/{ds}/items", json={"items": [{"a": 1}, {"a": 2}]})
        api.v2("POST", "/pipelines/pl-1/dataset", json={"datasetId": ds})
        run = api.v2("POST", "/pipelines/pl-1/runs").json()
        assert api.v2("GET", f"/runs/{run['id']}").json()["progress"] == {}
        sandbox.rewrite = None
        assert api.v2("GET", f"/runs/{run['id']}").json()["progress"]["total"] == 2


def test_rewrite_reverses_the_operation_log(sandbox: Sandbox) -> None:
    sandbox.rewrite = lambda op, body: body[::-1] if op == "getOperationLog" else body
    with sandbox.http_client() as http:
        api = _api(sandbox, http)
        tasks = [{"pool_id": "pool-1", "input_values": {"n": i}, "overlap": 1} for i in range(3)]
        op = api.v1("POST", "/tasks", json=tasks, params={"async_mode": "true"}).json()
        for _ in range(2):
            api.v1("GET", f"/operations/{op['id']}")
        log = api.v1("GET", f"/operations/{op['id']}/log").json()
    assert [e["input"]["input_values"]["n"] for e in log] == [2, 1, 0]


def test_rewrite_sees_only_json_2xx_api_answers(sandbox: Sandbox) -> None:
    calls: list[str] = []

    def spy(op: str, body: Any) -> Any:
        calls.append(op)
        return body

    sandbox.rewrite = spy
    with sandbox.http_client() as http:
        api = _api(sandbox, http)
        assert api.v2("GET", "/runs/run-404").status_code == 404  # an error body
        assert api.v2("GET", "/pipelines/pl-1/export").status_code == 200  # octet-stream
        ds = api.v2("POST", "/projects/prj-1/datasets", json={"name": "d"}).json()["id"]
        up = api.v2("POST", f"/datasets/{ds}/uploads").json()
        assert http.put(up["uploadUrl"], content=b"[]").status_code == 200  # storage
    assert calls == ["createDataset", "createUpload"]


# -- recorded requests ---------------------------------------------------------------------


def test_requests_are_not_recorded_by_default(sandbox: Sandbox) -> None:
    with sandbox.http_client() as http:
        http.get(f"{sandbox.v2_base_url}/me", headers=sandbox.auth_headers())
    assert sandbox.requests == []
    with pytest.raises(RuntimeError, match="record_requests=True"):
        sandbox.requests_for("getMe")


def test_requests_are_recorded_in_arrival_order(clock: ManualClock) -> None:
    sb = Sandbox(clock=clock, record_requests=True)
    op_id = str(uuid.uuid4())
    with sb.http_client() as http:
        api = _api(sb, http)
        ds = api.v2("POST", "/projects/prj-1/datasets", json={"name": "d"}).json()["id"]
        up = api.v2("POST", f"/datasets/{ds}/uploads").json()
        http.put(up["uploadUrl"], content=b'[{"a": 1}]', headers={"Authorization": "ApiKey leak"})
        http.put(up["uploadUrl"], content=b'[{"a": 1}]')
        api.v2("GET", "/nowhere")
        api.v1(
            "POST",
            "/tasks",
            json=[{"pool_id": "pool-1", "input_values": {}, "overlap": 1}],
            params=[("async_mode", "false"), ("async_mode", "true"), ("operation_id", op_id)],
        )
    assert [r.operation for r in sb.requests] == [
        "createDataset",
        "createUpload",
        "storagePut",
        "storagePut",
        None,
        "createTasks",
    ]
    first = sb.requests[0]
    assert (first.method, first.path) == ("POST", "/api/v2-beta/projects/prj-1/datasets")
    assert first.url == f"{sb.v2_base_url}/projects/prj-1/datasets"
    assert first.json() == {"name": "d"} and first.body == b'{"name":"d"}'
    assert first.headers["Authorization"] == "[REDACTED]"
    assert first.headers["content-type"] == "application/json"
    assert "sandbox-key" not in repr(first)
    leaked, clean = sb.requests_for("storagePut")
    assert "authorization" in leaked.headers and leaked.headers["AUTHORIZATION"] == "[REDACTED]"
    assert "Authorization" not in clean.headers and clean.body == b'[{"a": 1}]'
    assert clean.params["token"] and clean.url == up["uploadUrl"]
    (post,) = sb.requests_for("createTasks")
    assert post.params == {"async_mode": "true", "operation_id": op_id}  # the last value wins
    assert post.json()[0]["pool_id"] == "pool-1"


def test_records_are_immutable(clock: ManualClock) -> None:
    sb = Sandbox(clock=clock, record_requests=True)
    with sb.http_client() as http:
        http.get(f"{sb.v2_base_url}/projects", params={"limit": "3"}, headers=sb.auth_headers())
    (record,) = sb.requests
    assert isinstance(record, RecordedRequest)
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.method = "POST"  # type: ignore[misc]
    with pytest.raises(TypeError):
        record.params["limit"] = "4"  # type: ignore[index]
    with pytest.raises(TypeError):
        record.headers["x"] = "y"  # type: ignore[index]
    assert dict(record.params) == {"limit": "3"}


def test_the_timeout_of_each_request_is_recorded_in_process(clock: ManualClock) -> None:
    sb = Sandbox(clock=clock, record_requests=True)
    with sb.http_client(timeout=httpx.Timeout(7.0, connect=2.0)) as http:
        http.get(f"{sb.v2_base_url}/me", headers=sb.auth_headers())
        http.get(f"{sb.v2_base_url}/me", headers=sb.auth_headers(), timeout=1.5)
    default, per_call = (r.timeout for r in sb.requests_for("getMe"))
    assert default == {"connect": 2.0, "read": 7.0, "write": 7.0, "pool": 7.0}
    assert per_call == {"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5}


def test_recording_can_be_cleared_switched_and_reset(clock: ManualClock) -> None:
    sb = Sandbox(clock=clock, record_requests=True)
    with sb.http_client() as http:

        def me() -> None:
            http.get(f"{sb.v2_base_url}/me", headers=sb.auth_headers())

        me()
        sb.requests.clear()
        me()
        assert len(sb.requests) == 1
        sb.record_requests = False
        me()
        assert len(sb.requests_for("getMe")) == 1
        sb.record_requests = True
        sb.reset()
        assert sb.requests == []
        me()
    assert [r.operation for r in sb.requests] == ["getMe"]
