"""Pipeline API v2-beta behaviour, in-process."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import httpx
import pytest

from toloka_ext.testing import ManualClock, Sandbox

from .conftest import Api


def _dataset(
    api: Api, rows: Sequence[Mapping[str, object]], fields: list[str] | None = None
) -> str:
    ds = api.v2("POST", "/projects/prj-1/datasets", json={"name": "d"})
    assert ds.status_code == 201
    body: dict[str, object] = {"items": rows}
    if fields is not None:
        body["fields"] = [{"name": f, "jsonSchema": {"type": "string"}} for f in fields]
    r = api.v2("POST", f"/datasets/{ds.json()['id']}/items", json=body)
    assert r.status_code == 200, r.text
    return str(ds.json()["id"])


def _poll(api: Api, path: str, done: set[str], limit: int = 10) -> dict[str, object]:
    for _ in range(limit):
        body: dict[str, object] = api.v2("GET", path).json()
        if body["status"] in done:
            return body
    raise AssertionError(f"{path} never reached {done}")


def test_full_workflow_in_process(api: Api, sandbox: Sandbox) -> None:
    ds = _dataset(api, [{"url": "a", "lang": "en"}, {"url": "b", "lang": "de"}], ["url", "lang"])
    pl = api.v2("POST", "/pipelines/pl-1/copy", json={"name": "batch"}).json()
    assert pl["sourcePipelineId"] == "pl-1"
    assert (
        api.v2("POST", f"/pipelines/{pl['id']}/dataset", json={"datasetId": ds}).status_code == 200
    )
    run = api.v2("POST", f"/pipelines/{pl['id']}/runs", json={}).json()
    assert run["status"] == "pending" and run["progress"]["total"] == 2
    seen = [api.v2("GET", f"/runs/{run['id']}").json() for _ in range(sandbox.run_polls)]
    assert [s["status"] for s in seen] == ["running", "running", "completed"]
    assert [s["progress"]["completed"] for s in seen] == [0, 1, 2]
    exp = api.v2(
        "POST", f"/datasets/{ds}/exports", json={"fields": [{"name": "url"}, {"name": "label"}]}
    )
    assert exp.status_code == 201 and exp.json()["status"] == "pending"
    ready = _poll(api, f"/exports/{exp.json()['id']}", {"ready"})
    rows = [json.loads(line) for line in api.http.get(str(ready["downloadUrl"])).text.splitlines()]
    assert [r["url"] for r in rows] == ["a", "b"]
    assert all(r["label"] in sandbox.labels for r in rows)
    assert ready["itemCount"] == 2


def test_rows_without_declaration_go_to_uploaded(api: Api, sandbox: Sandbox) -> None:
    ds = _dataset(api, [{"x": 1, "y": [2]}])
    fields = api.v2("GET", f"/datasets/{ds}/fields").json()["fields"]
    assert [f["name"] for f in fields] == ["uploaded"]
    assert sandbox.dataset_rows(ds) == [{"uploaded": {"x": 1, "y": [2]}}]


def test_undeclared_key_is_named(api: Api) -> None:
    ds = _dataset(api, [{"url": "a"}], ["url"])
    r = api.v2("POST", f"/datasets/{ds}/items", json={"items": [{"url": "b"}, {"colour": "red"}]})
    assert r.status_code == 400
    assert "colour" in r.json()["message"] and "items[1]" in r.json()["message"]
    assert r.json()["code"] == "VALIDATION_ERROR" and r.json()["requestId"]
    assert api.v2("GET", "/projects/prj-1/datasets").json()["datasets"][0]["itemCount"] == 1


def test_new_field_after_data_conflicts(api: Api) -> None:
    ds = _dataset(api, [{"url": "a"}], ["url"])
    r = api.v2(
        "POST", f"/datasets/{ds}/items", json={"fields": [{"name": "new"}], "items": [{"new": 1}]}
    )
    assert r.status_code == 409


def test_inline_limit_is_2_mb(api: Api) -> None:
    ds = _dataset(api, [{"url": "a"}], ["url"])
    big = {"items": [{"url": "x" * 1000} for _ in range(2200)]}
    r = api.v2("POST", f"/datasets/{ds}/items", json=big)
    assert r.status_code == 413 and r.json()["code"] == "PAYLOAD_TOO_LARGE"
    small = {"items": [{"url": "x" * 1000} for _ in range(2000)]}
    assert api.v2("POST", f"/datasets/{ds}/items", json=small).status_code == 200


def test_upload_flow_and_storage_rules(api: Api, clock: ManualClock) -> None:
    ds = _dataset(api, [{"url": "a"}], ["url"])
    up = api.v2("POST", f"/datasets/{ds}/uploads", json={}).json()
    assert up["status"] == "pending" and up["uploadMethod"] == "PUT"
    url = httpx.URL(up["uploadUrl"])
    assert url.host != httpx.URL(api.v2_url).host and "token" in url.params
    data = json.dumps([{"url": "b"}, {"url": "c"}]).encode()
    denied = api.http.put(url, content=data, headers=api.h2)
    assert denied.status_code == 403 and b"AccessDenied" in denied.content
    wrong = api.http.put(url.copy_set_param("token", "guess"), content=data)
    assert wrong.status_code == 403
    assert api.http.put(url, content=data).status_code == 200
    assert api.http.put(url, content=data).status_code == 403  # one-time
    assert api.v2("POST", f"/uploads/{up['id']}/finalize").json()["status"] == "processing"
    assert api.v2("POST", f"/uploads/{up['id']}/finalize").status_code == 409
    done = _poll(api, f"/uploads/{up['id']}", {"succeeded", "failed"})
    assert done == {"id": up["id"], "datasetId": ds, "status": "succeeded", "itemCount": 2}
    # an expired URL is refused
    up2 = api.v2("POST", f"/datasets/{ds}/uploads").json()
    clock.advance(3601)
    assert api.http.put(up2["uploadUrl"], content=data).status_code == 403


def test_failed_upload_names_the_row(api: Api) -> None:
    ds = _dataset(api, [{"url": "a"}], ["url"])
    up = api.v2("POST", f"/datasets/{ds}/uploads").json()
    api.http.put(up["uploadUrl"], content=b'[{"url": "b"}, "oops"]')
    api.v2("POST", f"/uploads/{up['id']}/finalize")
    done = _poll(api, f"/uploads/{up['id']}", {"succeeded", "failed"})
    assert done["status"] == "failed"
    assert "Row 2" in done["error"]["message"]  # type: ignore[index]


def test_finalize_without_bytes_conflicts(api: Api) -> None:
    ds = _dataset(api, [{"url": "a"}], ["url"])
    up = api.v2("POST", f"/datasets/{ds}/uploads").json()
    assert api.v2("POST", f"/uploads/{up['id']}/finalize").status_code == 409


def test_pagination(api: Api) -> None:
    for i in range(5):
        api.v2("POST", "/projects", json={"name": f"p{i}"})
    page = api.v2("GET", "/projects", params={"limit": 2, "offset": 3}).json()
    assert page["pagination"] == {"total": 6, "limit": 2, "offset": 3}
    assert [p["name"] for p in page["projects"]] == ["p2", "p3"]
    assert api.v2("GET", "/projects", params={"limit": 0}).status_code == 400
    assert api.v2("GET", "/projects", params={"offset": "x"}).status_code == 400


def test_pipeline_export_reimports(api: Api) -> None:
    raw = api.v2("GET", "/pipelines/pl-1/export")
    assert raw.status_code == 200 and raw.headers["content-type"] == "application/octet-stream"
    r = api.v2(
        "POST", "/projects/prj-1/pipelines/import", files={"file": ("x.pipeline", raw.content)}
    )
    assert r.status_code == 201 and r.json()["name"] == "Annotate items"
    again = api.v2("GET", f"/pipelines/{r.json()['id']}/export")
    assert json.loads(again.content)["graph"] == json.loads(raw.content)["graph"]
    assert api.v2("POST", "/projects/prj-1/pipelines/import", data={"name": "x"}).status_code == 400
    names = [p["id"] for p in api.v2("GET", "/projects/prj-1/pipelines").json()["pipelines"]]
    assert names == ["pl-1", r.json()["id"]]


ROWS = [
    {"url": "a", "lang": "en"},
    {"url": "b", "lang": "de"},
    {"url": "c", "lang": "en"},
    {"url": "d"},
]


@pytest.mark.parametrize(
    ("item_filter", "limit", "expected"),
    [
        ({"conditions": [{"field": "lang", "operator": "eq", "value": "en"}]}, None, 2),
        ({"conditions": [{"field": "lang", "operator": "ne", "value": "en"}]}, None, 2),
        ({"conditions": [{"field": "lang", "operator": "in", "value": ["en", "de"]}]}, None, 3),
        ({"conditions": [{"field": "lang", "operator": "not_in", "value": ["en"]}]}, None, 2),
        ({"conditions": [{"field": "url", "operator": "contains", "value": "c"}]}, None, 1),
        ({"conditions": [{"field": "lang", "operator": "exists"}]}, None, 3),
        (
            {
                "match": "any",
                "conditions": [
                    {"field": "lang", "operator": "eq", "value": "de"},
                    {"field": "url", "operator": "eq", "value": "d"},
                ],
            },
            None,
            2,
        ),
        (None, 3, 3),
        ({"conditions": [{"field": "lang", "operator": "eq", "value": "en"}]}, 1, 1),
    ],
    ids=["eq", "ne", "in", "not_in", "contains", "exists", "any", "limit", "filter+limit"],
)
def test_attach_filter_and_limit(
    api: Api, item_filter: dict[str, object] | None, limit: int | None, expected: int
) -> None:
    ds = _dataset(api, ROWS, ["url", "lang"])
    body: dict[str, object] = {"datasetId": ds}
    if item_filter:
        body["itemFilter"] = item_filter
    if limit:
        body["itemLimit"] = limit
    att = api.v2("POST", "/pipelines/pl-1/dataset", json=body)
    assert att.status_code == 200 and att.json()["datasetId"] == ds
    assert api.v2("POST", "/pipelines/pl-1/runs").json()["progress"]["total"] == expected


def test_attach_unknown_filter_field_lists_fields(api: Api) -> None:
    ds = _dataset(api, ROWS, ["url", "lang"])
    cond = {"field": "colour", "operator": "eq", "value": 1}
    r = api.v2(
        "POST",
        "/pipelines/pl-1/dataset",
        json={"datasetId": ds, "itemFilter": {"conditions": [cond]}},
    )
    assert r.status_code == 400 and "url" in r.json()["message"] and "colour" in r.json()["message"]


def test_run_snapshots_dataset_and_fails_by_rule(clock: ManualClock) -> None:
    sandbox = Sandbox(clock=clock, fail_items_where={"lang": "de"}, step_seconds=10, run_polls=2)
    with sandbox.http_client() as http:
        api = Api(
            http, sandbox.v2_base_url, sandbox.v1_base_url, sandbox.api_key, sandbox.oauth_token
        )
        ds = _dataset(api, ROWS[:2], ["url", "lang"])
        api.v2("POST", "/pipelines/pl-1/dataset", json={"datasetId": ds})
        run = api.v2("POST", "/pipelines/pl-1/runs").json()
        api.v2("POST", f"/datasets/{ds}/items", json={"items": [{"url": "late"}]})
        clock.advance(20)  # two clock steps: done without polling
        listed = api.v2("GET", "/pipelines/pl-1/runs").json()["runs"]
        assert listed[0]["status"] == "completed"
        assert listed[0]["progress"] == {"total": 2, "completed": 1, "failed": 1}
        rows = sandbox.dataset_rows(ds)
        assert "label" in rows[0] and "label" not in rows[1] and "label" not in rows[2]
        assert run["id"] == listed[0]["id"]


def test_run_of_all_failing_items_fails(clock: ManualClock) -> None:
    sandbox = Sandbox(clock=clock, fail_items_where={"lang": "de"}, run_polls=1)
    with sandbox.http_client() as http:
        api = Api(
            http, sandbox.v2_base_url, sandbox.v1_base_url, sandbox.api_key, sandbox.oauth_token
        )
        ds = _dataset(api, [ROWS[1]], ["url", "lang"])
        api.v2("POST", "/pipelines/pl-1/dataset", json={"datasetId": ds})
        run = api.v2("POST", "/pipelines/pl-1/runs").json()
        got = api.v2("GET", f"/runs/{run['id']}").json()
        assert got["status"] == "failed" and "1 items failed" in got["error"]["message"]


def test_labeller_is_deterministic(clock: ManualClock) -> None:
    labels = []
    for _ in range(2):
        sandbox = Sandbox(clock=ManualClock(), run_polls=1, seed=7)
        with sandbox.http_client() as http:
            api = Api(
                http, sandbox.v2_base_url, sandbox.v1_base_url, sandbox.api_key, sandbox.oauth_token
            )
            ds = _dataset(api, [{"url": str(i)} for i in range(20)], ["url"])
            api.v2("POST", "/pipelines/pl-1/dataset", json={"datasetId": ds})
            api.v2("GET", f"/runs/{api.v2('POST', '/pipelines/pl-1/runs').json()['id']}")
            labels.append([r["label"] for r in sandbox.dataset_rows(ds)])
    assert labels[0] == labels[1] and set(labels[0]) == {"yes", "no"}


def test_start_run_needs_dataset_and_verified_account(api: Api) -> None:
    assert api.v2("POST", "/pipelines/pl-1/runs").status_code == 409
    sandbox = Sandbox(verified=False)
    with sandbox.http_client() as http:
        other = Api(
            http, sandbox.v2_base_url, sandbox.v1_base_url, sandbox.api_key, sandbox.oauth_token
        )
        ds = _dataset(other, [{"u": 1}])
        other.v2("POST", "/pipelines/pl-1/dataset", json={"datasetId": ds})
        assert other.v2("POST", "/pipelines/pl-1/runs").status_code == 403


def test_export_unknown_field_lists_existing(api: Api) -> None:
    ds = _dataset(api, [{"url": "a"}], ["url"])
    fid = api.v2("GET", f"/datasets/{ds}/fields").json()["fields"][0]["id"]
    r = api.v2("POST", f"/datasets/{ds}/exports", json={"fields": [{"id": fid}, {"name": "nope"}]})
    assert r.status_code == 400 and "nope" in r.json()["message"] and "url" in r.json()["message"]
    ok = api.v2("POST", f"/datasets/{ds}/exports", json={"fields": [{"id": fid}], "format": "csv"})
    ready = _poll(api, f"/exports/{ok.json()['id']}", {"ready"})
    assert api.http.get(str(ready["downloadUrl"])).text.splitlines() == ["url", "a"]
    assert api.http.get(str(ready["downloadUrl"]), headers=api.h2).status_code == 403


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "ApiKey wrong"}, 401),
        ({"Authorization": "OAuth sandbox-token"}, 403),
    ],
    ids=["missing", "wrong-key", "oauth-on-v2"],
)
def test_v2_auth(sandbox: Sandbox, headers: dict[str, str], status: int) -> None:
    with sandbox.http_client() as http:
        r = http.get(f"{sandbox.v2_base_url}/projects", headers=headers)
    assert r.status_code == status and set(r.json()) >= {"message", "code", "requestId"}


def test_error_bodies_not_stack_traces(api: Api) -> None:
    bad_json = api.v2(
        "POST", "/projects", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 400 and "Malformed JSON" in bad_json.json()["message"]
    wrong_type = api.v2("POST", "/projects", json={"name": 5})
    assert wrong_type.status_code == 400 and "name" in wrong_type.json()["message"]
    assert api.v2("GET", "/nowhere").status_code == 404
    assert api.v2("GET", "/runs/run-404").json()["code"] == "NOT_FOUND"
    r = api.v2("DELETE", "/projects")
    assert r.status_code == 405 and "GET" in r.headers["allow"]
    assert (
        api.http.get(api.v2_url.replace("/api/v2-beta", "/elsewhere"), headers=api.h2).status_code
        == 404
    )


@pytest.mark.anyio
async def test_async_client(sandbox: Sandbox) -> None:
    async with sandbox.async_http_client() as http:
        r = await http.get(f"{sandbox.v2_base_url}/me", headers=sandbox.auth_headers())
    assert r.status_code == 200 and r.json()["id"]


@pytest.mark.parametrize(
    ("create", "listing", "key"),
    [
        ("/projects/prj-1/datasets", "/projects/prj-1/datasets", "datasets"),
        ("/pipelines/pl-1/copy", "/projects/prj-1/pipelines", "pipelines"),
        ("/pipelines/pl-1/runs", "/pipelines/pl-1/runs", "runs"),
    ],
)
def test_every_list_is_paginated(api: Api, create: str, listing: str, key: str) -> None:
    if key == "runs":
        api.v2("POST", "/pipelines/pl-1/dataset", json={"datasetId": _dataset(api, [{"a": 1}])})
    created = [api.v2("POST", create, json={"name": f"n{i}"}).json()["id"] for i in range(3)]
    everything = api.v2("GET", listing).json()
    total = everything["pagination"]["total"]
    assert [o["id"] for o in everything[key]][-3:] == created
    page = api.v2("GET", listing, params={"limit": 1, "offset": total - 2}).json()
    assert [o["id"] for o in page[key]] == [created[1]]
    assert page["pagination"] == {"total": total, "limit": 1, "offset": total - 2}
    assert api.v2("GET", listing, params={"limit": 101}).status_code == 400
